#pragma once
#include <napi.h>

#include <string>

namespace ecom {

// A JS Error carrying a stable `code`; the TypeScript layer maps codes to EcomError classes.
inline Napi::Error CodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] inline void ThrowCoded(Napi::Env env, const std::string& code, const std::string& message) {
  throw CodedError(env, code, message);
}

inline void Usage(Napi::Env env, bool ok, const std::string& message) {
  if (!ok) ThrowCoded(env, "ECOM_ERR_INVALID_OPTION", message);
}

Napi::Function VectorIndexClass(Napi::Env env);
Napi::Function Bm25ScorerClass(Napi::Env env);
void InitStreams(Napi::Env env, Napi::Object exports);

}  // namespace ecom
