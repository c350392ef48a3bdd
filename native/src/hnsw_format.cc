// The vector index file format: versioned, CRC32C-checksummed, validated field by field on load so a
// corrupted or foreign file is a coded error, never a crash. Layout documented in docs/native.md; the
// TypeScript fallback (src/native/fallback/hnsw.ts) reads and writes the same bytes.
#include <cstring>

#include "checksum.h"
#include "hnsw.h"

namespace ecom {
namespace {

constexpr char kMagic[8] = {'E', 'C', 'O', 'M', 'H', 'N', 'S', 'W'};
constexpr size_t kHeaderSize = 48;

template <class T>
void Put(std::vector<uint8_t>& out, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof(T));
}
template <class T>
T Get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

std::vector<uint8_t> Hnsw::Serialize() const {
  const uint32_t n = count_.load();
  std::vector<uint8_t> out;
  size_t upper_total = 0;
  for (uint32_t i = 0; i < n; i++) upper_total += upper_[i].size();
  out.reserve(kHeaderSize + n * 12ull + n * 4ull * dim_ + n * 4ull * (m0_ + 1) + upper_total * 4 + 4);
  uint64_t magic;
  std::memcpy(&magic, kMagic, 8);
  Put<uint64_t>(out, magic);
  Put<uint32_t>(out, kFormatVersion);
  Put<uint32_t>(out, static_cast<uint32_t>(space_));
  Put<uint32_t>(out, dim_);
  Put<uint32_t>(out, m_);
  Put<uint32_t>(out, ef_construction_);
  Put<uint32_t>(out, n);
  Put<uint32_t>(out, entry_.load());
  Put<int32_t>(out, max_level_.load());
  Put<uint64_t>(out, seed_);
  for (uint32_t i = 0; i < n; i++) {
    Put<uint32_t>(out, labels_[i]);
    Put<uint32_t>(out, deleted_[i].load());
    Put<uint32_t>(out, static_cast<uint32_t>(levels_[i]));
  }
  const auto* vp = reinterpret_cast<const uint8_t*>(data_.data());
  out.insert(out.end(), vp, vp + sizeof(float) * n * dim_);
  const auto* lp = reinterpret_cast<const uint8_t*>(links0_.data());
  out.insert(out.end(), lp, lp + sizeof(uint32_t) * n * (m0_ + 1));
  for (uint32_t i = 0; i < n; i++) {
    const auto* up = reinterpret_cast<const uint8_t*>(upper_[i].data());
    out.insert(out.end(), up, up + sizeof(uint32_t) * upper_[i].size());
  }
  Put<uint32_t>(out, Crc32c(0, out.data(), out.size()));
  return out;
}

std::unique_ptr<Hnsw> Hnsw::Deserialize(const uint8_t* p, size_t len, HnswError& err) {
  auto fail = [&](const char* code, const std::string& msg) {
    err = {code, msg};
    return nullptr;
  };
  const char* kCorrupt = "ECOM_ERR_NATIVE_INDEX_CORRUPT";
  if (len < 8 || std::memcmp(p, kMagic, 8) != 0) return fail("ECOM_ERR_NATIVE_INDEX_FORMAT", "not an ecom vector index file (bad magic)");
  if (len < kHeaderSize + 4) return fail(kCorrupt, "index file is truncated");
  uint32_t version = Get<uint32_t>(p + 8);
  if (version != kFormatVersion)
    return fail("ECOM_ERR_NATIVE_INDEX_FORMAT", "unsupported index format version " + std::to_string(version));
  uint32_t stored_crc = Get<uint32_t>(p + len - 4);
  if (Crc32c(0, p, len - 4) != stored_crc) return fail(kCorrupt, "index file checksum mismatch");
  uint32_t space = Get<uint32_t>(p + 12), dim = Get<uint32_t>(p + 16), m = Get<uint32_t>(p + 20),
           efc = Get<uint32_t>(p + 24), n = Get<uint32_t>(p + 28), entry = Get<uint32_t>(p + 32);
  int32_t max_level = Get<int32_t>(p + 36);
  uint64_t seed = Get<uint64_t>(p + 40);
  if (space > 2 || dim == 0 || dim > 65536 || m < 2 || m > 2048 || efc == 0) return fail(kCorrupt, "index header is invalid");
  const uint64_t m0 = 2ull * m;
  uint64_t need = kHeaderSize + 12ull * n + 4ull * n * dim + 4ull * n * (m0 + 1) + 4;
  if (need > len) return fail(kCorrupt, "index file is truncated");
  auto idx = std::make_unique<Hnsw>(dim, static_cast<Space>(space), m, efc, seed);
  idx->Reserve(n);
  const uint8_t* q = p + kHeaderSize;
  uint64_t upper_words = 0;
  for (uint32_t i = 0; i < n; i++, q += 12) {
    uint32_t label = Get<uint32_t>(q), del = Get<uint32_t>(q + 4), level = Get<uint32_t>(q + 8);
    if (del > 1 || level > 32) return fail(kCorrupt, "index node record is invalid");
    if (!idx->label_to_id_.emplace(label, i).second) return fail(kCorrupt, "index holds a duplicate id");
    idx->labels_[i] = label;
    idx->levels_[i] = static_cast<int32_t>(level);
    idx->deleted_[i].store(static_cast<uint8_t>(del));
    if (del) {
      idx->free_ids_.push_back(i);
      idx->deleted_count_.fetch_add(1);
    }
    upper_words += static_cast<uint64_t>(level) * (m + 1);
  }
  if (need + 4 * upper_words != len) return fail(kCorrupt, "index file has the wrong length");
  std::memcpy(idx->data_.data(), q, 4ull * n * dim);
  q += 4ull * n * dim;
  std::memcpy(idx->links0_.data(), q, 4ull * n * (m0 + 1));
  q += 4ull * n * (m0 + 1);
  for (uint32_t i = 0; i < n; i++) {
    size_t words = static_cast<size_t>(idx->levels_[i]) * (m + 1);
    idx->upper_[i].resize(words);
    std::memcpy(idx->upper_[i].data(), q, 4 * words);
    q += 4 * words;
  }
  // Every link must point inside the index, or a search would read out of bounds.
  for (uint32_t i = 0; i < n; i++) {
    for (int level = 0; level <= idx->levels_[i]; level++) {
      const uint32_t* l = idx->Links(i, level);
      uint32_t cap = level == 0 ? static_cast<uint32_t>(m0) : m;
      if (l[0] > cap) return fail(kCorrupt, "index link list is too long");
      for (uint32_t j = 1; j <= l[0]; j++) {
        if (l[j] >= n || idx->levels_[l[j]] < level) return fail(kCorrupt, "index link points outside the graph");
      }
    }
  }
  if (n == 0 ? (entry != kNone || max_level != -1) : (entry >= n || idx->levels_[entry] != max_level))
    return fail(kCorrupt, "index entry point is invalid");
  idx->count_.store(n);
  idx->entry_.store(entry);
  idx->max_level_.store(max_level);
  return idx;
}

}  // namespace ecom
