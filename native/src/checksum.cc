#include "checksum.h"

#include <cstring>

#if defined(ECOM_X86)
#include <nmmintrin.h>
#endif

namespace ecom {
namespace {

// Slicing-by-8 tables for the portable path.
struct Crc32cTables {
  uint32_t t[8][256];
  Crc32cTables() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
      for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
};
const Crc32cTables& Tables() {
  static const Crc32cTables tables;
  return tables;
}

uint32_t Crc32cSoft(uint32_t crc, const uint8_t* p, size_t n) {
  const auto& t = Tables().t;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= crc;
    crc = t[7][w & 0xFF] ^ t[6][(w >> 8) & 0xFF] ^ t[5][(w >> 16) & 0xFF] ^ t[4][(w >> 24) & 0xFF] ^
          t[3][(w >> 32) & 0xFF] ^ t[2][(w >> 40) & 0xFF] ^ t[1][(w >> 48) & 0xFF] ^ t[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return crc;
}

#if defined(ECOM_X86) && (defined(__GNUC__) || defined(__clang__))
// Operator that advances a raw CRC register over `len` zero bytes. The register update is linear over
// GF(2), so the operator is built column by column from the 32 unit vectors; used to merge three lanes.
struct ShiftOp {
  uint32_t table[4][256];
  explicit ShiftOp(size_t len) {
    const auto& t = Tables().t;
    uint32_t col[32];
    for (int i = 0; i < 32; i++) {
      uint32_t c = 1u << i;
      for (size_t k = 0; k < len; k++) c = (c >> 8) ^ t[0][c & 0xFF];
      col[i] = c;
    }
    for (int b = 0; b < 4; b++)
      for (uint32_t v = 0; v < 256; v++) {
        uint32_t x = v << (8 * b), sum = 0;
        for (int i = 0; i < 32; i++)
          if (x & (1u << i)) sum ^= col[i];
        table[b][v] = sum;
      }
  }
  uint32_t Apply(uint32_t crc) const {
    return table[0][crc & 0xFF] ^ table[1][(crc >> 8) & 0xFF] ^ table[2][(crc >> 16) & 0xFF] ^ table[3][crc >> 24];
  }
};
constexpr size_t kLane = 4096;  // bytes per lane per block; three lanes hide the crc32 latency
const ShiftOp& LaneShift() {
  static const ShiftOp op(kLane);
  return op;
}

__attribute__((target("sse4.2"))) uint32_t Crc32cHw(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c0 = crc;
  if (n >= 3 * kLane) {
    const ShiftOp& shift = LaneShift();
    while (n >= 3 * kLane) {
      uint64_t c1 = 0, c2 = 0;
      const uint8_t* a = p;
      const uint8_t* b = p + kLane;
      const uint8_t* c = p + 2 * kLane;
      for (size_t i = 0; i < kLane; i += 8) {
        uint64_t wa, wb, wc;
        std::memcpy(&wa, a + i, 8);
        std::memcpy(&wb, b + i, 8);
        std::memcpy(&wc, c + i, 8);
        c0 = _mm_crc32_u64(c0, wa);
        c1 = _mm_crc32_u64(c1, wb);
        c2 = _mm_crc32_u64(c2, wc);
      }
      c0 = shift.Apply(static_cast<uint32_t>(c0)) ^ c1;
      c0 = shift.Apply(static_cast<uint32_t>(c0)) ^ c2;
      p += 3 * kLane;
      n -= 3 * kLane;
    }
  }
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c0 = _mm_crc32_u64(c0, w);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c0);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}
#endif

bool DetectHw() {
#if defined(ECOM_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

}  // namespace

bool Crc32cHardware() {
  static const bool hw = DetectHw();
  return hw;
}

uint32_t Crc32c(uint32_t crc, const uint8_t* data, size_t len) {
  crc = ~crc;
#if defined(ECOM_X86) && (defined(__GNUC__) || defined(__clang__))
  if (Crc32cHardware()) return ~Crc32cHw(crc, data, len);
#endif
  return ~Crc32cSoft(crc, data, len);
}

// ---- xxHash64 (reference algorithm by Yann Collet) ----
namespace {
constexpr uint64_t P1 = 11400714785074694791ull, P2 = 14029467366897019727ull, P3 = 1609587929392839161ull,
                   P4 = 9650029242287828579ull, P5 = 2870177450012600261ull;
inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t Read64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
inline uint32_t Read32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t Round(uint64_t acc, uint64_t input) {
  acc += input * P2;
  acc = Rotl(acc, 31);
  return acc * P1;
}
inline uint64_t Merge(uint64_t acc, uint64_t val) {
  acc ^= Round(0, val);
  return acc * P1 + P4;
}
uint64_t Finalize(uint64_t h, const uint8_t* p, size_t len) {
  while (len >= 8) { h ^= Round(0, Read64(p)); h = Rotl(h, 27) * P1 + P4; p += 8; len -= 8; }
  if (len >= 4) { h ^= static_cast<uint64_t>(Read32(p)) * P1; h = Rotl(h, 23) * P2 + P3; p += 4; len -= 4; }
  while (len > 0) { h ^= (*p) * P5; h = Rotl(h, 11) * P1; p++; len--; }
  h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
  return h;
}
}  // namespace

void Xxh64Reset(Xxh64State* s, uint64_t seed) {
  std::memset(s, 0, sizeof *s);
  s->seed = seed;
  s->v[0] = seed + P1 + P2;
  s->v[1] = seed + P2;
  s->v[2] = seed;
  s->v[3] = seed - P1;
}

void Xxh64Update(Xxh64State* s, const uint8_t* p, size_t len) {
  s->total_len += len;
  if (s->memsize + len < 32) {
    std::memcpy(s->mem + s->memsize, p, len);
    s->memsize += static_cast<uint32_t>(len);
    return;
  }
  if (s->memsize) {
    size_t fill = 32 - s->memsize;
    std::memcpy(s->mem + s->memsize, p, fill);
    for (int i = 0; i < 4; i++) s->v[i] = Round(s->v[i], Read64(s->mem + 8 * i));
    p += fill;
    len -= fill;
    s->memsize = 0;
  }
  uint64_t v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3];
  while (len >= 32) {
    v0 = Round(v0, Read64(p)); v1 = Round(v1, Read64(p + 8));
    v2 = Round(v2, Read64(p + 16)); v3 = Round(v3, Read64(p + 24));
    p += 32;
    len -= 32;
  }
  s->v[0] = v0; s->v[1] = v1; s->v[2] = v2; s->v[3] = v3;
  if (len) {
    std::memcpy(s->mem, p, len);
    s->memsize = static_cast<uint32_t>(len);
  }
}

uint64_t Xxh64Digest(const Xxh64State* s) {
  uint64_t h;
  if (s->total_len >= 32) {
    h = Rotl(s->v[0], 1) + Rotl(s->v[1], 7) + Rotl(s->v[2], 12) + Rotl(s->v[3], 18);
    for (int i = 0; i < 4; i++) h = Merge(h, s->v[i]);
  } else {
    h = s->seed + P5;
  }
  h += s->total_len;
  return Finalize(h, s->mem, s->memsize);
}

uint64_t Xxh64(const uint8_t* data, size_t len, uint64_t seed) {
  Xxh64State s;
  Xxh64Reset(&s, seed);
  Xxh64Update(&s, data, len);
  return Xxh64Digest(&s);
}

}  // namespace ecom
