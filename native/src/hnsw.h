// HNSW (Malkov & Yashunin, 2016) over float32 vectors. Pure C++: the Node-API binding is vector_index.cc.
// Concurrency: Add() may run from several threads at once after Reserve(); every other call must not
// overlap an Add() (the binding enforces this with a shared mutex).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "distance.h"

namespace ecom {

enum class Space : uint32_t { kL2 = 0, kIp = 1, kCosine = 2 };

struct HnswError {
  std::string code;     // ECOM_ERR_* code the binding throws with
  std::string message;  // empty when ok
  bool ok() const { return message.empty(); }
};

using Hit = std::pair<float, uint32_t>;  // (distance, label)

// 64-byte aligned storage for vectors: with dim % 16 == 0 every vector starts on a cache line, so an
// AVX-512 load never straddles two lines.
template <class T>
struct CacheAligned {
  using value_type = T;
  CacheAligned() = default;
  template <class U>
  CacheAligned(const CacheAligned<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  template <class U>
  bool operator==(const CacheAligned<U>&) const { return true; }
  template <class U>
  bool operator!=(const CacheAligned<U>&) const { return false; }
};

class Hnsw {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  static constexpr uint32_t kFormatVersion = 1;

  Hnsw(uint32_t dim, Space space, uint32_t m, uint32_t ef_construction, uint64_t seed);

  uint32_t dim() const { return dim_; }
  Space space() const { return space_; }
  uint32_t m() const { return m_; }
  uint32_t ef_construction() const { return ef_construction_; }
  uint64_t seed() const { return seed_; }
  size_t size() const { return count_.load() - deleted_count_.load(); }
  size_t deleted_count() const { return deleted_count_.load(); }
  size_t slots() const { return count_.load(); }

  // Grow storage for `n` more elements. Not thread-safe.
  void Reserve(size_t n);
  // Label lookup (not thread-safe against Add).
  bool Has(uint32_t label) const;
  bool IsDeleted(uint32_t label) const;
  // Adds one vector. Thread-safe with other Add() calls once Reserve() covered them.
  HnswError Add(uint32_t label, const float* vec, bool replace_deleted);
  HnswError MarkDeleted(uint32_t label);
  HnswError UnmarkDeleted(uint32_t label);

  // `allowed` (optional) is indexed by internal id.
  void Search(const float* query, size_t k, size_t ef, const std::vector<uint8_t>* allowed,
              std::vector<Hit>& out) const;
  void SearchExact(const float* query, size_t k, const std::vector<uint8_t>* allowed, std::vector<Hit>& out) const;
  // Internal-id mask for a list of labels (unknown labels are ignored).
  std::vector<uint8_t> MaskFor(const uint32_t* labels, size_t n) const;
  bool GetVector(uint32_t label, float* out) const;

  std::vector<uint8_t> Serialize() const;
  static std::unique_ptr<Hnsw> Deserialize(const uint8_t* data, size_t len, HnswError& err);

 private:
  struct Candidate {
    float dist;
    uint32_t id;
  };
  float Dist(const float* a, const float* b) const;
  const float* VecOf(uint32_t id) const { return data_.data() + static_cast<size_t>(id) * dim_; }
  float* VecOf(uint32_t id) { return data_.data() + static_cast<size_t>(id) * dim_; }
  uint32_t* Links0(uint32_t id) { return links0_.data() + static_cast<size_t>(id) * (m0_ + 1); }
  const uint32_t* Links0(uint32_t id) const { return links0_.data() + static_cast<size_t>(id) * (m0_ + 1); }
  uint32_t* Links(uint32_t id, int level);
  const uint32_t* Links(uint32_t id, int level) const;
  int RandomLevel(uint32_t id) const;
  void Insert(uint32_t id, int level, const float* vec);
  std::vector<Candidate> SearchLayer(uint32_t ep, const float* q, int level, size_t ef, bool lock) const;
  void SelectHeuristic(std::vector<Candidate>& cands, size_t m) const;
  uint32_t Connect(uint32_t id, const float* q, std::vector<Candidate>& cands, int level);
  uint32_t Descend(const float* q, uint32_t ep, int from_level, int to_level, bool lock) const;

  uint32_t dim_;
  Space space_;
  uint32_t m_, m0_, ef_construction_;
  uint64_t seed_;
  double ml_;

  std::atomic<uint32_t> count_{0};
  std::atomic<uint32_t> deleted_count_{0};
  size_t capacity_ = 0;
  std::vector<float, CacheAligned<float>> data_;
  std::vector<uint32_t> links0_;               // per id: [count, m0 links]
  std::vector<std::vector<uint32_t>> upper_;   // per id: level * [count, m links]
  std::vector<uint32_t> labels_;
  std::vector<int32_t> levels_;
  std::unique_ptr<std::atomic<uint8_t>[]> deleted_;
  std::unique_ptr<std::mutex[]> node_locks_;

  mutable std::mutex label_mutex_;
  std::unordered_map<uint32_t, uint32_t> label_to_id_;
  std::vector<uint32_t> free_ids_;  // deleted slots for replace_deleted

  std::mutex global_mutex_;
  std::atomic<uint32_t> entry_{kNone};
  std::atomic<int32_t> max_level_{-1};
};

}  // namespace ecom
