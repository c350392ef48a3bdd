#pragma once
#include <cstddef>
#include <cstdint>

namespace ecom {

// CRC32C (Castagnoli). `crc` is a previous result (0 to start); returns the finalised CRC, so calls chain.
uint32_t Crc32c(uint32_t crc, const uint8_t* data, size_t len);
bool Crc32cHardware();

// xxHash64, streaming. The state is plain data so JavaScript can own it in a Uint8Array.
struct Xxh64State {
  uint64_t total_len;
  uint64_t v[4];
  uint64_t seed;
  uint8_t mem[32];
  uint32_t memsize;
  uint32_t reserved;
};
void Xxh64Reset(Xxh64State* s, uint64_t seed);
void Xxh64Update(Xxh64State* s, const uint8_t* data, size_t len);
uint64_t Xxh64Digest(const Xxh64State* s);
uint64_t Xxh64(const uint8_t* data, size_t len, uint64_t seed);

}  // namespace ecom
