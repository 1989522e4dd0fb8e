// The tables of the access index, laid out for memory (issue 16: at most 150 bytes per account with its
// memberships and habilitations) and for few cache misses a lookup (a check reads them at random). A hash map
// keyed by value keeps a key-and-value slot for every bucket, and flat_hash_map keeps half its buckets empty
// after it doubles: with 88-byte accounts that is about 200 bytes per account. Here the records sit in fixed
// chunks, and the hash tables hold 4-byte slot numbers, hashed through the record they name.
#ifndef HABILIS_SERVER_DOMAIN_ACCESS_COMPACT_TABLES_H_
#define HABILIS_SERVER_DOMAIN_ACCESS_COMPACT_TABLES_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace habilis::domain {

// Records that never move once added (pointers to them stay valid), in chunks of about 2 MiB, found by a
// 64-bit key that each record holds (`uint64_t key() const`, and `explicit Record(uint64_t key)`).
// `Allocator` allocates the chunks and the table (huge pages, for a table read at random).
//
// The table of slots is written here rather than taken from absl: flat_hash_set keeps its control bytes and
// its slots in two arrays, so a lookup at random misses the cache three times (control bytes, slot, record).
// Here a bucket is one cache line holding twelve 1-byte tags (8 bits of the key's hash) beside the twelve
// slots they describe: a lookup reads one line, then the record of a slot whose tag matches (two misses, the
// third in 1 of 256 tag matches). Records are never removed (an index keeps a deleted account's entry), so a
// bucket fills in order and a key's chain ends at the first bucket with room: no tombstones, no deletion.
template <typename Record, template <typename> class Allocator>
class ChunkedTable {
 public:
  using Slot = uint32_t;

  ChunkedTable() = default;
  ChunkedTable(const ChunkedTable&) = delete;
  ChunkedTable& operator=(const ChunkedTable&) = delete;

  const Record* Find(uint64_t key) const {
    std::optional<Slot> slot = SlotOf(key);
    return slot ? &At(*slot) : nullptr;
  }
  std::optional<Slot> SlotOf(uint64_t key) const {
    if (buckets_.empty()) return std::nullopt;
    return Probe(key, absl::Hash<uint64_t>()(key)).found;
  }
  // The record of `key`, added (Record(key)) if absent.
  Slot FindOrAdd(uint64_t key) { return Add(key).first; }
  // Adds the record of a `key` known to be new (a load that read each key once) and returns its slot;
  // nullopt, and nothing added, if the key was there.
  std::optional<Slot> Append(uint64_t key) {
    const auto [slot, added] = Add(key);
    return added ? std::optional<Slot>(slot) : std::nullopt;
  }
  Record& At(Slot slot) { return chunks_[slot / kPerChunk][slot % kPerChunk]; }
  const Record& At(Slot slot) const { return chunks_[slot / kPerChunk][slot % kPerChunk]; }

  size_t size() const { return size_; }
  // Room for `count` records without growing the table, their chunks allocated (a load that knows how many
  // come).
  void Reserve(size_t count) {
    const size_t buckets = (count + kReservePerBucket - 1) / kReservePerBucket;
    if (buckets > buckets_.size()) Rehash(buckets);
    while (chunks_.size() * kPerChunk < count) chunks_.emplace_back().reserve(kPerChunk);
  }
  // Where the chunks lie, each (start, bytes), records or not yet: for a load to fault their pages in ahead.
  std::vector<std::pair<void*, size_t>> ChunkMemory() {
    std::vector<std::pair<void*, size_t>> regions;
    for (auto& chunk : chunks_) regions.emplace_back(chunk.data(), chunk.capacity() * sizeof(Record));
    return regions;
  }
  // The bytes the chunks and the table hold (not what records allocate themselves).
  size_t MemoryBytes() const { return chunks_.size() * kPerChunk * sizeof(Record) + buckets_.capacity() * 64; }

 private:
  static constexpr size_t kPerChunk = (2u << 20) / sizeof(Record);  // one huge page: at most one unused
  static constexpr uint32_t kPerBucket = 12;
  // Buckets hold 12 slots: filled to 7 on average after Reserve (2.7% of them overflow into the next, for a
  // Poisson draw), the table doubles past 8 (6.4%). About 9 bytes an entry, where flat_hash_set takes 10.
  static constexpr size_t kReservePerBucket = 7;
  static constexpr size_t kGrowAtPerBucket = 8;
  struct Bucket {
    uint8_t tags[kPerBucket];
    uint32_t count;
    Slot slots[kPerBucket];
  };
  static_assert(sizeof(Bucket) == 64, "a bucket is one cache line");
  struct Probed {
    std::optional<Slot> found;
    size_t end = 0;  // not found: the bucket where the key's chain ends, which has room
  };

