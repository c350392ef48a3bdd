// BM25 scoring loop for KeywordIndex: postings in CSR form per field, query terms resolved and weighted
// (idf x boost) in JavaScript, accumulation + coordination factor + top-k here. Same arithmetic, in the
// same order, as the TypeScript loop in src/native/keyword-index.ts, so both give the same scores.
#include <algorithm>
#include <vector>

#include "common.h"

namespace ecom {
namespace {

bool IsTyped(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

struct Field {
  std::vector<uint32_t> off;   // term -> start in data (pairs), size terms + 1
  std::vector<uint32_t> data;  // doc, tf, doc, tf, ...
  std::vector<double> norm;    // k1 * (1 - b + b * len / avglen) per doc
};

class Bm25Scorer : public Napi::ObjectWrap<Bm25Scorer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeBm25Scorer", {InstanceMethod<&Bm25Scorer::Score>("score")});
  }

  // new NativeBm25Scorer(docCount, offsets: Uint32Array[], data: Uint32Array[], norms: Float64Array[])
  explicit Bm25Scorer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Bm25Scorer>(info) {
    Napi::Env env = info.Env();
    Usage(env, info.Length() >= 4 && info[0].IsNumber() && info[1].IsArray() && info[2].IsArray() && info[3].IsArray(),
          "NativeBm25Scorer(docCount, offsets[], data[], norms[])");
    ndocs_ = info[0].As<Napi::Number>().Uint32Value();
    auto offs = info[1].As<Napi::Array>();
    auto datas = info[2].As<Napi::Array>();
    auto norms = info[3].As<Napi::Array>();
    Usage(env, offs.Length() == datas.Length() && offs.Length() == norms.Length(), "one offsets, data and norms per field");
    for (uint32_t f = 0; f < offs.Length(); f++) {
      Napi::Value ov = offs.Get(f), dv = datas.Get(f), nv = norms.Get(f);
      Usage(env, ov.IsTypedArray() && dv.IsTypedArray() && nv.IsTypedArray() &&
                     ov.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array &&
                     dv.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array &&
                     nv.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array,
            "offsets and data must be Uint32Arrays, norms Float64Arrays");
      auto o = ov.As<Napi::Uint32Array>();
      auto d = dv.As<Napi::Uint32Array>();
      auto n = nv.As<Napi::Float64Array>();
      Field field;
      field.off.assign(o.Data(), o.Data() + o.ElementLength());
      field.data.assign(d.Data(), d.Data() + d.ElementLength());
      field.norm.assign(n.Data(), n.Data() + n.ElementLength());
      // Validate once so the scoring loop can index without checks.
      Usage(env, !field.off.empty() && field.off.front() == 0 && field.off.back() * 2ull == field.data.size() &&
                     field.norm.size() == ndocs_,
            "postings are inconsistent");
      for (size_t i = 1; i < field.off.size(); i++) Usage(env, field.off[i - 1] <= field.off[i], "postings offsets must not decrease");
      for (size_t i = 0; i < field.data.size(); i += 2) Usage(env, field.data[i] < ndocs_, "posting points past the last document");
      fields_.push_back(std::move(field));
    }
    acc_.assign(ndocs_, 0.0);
    bits_.assign(ndocs_, 0);
  }

