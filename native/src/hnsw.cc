#include "hnsw.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>


namespace ecom {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Visited marks with an epoch per thread, so a search never clears a 100k-entry array.
struct Visited {
  std::vector<uint32_t> marks;
  uint32_t epoch = 0;
  void Begin(size_t n) {
    if (marks.size() < n) marks.resize(n + n / 4 + 64, 0);
    if (++epoch == 0) {
      std::fill(marks.begin(), marks.end(), 0);
      epoch = 1;
    }
  }
  bool TestAndSet(uint32_t id) {
    if (marks[id] == epoch) return true;
    marks[id] = epoch;
    return false;
  }
};
thread_local Visited t_visited;

struct Near {  // min-heap order on distance
  template <class C>
  bool operator()(const C& a, const C& b) const { return a.dist > b.dist; }
};
struct Far {  // max-heap order on distance
  template <class C>
  bool operator()(const C& a, const C& b) const { return a.dist < b.dist; }
};

}  // namespace

Hnsw::Hnsw(uint32_t dim, Space space, uint32_t m, uint32_t ef_construction, uint64_t seed)
    : dim_(dim), space_(space), m_(m), m0_(2 * m), ef_construction_(ef_construction), seed_(seed),
      ml_(1.0 / std::log(static_cast<double>(std::max<uint32_t>(m, 2)))) {}

void Hnsw::Reserve(size_t n) {
  size_t need = count_.load() + n;
  if (need <= capacity_) return;
  size_t cap = std::max(need, capacity_ + capacity_ / 2);
  data_.resize(cap * dim_);
  links0_.resize(cap * (m0_ + 1), 0);
  upper_.resize(cap);
  labels_.resize(cap, 0);
  levels_.resize(cap, 0);
  auto del = std::make_unique<std::atomic<uint8_t>[]>(cap);
  for (size_t i = 0; i < cap; i++) del[i].store(i < capacity_ ? deleted_[i].load() : 0);
  deleted_ = std::move(del);
  node_locks_ = std::make_unique<std::mutex[]>(cap);
  capacity_ = cap;
}

float Hnsw::Dist(const float* a, const float* b) const {
  const Kernels& k = ActiveKernels();
  if (space_ == Space::kL2) return k.l2sq(a, b, dim_);
  return 1.0f - k.dot(a, b, dim_);
}

uint32_t* Hnsw::Links(uint32_t id, int level) {
  if (level == 0) return Links0(id);
  return upper_[id].data() + static_cast<size_t>(level - 1) * (m_ + 1);
}
const uint32_t* Hnsw::Links(uint32_t id, int level) const {
  if (level == 0) return Links0(id);
  return upper_[id].data() + static_cast<size_t>(level - 1) * (m_ + 1);
}