  // The slot of `key` and whether it was added now: one probe, which ends where a new key goes.
  std::pair<Slot, bool> Add(uint64_t key) {
    if (size_ + 1 > buckets_.size() * kGrowAtPerBucket) Rehash(std::max<size_t>(16, buckets_.size() * 2));
    const size_t hash = absl::Hash<uint64_t>()(key);
    const Probed probed = Probe(key, hash);
    if (probed.found) return {*probed.found, false};
    const Slot slot = AddRecord(key);
    Place(buckets_[probed.end], hash, slot);
    return {slot, true};
  }
  size_t NextBucket(size_t b) const { return b + 1 == buckets_.size() ? 0 : b + 1; }
  size_t BucketOf(size_t hash) const {  // the high 32 bits, scaled to the bucket count (no modulo)
    return static_cast<size_t>((static_cast<uint64_t>(hash >> 32) * buckets_.size()) >> 32);
  }
  static uint8_t TagOf(size_t hash) { return static_cast<uint8_t>(hash); }
  Probed Probe(uint64_t key, size_t hash) const {
    const uint8_t tag = TagOf(hash);
    for (size_t b = BucketOf(hash);; b = NextBucket(b)) {
      const Bucket& bucket = buckets_[b];
      for (uint32_t matches = TagMatches(bucket, tag); matches != 0; matches &= matches - 1) {
        const Slot slot = bucket.slots[__builtin_ctz(matches)];
        if (At(slot).key() == key) return {slot, 0};
      }
      if (bucket.count < kPerBucket) return {std::nullopt, b};
    }
  }
  // Bit i set for each of the bucket's entries i whose tag is `tag`.
  static uint32_t TagMatches(const Bucket& bucket, uint8_t tag) {
    const uint32_t filled = (1u << bucket.count) - 1;
#ifdef __SSE2__
    // The twelve tags and the count in one 16-byte compare (the count's bytes are masked off).
    const __m128i line = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&bucket));
    const auto equal =
        static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(line, _mm_set1_epi8(static_cast<char>(tag)))));
    return equal & filled;
#else
    uint32_t equal = 0;
    for (uint32_t i = 0; i < kPerBucket; ++i) equal |= static_cast<uint32_t>(bucket.tags[i] == tag) << i;
    return equal & filled;
#endif
  }
  static void Place(Bucket& bucket, size_t hash, Slot slot) {
    bucket.tags[bucket.count] = TagOf(hash);
    bucket.slots[bucket.count] = slot;
    ++bucket.count;
  }
  // The table rebuilt with `count` buckets, each slot placed by its record's key.
  void Rehash(size_t count) {
    std::vector<Bucket, Allocator<Bucket>> old(count, Bucket{});
    old.swap(buckets_);
    for (const Bucket& bucket : old) {
      for (uint32_t i = 0; i < bucket.count; ++i) {
        const size_t hash = absl::Hash<uint64_t>()(At(bucket.slots[i]).key());
        size_t b = BucketOf(hash);
        while (buckets_[b].count == kPerBucket) b = NextBucket(b);
        Place(buckets_[b], hash, bucket.slots[i]);
      }
    }
  }
  // Places the record of `key` after the others (in a chunk Reserve allocated, or a new one; a chunk is
  // reserved whole, so it never moves) and returns its slot; the table is left to the caller.
  Slot AddRecord(uint64_t key) {
    const size_t chunk = size_ / kPerChunk;
    if (chunk == chunks_.size()) chunks_.emplace_back().reserve(kPerChunk);
    chunks_[chunk].emplace_back(key);
    return static_cast<Slot>(size_++);
  }

  std::vector<std::vector<Record, Allocator<Record>>> chunks_;
  size_t size_ = 0;
  std::vector<Bucket, Allocator<Bucket>> buckets_;
};

// Strings (folded logins, SIRETs) to 32-bit values (account slots, structure ids). The strings are copied once into 1
// MiB chunks, each with a 2-byte length; the table holds 8-byte entries. Removing an entry leaves its bytes in the
// chunks until the next start (logins change rarely).
template <template <typename> class Allocator>
class StringTable {
 public:
  StringTable() : entries_(0, Hash{this}, Equal{this}) {}
  StringTable(const StringTable&) = delete;
  StringTable& operator=(const StringTable&) = delete;

