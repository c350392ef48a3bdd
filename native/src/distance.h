// Distance kernels with run-time CPU dispatch. Kernel translation units built with wider ISAs
// (distance_avx2.cc, distance_avx512.cc) include nothing but <immintrin.h> and fixed-width types, so no
// inline function compiled for AVX can leak into code that runs on an older CPU.
#pragma once
#include <cstddef>

namespace ecom {

using DistFn = float (*)(const float*, const float*, size_t);

struct Kernels {
  DistFn l2sq;  // squared Euclidean distance
  DistFn dot;   // inner product
  const char* name;
};

namespace scalar {
float L2Sq(const float* a, const float* b, size_t n);
float Dot(const float* a, const float* b, size_t n);
}  // namespace scalar
namespace avx2 {
bool Compiled();
float L2Sq(const float* a, const float* b, size_t n);
float Dot(const float* a, const float* b, size_t n);
}  // namespace avx2
namespace avx512 {
bool Compiled();
float L2Sq(const float* a, const float* b, size_t n);
float Dot(const float* a, const float* b, size_t n);
}  // namespace avx512

// "avx512", "avx2" or "scalar": what this CPU (and this build) supports, best first.
bool CpuSupports(const char* level);
// The kernels in use. Chosen once from the CPU, or from ECOM_NATIVE_SIMD if it names a supported level.
const Kernels& ActiveKernels();
// Switch kernels (tests compare every level); returns false if the level is not supported here.
bool SelectKernels(const char* level);

}  // namespace ecom
