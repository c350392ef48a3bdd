#include "distance.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace ecom {
namespace scalar {
// Four partial sums let the compiler vectorise with SSE2 without -ffast-math.
float L2Sq(const float* a, const float* b, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1], d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
    s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
  }
  for (; i < n; i++) { float d = a[i] - b[i]; s0 += d * d; }
  return (s0 + s1) + (s2 + s3);
}
float Dot(const float* a, const float* b, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}
}  // namespace scalar

namespace {
const Kernels kScalar{scalar::L2Sq, scalar::Dot, "scalar"};
const Kernels kAvx2{avx2::L2Sq, avx2::Dot, "avx2"};
const Kernels kAvx512{avx512::L2Sq, avx512::Dot, "avx512"};
std::atomic<const Kernels*> g_active{nullptr};

const Kernels* ForLevel(const char* level) {
  if (std::strcmp(level, "scalar") == 0) return &kScalar;
  if (std::strcmp(level, "avx2") == 0 && CpuSupports("avx2")) return &kAvx2;
  if (std::strcmp(level, "avx512") == 0 && CpuSupports("avx512")) return &kAvx512;
  return nullptr;
}
}  // namespace

bool CpuSupports(const char* level) {
  if (std::strcmp(level, "scalar") == 0) return true;
#if defined(ECOM_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (std::strcmp(level, "avx2") == 0)
    return avx2::Compiled() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (std::strcmp(level, "avx512") == 0)
    return avx512::Compiled() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return false;
}

const Kernels& ActiveKernels() {
  const Kernels* k = g_active.load(std::memory_order_acquire);
  if (k != nullptr) return *k;
  const char* env = std::getenv("ECOM_NATIVE_SIMD");
  if (env != nullptr) k = ForLevel(env);
  if (k == nullptr) k = CpuSupports("avx512") ? &kAvx512 : CpuSupports("avx2") ? &kAvx2 : &kScalar;
  g_active.store(k, std::memory_order_release);
  return *k;
}

bool SelectKernels(const char* level) {
  const Kernels* k = ForLevel(level);
  if (k == nullptr) return false;
  g_active.store(k, std::memory_order_release);
  return true;
}

}  // namespace ecom