  std::optional<uint32_t> Find(absl::string_view text) const {
    auto it = entries_.find(text);
    return it == entries_.end() ? std::nullopt : std::optional<uint32_t>(it->value);
  }
  // Where the text is kept (for TextAt); nullopt (and nothing stored) for a text longer than 65,535 bytes.
  std::optional<uint32_t> Set(absl::string_view text, uint32_t value) {
    if (text.size() > 0xffff) return std::nullopt;
    auto it = entries_.find(text);
    const uint32_t ref = it != entries_.end() ? it->text : Copy(text);
    if (it != entries_.end()) entries_.erase(it);
    entries_.insert(Entry{ref, value});
    return ref;
  }
  // Set for a `text` known to be new (a load that read each text once): one hash where Set makes two. False
  // if the text was there (the entry is left as it was, the copy unused) or is too long.
  bool Add(absl::string_view text, uint32_t value) {
    return text.size() <= 0xffff && entries_.insert(Entry{Copy(text), value}).second;
  }
  // A text Set kept at `ref`; valid while the table lives (texts are never moved or freed).
  absl::string_view TextAt(uint32_t ref) const { return Text(ref); }
  // Calls fn(text, value) for each entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const Entry& entry : entries_) fn(Text(entry.text), entry.value);
  }
  size_t size() const { return entries_.size(); }
  void Reserve(size_t count) { entries_.reserve(count); }
  void Erase(absl::string_view text) {
    auto it = entries_.find(text);
    if (it != entries_.end()) entries_.erase(it);
  }
  size_t MemoryBytes() const { return chunks_.size() * kChunkBytes + entries_.capacity() * (sizeof(Entry) + 1); }

 private:
  static constexpr size_t kChunkBytes = 1u << 20;
  struct Entry {
    uint32_t text;  // chunk << 20 | offset of its length
    uint32_t value;
  };
  absl::string_view Text(uint32_t ref) const {
    const char* at = chunks_[ref >> 20].get() + (ref & (kChunkBytes - 1));
    uint16_t size = 0;
    std::memcpy(&size, at, sizeof(size));
    return absl::string_view(at + sizeof(size), size);
  }
  uint32_t Copy(absl::string_view text) {
    const size_t needed = sizeof(uint16_t) + text.size();
    if (chunks_.empty() || used_ + needed > kChunkBytes) {
      chunks_.push_back(std::make_unique_for_overwrite<char[]>(kChunkBytes));  // not zeroed: written before read
      used_ = 0;
    }
    char* at = chunks_.back().get() + used_;
    const auto size = static_cast<uint16_t>(text.size());
    std::memcpy(at, &size, sizeof(size));
    std::memcpy(at + sizeof(size), text.data(), text.size());
    const auto ref = static_cast<uint32_t>((chunks_.size() - 1) << 20 | used_);
    used_ += needed;
    return ref;
  }
  struct Hash {
    using is_transparent = void;
    const StringTable* table;
    size_t operator()(const Entry& entry) const { return absl::Hash<absl::string_view>()(table->Text(entry.text)); }
    size_t operator()(absl::string_view text) const { return absl::Hash<absl::string_view>()(text); }
  };
  struct Equal {
    using is_transparent = void;
    const StringTable* table;
    bool operator()(const Entry& a, const Entry& b) const { return table->Text(a.text) == table->Text(b.text); }
    bool operator()(const Entry& a, absl::string_view b) const { return table->Text(a.text) == b; }
    bool operator()(absl::string_view a, const Entry& b) const { return a == table->Text(b.text); }
  };

  std::vector<std::unique_ptr<char[]>> chunks_;
  size_t used_ = 0;
  absl::flat_hash_set<Entry, Hash, Equal, Allocator<Entry>> entries_;
};

// Which pairs (row, column) of small dense ids are in a set: a bit each, in a row of 64-bit words per row
// (the structures' subscriptions to applications: a check reads one word, where a hash set of pairs costs two
// misses and 9 bytes a pair). It takes rows × ⌈columns / 64⌉ × 8 bytes: 8 MB for a million structures and up
// to 64 applications.
class PairBits {
 public:
  bool Contains(uint32_t row, uint32_t column) const {
    const size_t word = static_cast<size_t>(row) * words_per_row_ + column / 64;
    return column / 64 < words_per_row_ && word < words_.size() && (words_[word] >> (column % 64) & 1) != 0;
  }
  void Set(uint32_t row, uint32_t column, bool in) {
    if (!in && !Contains(row, column)) return;
    if (column / 64 >= words_per_row_) Widen(column / 64 + 1);
    const size_t word = static_cast<size_t>(row) * words_per_row_ + column / 64;
    if (word >= words_.size()) words_.resize((static_cast<size_t>(row) + 1) * words_per_row_);
    const uint64_t bit = uint64_t{1} << (column % 64);
    if (((words_[word] & bit) != 0) == in) return;
    words_[word] ^= bit;
    count_ += in ? 1 : -1;
  }
  // Room for `rows` rows without growing.
  void Reserve(size_t rows) { words_.reserve(rows * words_per_row_); }
  size_t size() const { return count_; }
  // Calls fn(row, column) for each pair in the set, by row then column.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (size_t word = 0; word < words_.size(); ++word) {
      for (uint64_t bits = words_[word]; bits != 0; bits &= bits - 1) {
        fn(static_cast<uint32_t>(word / words_per_row_),
           static_cast<uint32_t>(word % words_per_row_ * 64 + static_cast<size_t>(__builtin_ctzll(bits))));
      }
    }
  }
  size_t MemoryBytes() const { return words_.capacity() * sizeof(uint64_t); }

 private:
  // Each row now `words` words long, its bits where they were.
  void Widen(size_t words) {
    std::vector<uint64_t> wider(words_.size() / words_per_row_ * words, 0);
    for (size_t word = 0; word < words_.size(); ++word) {
      wider[word / words_per_row_ * words + word % words_per_row_] = words_[word];
    }
    words_.swap(wider);
    words_per_row_ = words;
  }

  size_t words_per_row_ = 1;
  std::vector<uint64_t> words_;
  size_t count_ = 0;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ACCESS_COMPACT_TABLES_H_