int Hnsw::RandomLevel(uint32_t id) const {
  // Derived from (seed, id) rather than a shared generator: levels do not depend on thread timing.
  uint64_t z = SplitMix64(seed_ ^ (static_cast<uint64_t>(id) * 0xD1B54A32D192ED03ull));
  double u = (static_cast<double>(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  int level = static_cast<int>(std::floor(-std::log(u) * ml_));
  return std::min(level, 32);
}

bool Hnsw::Has(uint32_t label) const {
  std::lock_guard<std::mutex> g(label_mutex_);
  return label_to_id_.count(label) != 0;
}

bool Hnsw::IsDeleted(uint32_t label) const {
  std::lock_guard<std::mutex> g(label_mutex_);
  auto it = label_to_id_.find(label);
  return it != label_to_id_.end() && deleted_[it->second].load() != 0;
}

HnswError Hnsw::Add(uint32_t label, const float* vec, bool replace_deleted) {
  uint32_t id;
  bool replacing = false;
  {
    std::lock_guard<std::mutex> g(label_mutex_);
    if (label_to_id_.count(label) != 0) return {"ECOM_ERR_NATIVE_DUPLICATE_ID", "id " + std::to_string(label) + " is already in the index"};
    if (replace_deleted && !free_ids_.empty()) {
      id = free_ids_.back();
      free_ids_.pop_back();
      label_to_id_.erase(labels_[id]);
      replacing = true;
    } else {
      id = count_.load();
      if (id >= capacity_) return {"ECOM_ERR_INTERNAL", "index storage was not reserved"};
      count_.store(id + 1);
    }
    label_to_id_[label] = id;
    labels_[id] = label;
  }
  float* dst = VecOf(id);
  std::memcpy(dst, vec, sizeof(float) * dim_);
  if (space_ == Space::kCosine) {
    float norm = std::sqrt(ActiveKernels().dot(dst, dst, dim_));
    if (norm > 0) for (uint32_t i = 0; i < dim_; i++) dst[i] /= norm;
  }
  if (replacing) {
    Insert(id, levels_[id], dst);
    deleted_[id].store(0);
    deleted_count_.fetch_sub(1);
  } else {
    int level = RandomLevel(id);
    levels_[id] = level;
    upper_[id].assign(static_cast<size_t>(level) * (m_ + 1), 0);
    Insert(id, level, dst);
  }
  return {};
}

HnswError Hnsw::MarkDeleted(uint32_t label) {
  std::lock_guard<std::mutex> g(label_mutex_);
  auto it = label_to_id_.find(label);
  if (it == label_to_id_.end()) return {"ECOM_ERR_NATIVE_UNKNOWN_ID", "id " + std::to_string(label) + " is not in the index"};
  if (deleted_[it->second].exchange(1) == 0) {
    deleted_count_.fetch_add(1);
    free_ids_.push_back(it->second);
  }
  return {};
}

HnswError Hnsw::UnmarkDeleted(uint32_t label) {
  std::lock_guard<std::mutex> g(label_mutex_);
  auto it = label_to_id_.find(label);
  if (it == label_to_id_.end()) return {"ECOM_ERR_NATIVE_UNKNOWN_ID", "id " + std::to_string(label) + " is not in the index"};
  if (deleted_[it->second].exchange(0) != 0) {
    deleted_count_.fetch_sub(1);
    free_ids_.erase(std::remove(free_ids_.begin(), free_ids_.end(), it->second), free_ids_.end());
  }
  return {};
}

uint32_t Hnsw::Descend(const float* q, uint32_t ep, int from_level, int to_level, bool lock) const {
  float best = Dist(q, VecOf(ep));
  thread_local std::vector<uint32_t> buf;
  buf.resize(m_ + 1);
  for (int level = from_level; level >= to_level; level--) {
    bool changed = true;
    while (changed) {
      changed = false;
      if (lock) {
        std::lock_guard<std::mutex> g(node_locks_[ep]);
        const uint32_t* l = Links(ep, level);
        std::memcpy(buf.data(), l, sizeof(uint32_t) * (l[0] + 1));
      } else {
        const uint32_t* l = Links(ep, level);
        std::memcpy(buf.data(), l, sizeof(uint32_t) * (l[0] + 1));
      }
      for (uint32_t i = 1; i <= buf[0]; i++) {
        float d = Dist(q, VecOf(buf[i]));
        if (d < best) {
          best = d;
          ep = buf[i];
          changed = true;
        }
      }
    }
  }
  return ep;
}

std::vector<Hnsw::Candidate> Hnsw::SearchLayer(uint32_t ep, const float* q, int level, size_t ef, bool lock) const {
  Visited& vis = t_visited;
  vis.Begin(capacity_);
  std::vector<Candidate> top, cand;
  top.reserve(ef + 1);
  std::vector<uint32_t> buf(m0_ + 1);
  float d0 = Dist(q, VecOf(ep));
  top.push_back({d0, ep});
  cand.push_back({d0, ep});
  vis.TestAndSet(ep);
  float bound = d0;
  while (!cand.empty()) {
    std::pop_heap(cand.begin(), cand.end(), Near());
    Candidate c = cand.back();
    cand.pop_back();
    if (c.dist > bound && top.size() >= ef) break;
    if (lock) {
      std::lock_guard<std::mutex> g(node_locks_[c.id]);
      const uint32_t* l = Links(c.id, level);
      std::memcpy(buf.data(), l, sizeof(uint32_t) * (l[0] + 1));
    } else {
      const uint32_t* l = Links(c.id, level);
      std::memcpy(buf.data(), l, sizeof(uint32_t) * (l[0] + 1));
    }
    // Mark first, prefetch every unvisited vector, then compute: the loads overlap instead of queueing.
    uint32_t fresh = 0;
    for (uint32_t i = 1; i <= buf[0]; i++) {
      uint32_t n = buf[i];
      if (vis.TestAndSet(n)) continue;
      __builtin_prefetch(VecOf(n));
      buf[++fresh] = n;
    }
    for (uint32_t i = 1; i <= fresh; i++) {
      uint32_t n = buf[i];
      float d = Dist(q, VecOf(n));
      if (top.size() < ef || d < bound) {
        cand.push_back({d, n});
        std::push_heap(cand.begin(), cand.end(), Near());
        __builtin_prefetch(Links(n, level));
        top.push_back({d, n});
        std::push_heap(top.begin(), top.end(), Far());
        if (top.size() > ef) {
          std::pop_heap(top.begin(), top.end(), Far());
          top.pop_back();
        }
        bound = top.front().dist;
      }
    }
  }
  return top;
}

void Hnsw::SelectHeuristic(std::vector<Candidate>& cands, size_t m) const {
  std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
    return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
  });
  if (cands.size() <= m) return;
  std::vector<Candidate> kept;
  kept.reserve(m);
  for (const Candidate& c : cands) {
    if (kept.size() >= m) break;
    bool good = true;
    for (const Candidate& r : kept) {
      if (Dist(VecOf(c.id), VecOf(r.id)) < c.dist) {
        good = false;
        break;
      }
    }
    if (good) kept.push_back(c);
  }
  cands.swap(kept);
}

