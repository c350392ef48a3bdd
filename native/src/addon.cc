#include <thread>

#include "checksum.h"
#include "common.h"
#include "distance.h"

namespace ecom {
namespace {

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array levels = Napi::Array::New(env);
  uint32_t n = 0;
  for (const char* l : {"avx512", "avx2", "scalar"})
    if (CpuSupports(l)) levels.Set(n++, Napi::String::New(env, l));
  o.Set("simdLevels", levels);
  o.Set("simd", Napi::String::New(env, ActiveKernels().name));
  o.Set("crc32cHardware", Napi::Boolean::New(env, Crc32cHardware()));
  o.Set("threads", Napi::Number::New(env, std::thread::hardware_concurrency()));
  return o;
}

// selectSimd(level) -> boolean; tests use it to run every kernel against the same data.
Napi::Value SelectSimd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Usage(env, info.Length() >= 1 && info[0].IsString(), "selectSimd(level) needs a string");
  return Napi::Boolean::New(env, SelectKernels(info[0].As<Napi::String>().Utf8Value().c_str()));
}

// distance(kind, a, b): "l2" (squared) or "dot", with the active kernels.
Napi::Value Distance(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Usage(env, info.Length() >= 3 && info[0].IsString() && info[1].IsTypedArray() && info[2].IsTypedArray(),
        "distance(kind, a, b)");
  auto a = info[1].As<Napi::Float32Array>();
  auto b = info[2].As<Napi::Float32Array>();
  Usage(env, a.TypedArrayType() == napi_float32_array && b.TypedArrayType() == napi_float32_array &&
                 a.ElementLength() == b.ElementLength(),
        "distance: a and b must be Float32Arrays of equal length");
  std::string kind = info[0].As<Napi::String>().Utf8Value();
  const Kernels& k = ActiveKernels();
  float d = kind == "l2" ? k.l2sq(a.Data(), b.Data(), a.ElementLength()) : k.dot(a.Data(), b.Data(), a.ElementLength());
  return Napi::Number::New(env, d);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function vi = VectorIndexClass(env);
  env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(vi)));
  exports.Set("NativeVectorIndex", vi);
  exports.Set("NativeBm25Scorer", Bm25ScorerClass(env));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("selectSimd", Napi::Function::New(env, SelectSimd, "selectSimd"));
  exports.Set("distance", Napi::Function::New(env, Distance, "distance"));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  InitStreams(env, exports);
  return exports;
}

}  // namespace ecom

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return ecom::Init(env, exports); }

NODE_API_MODULE(ecom_native, InitAddon)
