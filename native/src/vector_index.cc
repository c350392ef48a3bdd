// Node-API binding of Hnsw: sync calls for single operations, AsyncWorkers (with their own threads) for
// batches. A shared mutex per index keeps batches and single calls from overlapping: a sync call that
// would have to wait throws ECOM_ERR_NATIVE_INDEX_BUSY instead of blocking the event loop.
#include <algorithm>
#include <atomic>
#include <memory>
#include <shared_mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common.h"
#include "hnsw.h"

namespace ecom {
namespace {

struct Shared {
  std::unique_ptr<Hnsw> index;
  std::shared_mutex lock;
};

// Indexes made by deserialize(), waiting for the constructor to adopt them. The constructor only adopts a
// pointer found here, so an External from anywhere else can never be taken for an index.
std::mutex g_pending_mutex;
std::unordered_set<const Hnsw*> g_pending;

const char* kBusy = "ECOM_ERR_NATIVE_INDEX_BUSY";
const char* kBusyMsg = "the vector index is busy with a batch operation; await it first";

size_t ThreadCount(double requested, size_t work) {
  size_t hw = std::max(1u, std::thread::hardware_concurrency());
  size_t t = requested >= 1 ? static_cast<size_t>(requested) : hw;
  return std::max<size_t>(1, std::min({t, work, static_cast<size_t>(256)}));
}

template <class F>
void ParallelFor(size_t n, size_t threads, F&& fn) {
  std::atomic<size_t> next{0};
  auto body = [&]() {
    for (;;) {
      size_t start = next.fetch_add(64);
      if (start >= n) return;
      size_t end = std::min(n, start + 64);
      for (size_t i = start; i < end; i++) fn(i);
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; t++) pool.emplace_back(body);
  body();
  for (auto& th : pool) th.join();
}

Napi::Float32Array AsF32(Napi::Env env, Napi::Value v, const char* what) {
  Usage(env, v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array,
        std::string(what) + " must be a Float32Array");
  return v.As<Napi::Float32Array>();
}
Napi::Uint32Array AsU32(Napi::Env env, Napi::Value v, const char* what) {
  Usage(env, v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array,
        std::string(what) + " must be a Uint32Array");
  return v.As<Napi::Uint32Array>();
}
uint32_t AsLabel(Napi::Env env, Napi::Value v) {
  Usage(env, v.IsNumber(), "id must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  Usage(env, d >= 0 && d <= 4294967295.0 && d == static_cast<double>(static_cast<uint32_t>(d)),
        "id must be an integer from 0 to 4294967295");
  return static_cast<uint32_t>(d);
}
size_t AsCount(Napi::Env env, Napi::Value v, const char* what, size_t lo, size_t hi) {
  Usage(env, v.IsNumber(), std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  Usage(env, d >= static_cast<double>(lo) && d <= static_cast<double>(hi) && d == static_cast<double>(static_cast<size_t>(d)),
        std::string(what) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return static_cast<size_t>(d);
}

class AddBatchWorker : public Napi::AsyncWorker {
 public:
  AddBatchWorker(Napi::Env env, std::shared_ptr<Shared> s, std::vector<uint32_t> labels, std::vector<float> data,
                 bool replace, size_t threads)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), s_(std::move(s)),
        labels_(std::move(labels)), data_(std::move(data)), replace_(replace), threads_(threads) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::unique_lock<std::shared_mutex> g(s_->lock);
    Hnsw& idx = *s_->index;
    std::unordered_set<uint32_t> seen;
    for (uint32_t l : labels_) {
      if (!seen.insert(l).second || idx.Has(l)) {
        code_ = "ECOM_ERR_NATIVE_DUPLICATE_ID";
        SetError("id " + std::to_string(l) + " is already in the index (or twice in the batch)");
        return;
      }
    }
    idx.Reserve(labels_.size());
    const size_t dim = idx.dim();
    std::mutex err_mutex;
    ParallelFor(labels_.size(), ThreadCount(static_cast<double>(threads_), labels_.size()), [&](size_t i) {
      HnswError e = idx.Add(labels_[i], data_.data() + i * dim, replace_);
      if (!e.ok()) {
        std::lock_guard<std::mutex> lg(err_mutex);
        if (code_.empty()) {
          code_ = e.code;
          SetError(e.message);
        }
      }
    });
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(CodedError(Env(), code_.empty() ? "ECOM_ERR_INTERNAL" : code_, e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Shared> s_;
  std::vector<uint32_t> labels_;
  std::vector<float> data_;
  bool replace_;
  size_t threads_;
  std::string code_;
};

class SearchBatchWorker : public Napi::AsyncWorker {
 public:
  SearchBatchWorker(Napi::Env env, std::shared_ptr<Shared> s, std::vector<float> queries, size_t nq, size_t k,
                    size_t ef, std::vector<uint32_t> allowed, bool has_filter, bool exact, size_t threads)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), s_(std::move(s)),
        queries_(std::move(queries)), nq_(nq), k_(k), ef_(ef), allowed_(std::move(allowed)),
        has_filter_(has_filter), exact_(exact), threads_(threads) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::shared_lock<std::shared_mutex> g(s_->lock);
    const Hnsw& idx = *s_->index;
    std::vector<uint8_t> mask;
    if (has_filter_) mask = idx.MaskFor(allowed_.data(), allowed_.size());
    labels_.assign(nq_ * k_, Hnsw::kNone);
    dists_.assign(nq_ * k_, std::numeric_limits<float>::infinity());
    counts_.assign(nq_, 0);
    const size_t dim = idx.dim();
    ParallelFor(nq_, ThreadCount(static_cast<double>(threads_), nq_), [&](size_t i) {
      std::vector<Hit> hits;
      const float* q = queries_.data() + i * dim;
      if (exact_) idx.SearchExact(q, k_, has_filter_ ? &mask : nullptr, hits);
      else idx.Search(q, k_, ef_, has_filter_ ? &mask : nullptr, hits);
      counts_[i] = static_cast<uint32_t>(hits.size());
      for (size_t j = 0; j < hits.size(); j++) {
        dists_[i * k_ + j] = hits[j].first;
        labels_[i * k_ + j] = hits[j].second;
      }
    });
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto labels = Napi::Uint32Array::New(env, labels_.size());
    auto dists = Napi::Float32Array::New(env, dists_.size());
    auto counts = Napi::Uint32Array::New(env, counts_.size());
    std::copy(labels_.begin(), labels_.end(), labels.Data());
    std::copy(dists_.begin(), dists_.end(), dists.Data());
    std::copy(counts_.begin(), counts_.end(), counts.Data());
    auto arr = Napi::Array::New(env, 3);
    arr.Set(0u, labels);
    arr.Set(1u, dists);
    arr.Set(2u, counts);
    deferred_.Resolve(arr);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(CodedError(Env(), "ECOM_ERR_INTERNAL", e.Message()).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Shared> s_;
  std::vector<float> queries_;
  size_t nq_, k_, ef_;
  std::vector<uint32_t> allowed_;
  bool has_filter_, exact_;
  size_t threads_;
  std::vector<uint32_t> labels_;
  std::vector<float> dists_;
  std::vector<uint32_t> counts_;
};

class VectorIndex : public Napi::ObjectWrap<VectorIndex> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeVectorIndex",
                       {
                           InstanceMethod<&VectorIndex::Add>("add"),
                           InstanceMethod<&VectorIndex::AddBatch>("addBatch"),
                           InstanceMethod<&VectorIndex::Search>("search"),
                           InstanceMethod<&VectorIndex::SearchBatch>("searchBatch"),
                           InstanceMethod<&VectorIndex::MarkDeleted>("markDeleted"),
                           InstanceMethod<&VectorIndex::UnmarkDeleted>("unmarkDeleted"),
                           InstanceMethod<&VectorIndex::Has>("has"),
                           InstanceMethod<&VectorIndex::IsDeleted>("isDeleted"),
                           InstanceMethod<&VectorIndex::GetVector>("getVector"),
                           InstanceMethod<&VectorIndex::Stats>("stats"),
                           InstanceMethod<&VectorIndex::Serialize>("serialize"),
                           StaticMethod<&VectorIndex::Deserialize>("deserialize"),
                       });
  }

  // new NativeVectorIndex(dim, space, M, efConstruction, seed)
  explicit VectorIndex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VectorIndex>(info), s_(std::make_shared<Shared>()) {
    Napi::Env env = info.Env();
    if (info.Length() == 1 && info[0].IsExternal()) {
      Hnsw* adopted = info[0].As<Napi::External<Hnsw>>().Data();
      std::lock_guard<std::mutex> g(g_pending_mutex);
      Usage(env, g_pending.erase(adopted) == 1, "NativeVectorIndex: not an index made by deserialize()");
      s_->index.reset(adopted);
      return;
    }
    Usage(env, info.Length() >= 5, "NativeVectorIndex(dim, space, M, efConstruction, seed)");
    size_t dim = AsCount(env, info[0], "dimensions", 1, 65536);
    size_t space = AsCount(env, info[1], "space", 0, 2);
    size_t m = AsCount(env, info[2], "M", 2, 2048);
    size_t efc = AsCount(env, info[3], "efConstruction", 1, 1u << 20);
    Usage(env, info[4].IsNumber(), "seed must be a number");
    auto seed = static_cast<uint64_t>(info[4].As<Napi::Number>().Int64Value());
    s_->index = std::make_unique<Hnsw>(static_cast<uint32_t>(dim), static_cast<Space>(space), static_cast<uint32_t>(m),
                                       static_cast<uint32_t>(efc), seed);
  }

 private:
  std::shared_ptr<Shared> s_;

  Hnsw& Idx() { return *s_->index; }

  void CheckDim(Napi::Env env, size_t len, size_t count) {
    Usage(env, len == count * Idx().dim(),
          "vector data has " + std::to_string(len) + " values, expected " + std::to_string(count) + " x " +
              std::to_string(Idx().dim()));
  }

  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t label = AsLabel(env, info[0]);
    auto vec = AsF32(env, info[1], "vector");
    CheckDim(env, vec.ElementLength(), 1);
    bool replace = info.Length() > 2 && info[2].ToBoolean().Value();
    std::unique_lock<std::shared_mutex> g(s_->lock, std::try_to_lock);
    if (!g.owns_lock()) ThrowCoded(env, kBusy, kBusyMsg);
    Idx().Reserve(1);
    HnswError e = Idx().Add(label, vec.Data(), replace);
    if (!e.ok()) ThrowCoded(env, e.code, e.message);
    return env.Undefined();
  }

  Napi::Value AddBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto labels = AsU32(env, info[0], "ids");
    auto data = AsF32(env, info[1], "vectors");
    CheckDim(env, data.ElementLength(), labels.ElementLength());
    bool replace = info.Length() > 2 && info[2].ToBoolean().Value();
    size_t threads = info.Length() > 3 && info[3].IsNumber() ? AsCount(env, info[3], "threads", 0, 256) : 0;
    // Copy on the JS thread: the caller may reuse its arrays while the build runs.
    std::vector<uint32_t> l(labels.Data(), labels.Data() + labels.ElementLength());
    std::vector<float> d(data.Data(), data.Data() + data.ElementLength());
    auto* w = new AddBatchWorker(env, s_, std::move(l), std::move(d), replace, threads);  // owned by Node-API
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  std::vector<uint8_t> Mask(Napi::Env env, Napi::Value v, bool& has) {
    has = !(v.IsUndefined() || v.IsNull());
    if (!has) return {};
    auto allowed = AsU32(env, v, "filter");
    return Idx().MaskFor(allowed.Data(), allowed.ElementLength());
  }

  // search(query, k, ef, allowed|null, exact) -> [Uint32Array ids, Float32Array distances]
  Napi::Value Search(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto q = AsF32(env, info[0], "query");
    CheckDim(env, q.ElementLength(), 1);
    size_t k = AsCount(env, info[1], "k", 0, 1u << 24);
    size_t ef = AsCount(env, info[2], "ef", 1, 1u << 24);
    bool exact = info.Length() > 4 && info[4].ToBoolean().Value();
    std::shared_lock<std::shared_mutex> g(s_->lock, std::try_to_lock);
    if (!g.owns_lock()) ThrowCoded(env, kBusy, kBusyMsg);
    bool has = false;
    std::vector<uint8_t> mask = Mask(env, info[3], has);
    std::vector<Hit> hits;
    if (exact) Idx().SearchExact(q.Data(), k, has ? &mask : nullptr, hits);
    else Idx().Search(q.Data(), k, ef, has ? &mask : nullptr, hits);
    auto ids = Napi::Uint32Array::New(env, hits.size());
    auto dists = Napi::Float32Array::New(env, hits.size());
    for (size_t i = 0; i < hits.size(); i++) {
      ids[i] = hits[i].second;
      dists[i] = hits[i].first;
    }
    auto arr = Napi::Array::New(env, 2);
    arr.Set(0u, ids);
    arr.Set(1u, dists);
    return arr;
  }

  // searchBatch(queries, k, ef, allowed|null, exact, threads) -> Promise<[ids, distances, counts]>
  Napi::Value SearchBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto q = AsF32(env, info[0], "queries");
    size_t dim = Idx().dim();
    Usage(env, q.ElementLength() % dim == 0, "queries length must be a multiple of the dimensions");
    size_t nq = q.ElementLength() / dim;
    size_t k = AsCount(env, info[1], "k", 0, 1u << 16);
    size_t ef = AsCount(env, info[2], "ef", 1, 1u << 24);
    bool has = !(info[3].IsUndefined() || info[3].IsNull());
    std::vector<uint32_t> allowed;
    if (has) {
      auto a = AsU32(env, info[3], "filter");
      allowed.assign(a.Data(), a.Data() + a.ElementLength());
    }
    bool exact = info.Length() > 4 && info[4].ToBoolean().Value();
    size_t threads = info.Length() > 5 && info[5].IsNumber() ? AsCount(env, info[5], "threads", 0, 256) : 0;
    std::vector<float> queries(q.Data(), q.Data() + q.ElementLength());
    auto* w = new SearchBatchWorker(env, s_, std::move(queries), nq, k, ef, std::move(allowed), has, exact, threads);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  Napi::Value MarkDeleted(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t label = AsLabel(env, info[0]);
    std::unique_lock<std::shared_mutex> g(s_->lock, std::try_to_lock);
    if (!g.owns_lock()) ThrowCoded(env, kBusy, kBusyMsg);
    HnswError e = Idx().MarkDeleted(label);
    if (!e.ok()) ThrowCoded(env, e.code, e.message);
    return env.Undefined();
  }
  Napi::Value UnmarkDeleted(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t label = AsLabel(env, info[0]);
    std::unique_lock<std::shared_mutex> g(s_->lock, std::try_to_lock);
    if (!g.owns_lock()) ThrowCoded(env, kBusy, kBusyMsg);
    HnswError e = Idx().UnmarkDeleted(label);
    if (!e.ok()) ThrowCoded(env, e.code, e.message);
    return env.Undefined();
  }
  Napi::Value Has(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t label = AsLabel(env, info[0]);
    std::shared_lock<std::shared_mutex> g(s_->lock, std::try_to_lock);
    if (!g.owns_lock()) ThrowCoded(env, kBusy, kBusyMsg);
    return Napi::Boolean::New(env, Idx().Has(label));
  }
  Napi::Value IsDeleted(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t label = AsLabel(env, info[0]);
    std::shared_lock<std::shared_mutex> g(s_->lock, std::try_to_lock);
    if (!g.owns_lock()) ThrowCoded(env, kBusy, kBusyMsg);
    return Napi::Boolean::New(env, Idx().IsDeleted(label));
  }
  Napi::Value GetVector(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t label = AsLabel(env, info[0]);
    std::shared_lock<std::shared_mutex> g(s_->lock, std::try_to_lock);
    if (!g.owns_lock()) ThrowCoded(env, kBusy, kBusyMsg);
    auto out = Napi::Float32Array::New(env, Idx().dim());
    if (!Idx().GetVector(label, out.Data())) return env.Undefined();
    return out;
  }
  // [size, deleted, dim, space, M, efConstruction]
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_lock<std::shared_mutex> g(s_->lock, std::try_to_lock);
    if (!g.owns_lock()) ThrowCoded(env, kBusy, kBusyMsg);
    auto arr = Napi::Array::New(env, 6);
    arr.Set(0u, Napi::Number::New(env, static_cast<double>(Idx().size())));
    arr.Set(1u, Napi::Number::New(env, static_cast<double>(Idx().deleted_count())));
    arr.Set(2u, Napi::Number::New(env, Idx().dim()));
    arr.Set(3u, Napi::Number::New(env, static_cast<uint32_t>(Idx().space())));
    arr.Set(4u, Napi::Number::New(env, Idx().m()));
    arr.Set(5u, Napi::Number::New(env, Idx().ef_construction()));
    return arr;
  }
  Napi::Value Serialize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_lock<std::shared_mutex> g(s_->lock, std::try_to_lock);
    if (!g.owns_lock()) ThrowCoded(env, kBusy, kBusyMsg);
    std::vector<uint8_t> bytes = Idx().Serialize();
    return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
  }
  static Napi::Value Deserialize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Usage(env, info.Length() >= 1 && info[0].IsTypedArray(), "deserialize(bytes) needs a Uint8Array");
    auto buf = info[0].As<Napi::Uint8Array>();
    HnswError err;
    std::unique_ptr<Hnsw> idx = Hnsw::Deserialize(buf.Data(), buf.ByteLength(), err);
    if (!idx) ThrowCoded(env, err.code, err.message);
    Napi::FunctionReference* ctor = env.GetInstanceData<Napi::FunctionReference>();
    Hnsw* raw = idx.get();
    {
      std::lock_guard<std::mutex> g(g_pending_mutex);
      g_pending.insert(raw);
    }
    // The constructor adopts the pointer (and removes it from g_pending); until then `idx` owns it.
    try {
      Napi::Object obj = ctor->New({Napi::External<Hnsw>::New(env, raw)});
      idx.release();
      return obj;
    } catch (...) {
      std::lock_guard<std::mutex> g(g_pending_mutex);
      g_pending.erase(raw);
      throw;
    }
  }
};

}  // namespace

Napi::Function VectorIndexClass(Napi::Env env) { return VectorIndex::Define(env); }

}  // namespace ecom
