// Line splitting and checksums at the JS boundary: one native call per chunk.
#include <cstring>

#include "checksum.h"
#include "common.h"

namespace ecom {
namespace {

bool IsAscii(const uint8_t* p, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < n; i++) acc |= p[i];
  return (acc & 0x8080808080808080ull) == 0;
}

// scanLines(buf, out, maxLineLength, skipEmpty) -> string | undefined
// Finds every '\n' in buf. Writes out[0] = line count, out[1] = bytes consumed (through the last '\n'),
// out[2] = status (0 ok, 1 a line or the unterminated tail is longer than maxLineLength), out[3] = 1 when
// buf[0, consumed) is ASCII, then a (start, end) pair per line, ends excluding "\r\n" / "\n".
// ASCII: returns buf[0, consumed) as one string and the pairs index it (bytes == UTF-16 units).
// Otherwise returns undefined and the pairs are byte offsets: the caller decodes each line, which is
// exact for any input ('\n' never occurs inside a UTF-8 sequence). `out` needs 4 + 2 * (lines in buf).
Napi::Value ScanLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Usage(env, info.Length() >= 4 && info[0].IsTypedArray() && info[1].IsTypedArray() && info[2].IsNumber(),
        "scanLines(buf, out, maxLineLength, skipEmpty)");
  auto buf = info[0].As<Napi::Uint8Array>();
  auto out = info[1].As<Napi::Uint32Array>();
  Usage(env, buf.TypedArrayType() == napi_uint8_array && out.TypedArrayType() == napi_uint32_array,
        "scanLines: buf must be a Uint8Array and out a Uint32Array");
  const uint8_t* p = buf.Data();
  const size_t n = buf.ElementLength();
  Usage(env, n < 0xFFFFFFFFu && out.ElementLength() >= 4, "scanLines: buf is too large or out too small");
  const size_t capacity = (out.ElementLength() - 4) / 2;  // (start, end) pairs that fit
  const double max_len_d = info[2].As<Napi::Number>().DoubleValue();
  const size_t max_len = max_len_d >= 9.0e15 ? SIZE_MAX : static_cast<size_t>(max_len_d);
  const bool skip_empty = info[3].ToBoolean().Value();
  uint32_t* o = out.Data();

  size_t lines = 0, pos = 0;
  uint32_t status = 0;
  uint32_t* pairs = o + 4;
  while (pos < n) {
    const void* hit = std::memchr(p + pos, '\n', n - pos);
    if (hit == nullptr) break;
    size_t nl = static_cast<const uint8_t*>(hit) - p;
    size_t end = (nl > pos && p[nl - 1] == '\r') ? nl - 1 : nl;
    if (end - pos > max_len) {
      status = 1;
      break;
    }
    if (!(skip_empty && end == pos)) {
      if (lines == capacity) ThrowCoded(env, "ECOM_ERR_INVALID_OPTION", "scanLines: out is too small for the lines in buf");
      pairs[2 * lines] = static_cast<uint32_t>(pos);
      pairs[2 * lines + 1] = static_cast<uint32_t>(end);
      lines++;
    }
    pos = nl + 1;
  }
  const size_t consumed = status ? 0 : pos;
  // The tail may end in the '\r' of a "\r\n" cut by the chunk boundary: that byte is not line content.
  if (!status && n - consumed > max_len + (n > consumed && p[n - 1] == '\r' ? 1 : 0)) status = 1;
  o[0] = static_cast<uint32_t>(status ? 0 : lines);
  o[1] = static_cast<uint32_t>(consumed);
  o[2] = status;
  o[3] = 0;
  if (status || consumed == 0 || !IsAscii(p, consumed)) return env.Undefined();
  o[3] = 1;
  napi_value str;
  napi_create_string_latin1(env, reinterpret_cast<const char*>(p), consumed, &str);
  return Napi::Value(env, str);
}

Napi::Value Crc32cJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Usage(env, info.Length() >= 1 && info[0].IsTypedArray(), "crc32c(data, previous?) needs a Uint8Array");
  auto buf = info[0].As<Napi::Uint8Array>();
  uint32_t prev = info.Length() >= 2 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  return Napi::Number::New(env, Crc32c(prev, buf.Data(), buf.ByteLength()));
}

uint64_t SeedArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return 0;
  if (info[i].IsBigInt()) {
    bool lossless;
    return info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(info[i].As<Napi::Number>().Int64Value());
}

Napi::Value Xxh64Js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Usage(env, info.Length() >= 1 && info[0].IsTypedArray(), "xxhash64(data, seed?) needs a Uint8Array");
  auto buf = info[0].As<Napi::Uint8Array>();
  return Napi::BigInt::New(env, Xxh64(buf.Data(), buf.ByteLength(), SeedArg(info, 1)));
}

// The streaming state lives in a JS-owned Uint8Array (it may be unaligned, so copy in and out).
Xxh64State LoadState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Usage(env, info.Length() >= 1 && info[0].IsTypedArray(), "xxh64 state must be a Uint8Array");
  auto st = info[0].As<Napi::Uint8Array>();
  Usage(env, st.ByteLength() >= sizeof(Xxh64State), "xxh64 state is too small");
  Xxh64State s;
  std::memcpy(&s, st.Data(), sizeof s);
  return s;
}
void StoreState(const Napi::CallbackInfo& info, const Xxh64State& s) {
  std::memcpy(info[0].As<Napi::Uint8Array>().Data(), &s, sizeof s);
}

Napi::Value Xxh64ResetJs(const Napi::CallbackInfo& info) {
  Xxh64State s = LoadState(info);
  Xxh64Reset(&s, SeedArg(info, 1));
  StoreState(info, s);
  return info.Env().Undefined();
}
Napi::Value Xxh64UpdateJs(const Napi::CallbackInfo& info) {
  Xxh64State s = LoadState(info);
  Usage(info.Env(), info.Length() >= 2 && info[1].IsTypedArray(), "xxh64Update(state, data) needs a Uint8Array");
  auto buf = info[1].As<Napi::Uint8Array>();
  Xxh64Update(&s, buf.Data(), buf.ByteLength());
  StoreState(info, s);
  return info.Env().Undefined();
}
Napi::Value Xxh64DigestJs(const Napi::CallbackInfo& info) {
  Xxh64State s = LoadState(info);
  return Napi::BigInt::New(info.Env(), Xxh64Digest(&s));
}

}  // namespace

void InitStreams(Napi::Env env, Napi::Object exports) {
  exports.Set("scanLines", Napi::Function::New(env, ScanLines, "scanLines"));
  exports.Set("crc32c", Napi::Function::New(env, Crc32cJs, "crc32c"));
  exports.Set("xxhash64", Napi::Function::New(env, Xxh64Js, "xxhash64"));
  exports.Set("xxh64Reset", Napi::Function::New(env, Xxh64ResetJs, "xxh64Reset"));
  exports.Set("xxh64Update", Napi::Function::New(env, Xxh64UpdateJs, "xxh64Update"));
  exports.Set("xxh64Digest", Napi::Function::New(env, Xxh64DigestJs, "xxh64Digest"));
  exports.Set("xxh64StateSize", Napi::Number::New(env, sizeof(Xxh64State)));
  exports.Set("crc32cHardware", Napi::Boolean::New(env, Crc32cHardware()));
}

}  // namespace ecom
