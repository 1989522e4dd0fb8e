// The two big tables of the access index, laid out for memory (issue 16: at most 150 bytes per account with
// its memberships and habilitations). A hash map keyed by value keeps a key-and-value slot for every bucket,
// and flat_hash_map keeps half its buckets empty after it doubles: with 88-byte accounts that is about 200
// bytes per account. Here the records sit in fixed chunks, and the hash table holds 4-byte slot numbers,
// hashed through the record they name.
#ifndef HABILIS_SERVER_DOMAIN_ACCESS_COMPACT_TABLES_H_
#define HABILIS_SERVER_DOMAIN_ACCESS_COMPACT_TABLES_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace habilis::domain {

// Records that never move once added (pointers to them stay valid), in chunks of about 2 MiB, found by a
// 64-bit key that each record holds (`uint64_t key() const`, and `explicit Record(uint64_t key)`).
// `Allocator` allocates the chunks and the table (huge pages, for a table read at random).
template <typename Record, template <typename> class Allocator>
class ChunkedTable {
 public:
  using Slot = uint32_t;

  ChunkedTable() : slots_(0, Hash{this}, Equal{this}) {}
  ChunkedTable(const ChunkedTable&) = delete;
  ChunkedTable& operator=(const ChunkedTable&) = delete;

  const Record* Find(uint64_t key) const {
    auto it = slots_.find(Key{key});
    return it == slots_.end() ? nullptr : &At(*it);
  }
  std::optional<Slot> SlotOf(uint64_t key) const {
    auto it = slots_.find(Key{key});
    return it == slots_.end() ? std::nullopt : std::optional<Slot>(*it);
  }
  // The record of `key`, added (Record(key)) if absent.
  Slot FindOrAdd(uint64_t key) {
    if (std::optional<Slot> slot = SlotOf(key)) return *slot;
    const Slot slot = AddRecord(key);
    slots_.insert(slot);
    return slot;
  }
  // Adds the record of a `key` known to be new (a load that read each key once) and returns its slot: one
  // probe of the table where FindOrAdd makes two. nullopt, and nothing added, if the key was there.
  std::optional<Slot> Append(uint64_t key) {
    const Slot slot = AddRecord(key);
    if (slots_.insert(slot).second) return slot;
    chunks_[slot / kPerChunk].pop_back();
    --size_;
    return std::nullopt;
  }
  Record& At(Slot slot) { return chunks_[slot / kPerChunk][slot % kPerChunk]; }
  const Record& At(Slot slot) const { return chunks_[slot / kPerChunk][slot % kPerChunk]; }

  size_t size() const { return size_; }
  // Room for `count` records without growing the table, their chunks allocated (a load that knows how many
  // come).
  void Reserve(size_t count) {
    slots_.reserve(count);
    while (chunks_.size() * kPerChunk < count) chunks_.emplace_back().reserve(kPerChunk);
  }
  // Where the chunks lie, each (start, bytes), records or not yet: for a load to fault their pages in ahead.
  std::vector<std::pair<void*, size_t>> ChunkMemory() {
    std::vector<std::pair<void*, size_t>> regions;
    for (auto& chunk : chunks_) regions.emplace_back(chunk.data(), chunk.capacity() * sizeof(Record));
    return regions;
  }
  // The bytes the chunks and the table hold (not what records allocate themselves).
  size_t MemoryBytes() const {
    return chunks_.size() * kPerChunk * sizeof(Record) + slots_.capacity() * (sizeof(Slot) + 1);
  }

 private:
  static constexpr size_t kPerChunk = (2u << 20) / sizeof(Record);  // one huge page: at most one unused
  // Places the record of `key` after the others (in a chunk Reserve allocated, or a new one; a chunk is
  // reserved whole, so it never moves) and returns its slot; the table is left to the caller.
  Slot AddRecord(uint64_t key) {
    const size_t chunk = size_ / kPerChunk;
    if (chunk == chunks_.size()) chunks_.emplace_back().reserve(kPerChunk);
    chunks_[chunk].emplace_back(key);
    return static_cast<Slot>(size_++);
  }
  struct Key {
    uint64_t value;
  };
  struct Hash {
    using is_transparent = void;
    const ChunkedTable* table;
    size_t operator()(Slot slot) const { return absl::Hash<uint64_t>()(table->At(slot).key()); }
    size_t operator()(Key key) const { return absl::Hash<uint64_t>()(key.value); }
  };
  struct Equal {
    using is_transparent = void;
    const ChunkedTable* table;
    // By key, not by number: Append's insert of a new slot must find the slot of the same key (it did not,
    // so a key added twice was taken twice, until compact_tables_test).
    bool operator()(Slot a, Slot b) const { return table->At(a).key() == table->At(b).key(); }
    bool operator()(Slot a, Key b) const { return table->At(a).key() == b.value; }
    bool operator()(Key a, Slot b) const { return a.value == table->At(b).key(); }
  };

  std::vector<std::vector<Record, Allocator<Record>>> chunks_;
  size_t size_ = 0;
  absl::flat_hash_set<Slot, Hash, Equal, Allocator<Slot>> slots_;
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

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ACCESS_COMPACT_TABLES_H_