 private:
  // score(terms: Uint32Array, fields: Uint32Array, weights: Float64Array, bits: Uint32Array, k1p1, delta, k,
  //       allowed: Uint8Array | null) -> [Uint32Array docs, Float64Array scores], best first
  Napi::Value Score(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Usage(env, info.Length() >= 7 && IsTyped(info[0], napi_uint32_array) && IsTyped(info[1], napi_uint32_array) &&
                   IsTyped(info[2], napi_float64_array) && IsTyped(info[3], napi_uint32_array) && info[4].IsNumber() &&
                   info[5].IsNumber() && info[6].IsNumber(),
          "score(terms: Uint32Array, fields: Uint32Array, weights: Float64Array, bits: Uint32Array, k1p1, delta, k, allowed)");
    auto terms = info[0].As<Napi::Uint32Array>();
    auto flds = info[1].As<Napi::Uint32Array>();
    auto weights = info[2].As<Napi::Float64Array>();
    auto qbits = info[3].As<Napi::Uint32Array>();
    const double k1p1 = info[4].As<Napi::Number>().DoubleValue();
    const double delta = info[5].As<Napi::Number>().DoubleValue();
    const size_t k = info[6].As<Napi::Number>().Uint32Value();
    const size_t nq = terms.ElementLength();
    Usage(env, flds.ElementLength() == nq && weights.ElementLength() == nq && qbits.ElementLength() == nq,
          "score: query arrays differ in length");
    const uint8_t* allowed = nullptr;
    if (info.Length() > 7 && !info[7].IsNull() && !info[7].IsUndefined()) {
      Usage(env, IsTyped(info[7], napi_uint8_array), "score: allowed must be a Uint8Array or null");
      auto a = info[7].As<Napi::Uint8Array>();
      Usage(env, a.ElementLength() >= ndocs_, "score: allowed mask is too short");
      allowed = a.Data();
    }
    touched_.clear();
    for (size_t q = 0; q < nq; q++) {
      Usage(env, flds[q] < fields_.size(), "score: field out of range");
      const Field& f = fields_[flds[q]];
      Usage(env, terms[q] + 1 < f.off.size(), "score: term out of range");
      const double w = weights[q];
      const uint32_t bit = qbits[q];
      const uint32_t* p = f.data.data() + 2ull * f.off[terms[q]];
      const uint32_t* e = f.data.data() + 2ull * f.off[terms[q] + 1];
      for (; p < e; p += 2) {
        const uint32_t d = p[0];
        const double tf = p[1];
        if (acc_[d] == 0) touched_.push_back(d);
        acc_[d] += w * (delta + (tf * k1p1) / (tf + f.norm[d]));
        bits_[d] |= bit;
      }
    }
    // Min-heap of the k best: worst first (lower score, then higher doc).
    struct Item { double s; uint32_t d; };
    auto worse = [](const Item& a, const Item& b) { return a.s < b.s || (a.s == b.s && a.d > b.d); };
    auto heap_cmp = [&](const Item& a, const Item& b) { return worse(b, a); };
    std::vector<Item> heap;
    heap.reserve(k + 1);
    for (uint32_t d : touched_) {
      const double score = acc_[d] * std::max(__builtin_popcount(bits_[d]), 1);
      acc_[d] = 0;
      bits_[d] = 0;
      if (k == 0 || (allowed != nullptr && !allowed[d])) continue;
      Item it{score, d};
      if (heap.size() < k) {
        heap.push_back(it);
        std::push_heap(heap.begin(), heap.end(), heap_cmp);
      } else if (worse(heap.front(), it)) {
        std::pop_heap(heap.begin(), heap.end(), heap_cmp);
        heap.back() = it;
        std::push_heap(heap.begin(), heap.end(), heap_cmp);
      }
    }
    std::sort(heap.begin(), heap.end(), [&](const Item& a, const Item& b) { return worse(b, a); });
    auto docs = Napi::Uint32Array::New(env, heap.size());
    auto scores = Napi::Float64Array::New(env, heap.size());
    for (size_t i = 0; i < heap.size(); i++) {
      docs[i] = heap[i].d;
      scores[i] = heap[i].s;
    }
    auto out = Napi::Array::New(env, 2);
    out.Set(0u, docs);
    out.Set(1u, scores);
    return out;
  }

  uint32_t ndocs_ = 0;
  std::vector<Field> fields_;
  std::vector<double> acc_;
  std::vector<uint32_t> bits_;
  std::vector<uint32_t> touched_;
};

}  // namespace

Napi::Function Bm25ScorerClass(Napi::Env env) { return Bm25Scorer::Define(env); }

}  // namespace ecom