uint32_t Hnsw::Connect(uint32_t id, const float* q, std::vector<Candidate>& cands, int level) {
  cands.erase(std::remove_if(cands.begin(), cands.end(), [id](const Candidate& c) { return c.id == id; }), cands.end());
  SelectHeuristic(cands, m_);
  if (cands.empty()) return entry_.load();
  {
    std::lock_guard<std::mutex> g(node_locks_[id]);
    uint32_t* l = Links(id, level);
    l[0] = static_cast<uint32_t>(cands.size());
    for (size_t i = 0; i < cands.size(); i++) l[i + 1] = cands[i].id;
  }
  const uint32_t cap = level == 0 ? m0_ : m_;
  std::vector<Candidate> others;
  for (const Candidate& c : cands) {
    std::lock_guard<std::mutex> g(node_locks_[c.id]);
    uint32_t* l = Links(c.id, level);
    uint32_t n = l[0];
    bool present = false;
    for (uint32_t i = 1; i <= n; i++) present = present || l[i] == id;
    if (present) continue;
    if (n < cap) {
      l[n + 1] = id;
      l[0] = n + 1;
      continue;
    }
    const float* base = VecOf(c.id);
    others.clear();
    others.push_back({c.dist, id});
    for (uint32_t i = 1; i <= n; i++) others.push_back({Dist(base, VecOf(l[i])), l[i]});
    SelectHeuristic(others, cap);
    l[0] = static_cast<uint32_t>(others.size());
    for (size_t i = 0; i < others.size(); i++) l[i + 1] = others[i].id;
  }
  return cands.front().id;
}

void Hnsw::Insert(uint32_t id, int level, const float* q) {
  std::unique_lock<std::mutex> glock(global_mutex_);
  int max_level = max_level_.load();
  uint32_t ep = entry_.load();
  if (ep == kNone) {
    entry_.store(id);
    max_level_.store(level);
    return;
  }
  if (level <= max_level) glock.unlock();
  if (level < max_level) ep = Descend(q, ep, max_level, level + 1, true);
  for (int l = std::min(level, max_level); l >= 0; l--) {
    std::vector<Candidate> cands = SearchLayer(ep, q, l, ef_construction_, true);
    ep = Connect(id, q, cands, l);
  }
  if (level > max_level) {
    entry_.store(id);
    max_level_.store(level);
  }
}

void Hnsw::Search(const float* query, size_t k, size_t ef, const std::vector<uint8_t>* allowed,
                  std::vector<Hit>& out) const {
  out.clear();
  uint32_t ep = entry_.load();
  if (ep == kNone || k == 0) return;
  std::vector<float> qbuf;
  const float* q = query;
  if (space_ == Space::kCosine) {
    qbuf.assign(query, query + dim_);
    float norm = std::sqrt(ActiveKernels().dot(qbuf.data(), qbuf.data(), dim_));
    if (norm > 0) for (float& x : qbuf) x /= norm;
    q = qbuf.data();
  }
  ep = Descend(q, ep, max_level_.load(), 1, false);
  ef = std::max(ef, k);
  const bool filtered = allowed != nullptr || deleted_count_.load() > 0;
  auto ok = [&](uint32_t id) { return deleted_[id].load(std::memory_order_relaxed) == 0 && (allowed == nullptr || (*allowed)[id]); };

  Visited& vis = t_visited;
  vis.Begin(capacity_);
  thread_local std::vector<Candidate> top, cand;
  top.clear();
  cand.clear();
  float d0 = Dist(q, VecOf(ep));
  float bound = std::numeric_limits<float>::max();
  if (ok(ep)) {
    top.push_back({d0, ep});
    bound = d0;
  }
  cand.push_back({d0, ep});
  vis.TestAndSet(ep);
  while (!cand.empty()) {
    std::pop_heap(cand.begin(), cand.end(), Near());
    Candidate c = cand.back();
    cand.pop_back();
    if (c.dist > bound && (top.size() >= ef || !filtered)) break;
    const uint32_t* l = Links0(c.id);
    const uint32_t n = l[0];
    uint32_t fresh_ids[4096];  // M <= 2048 (checked at the JS boundary and on load), so m0_ <= 4096
    uint32_t fresh = 0;
    for (uint32_t i = 1; i <= n; i++) {
      uint32_t nb = l[i];
      if (vis.TestAndSet(nb)) continue;
      __builtin_prefetch(VecOf(nb));
      fresh_ids[fresh++] = nb;
    }
    for (uint32_t i = 0; i < fresh; i++) {
      uint32_t nb = fresh_ids[i];
      float d = Dist(q, VecOf(nb));
      if (top.size() < ef || d < bound) {
        cand.push_back({d, nb});
        std::push_heap(cand.begin(), cand.end(), Near());
        // Links live apart from vectors: fetch them now, they are read when this candidate is popped.
        __builtin_prefetch(Links0(nb));
        __builtin_prefetch(Links0(nb) + 16);
        if (ok(nb)) {
          top.push_back({d, nb});
          std::push_heap(top.begin(), top.end(), Far());
          if (top.size() > ef) {
            std::pop_heap(top.begin(), top.end(), Far());
            top.pop_back();
          }
        }
        if (!top.empty()) bound = top.front().dist;
      }
    }
  }
  std::sort(top.begin(), top.end(), [](const Candidate& a, const Candidate& b) {
    return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
  });
  const size_t take = std::min(top.size(), k);
  out.reserve(take);
  for (size_t i = 0; i < take; i++) out.emplace_back(top[i].dist, labels_[top[i].id]);
}

void Hnsw::SearchExact(const float* query, size_t k, const std::vector<uint8_t>* allowed, std::vector<Hit>& out) const {
  out.clear();
  if (k == 0) return;
  std::vector<float> qbuf;
  const float* q = query;
  if (space_ == Space::kCosine) {
    qbuf.assign(query, query + dim_);
    float norm = std::sqrt(ActiveKernels().dot(qbuf.data(), qbuf.data(), dim_));
    if (norm > 0) for (float& x : qbuf) x /= norm;
    q = qbuf.data();
  }
  std::vector<Candidate> top;
  const uint32_t n = count_.load();
  for (uint32_t id = 0; id < n; id++) {
    if (deleted_[id].load(std::memory_order_relaxed) != 0 || (allowed != nullptr && !(*allowed)[id])) continue;
    float d = Dist(q, VecOf(id));
    if (top.size() < k) {
      top.push_back({d, id});
      std::push_heap(top.begin(), top.end(), Far());
    } else if (d < top.front().dist) {
      std::pop_heap(top.begin(), top.end(), Far());
      top.back() = {d, id};
      std::push_heap(top.begin(), top.end(), Far());
    }
  }
  std::sort(top.begin(), top.end(), [&](const Candidate& a, const Candidate& b) {
    return a.dist < b.dist || (a.dist == b.dist && labels_[a.id] < labels_[b.id]);
  });
  for (const Candidate& c : top) out.emplace_back(c.dist, labels_[c.id]);
}

std::vector<uint8_t> Hnsw::MaskFor(const uint32_t* labels, size_t n) const {
  std::vector<uint8_t> mask(count_.load(), 0);
  std::lock_guard<std::mutex> g(label_mutex_);
  for (size_t i = 0; i < n; i++) {
    auto it = label_to_id_.find(labels[i]);
    if (it != label_to_id_.end()) mask[it->second] = 1;
  }
  return mask;
}

bool Hnsw::GetVector(uint32_t label, float* out) const {
  std::lock_guard<std::mutex> g(label_mutex_);
  auto it = label_to_id_.find(label);
  if (it == label_to_id_.end()) return false;
  std::memcpy(out, VecOf(it->second), sizeof(float) * dim_);
  return true;
}

}  // namespace ecom
