// The access index's two tables (server/domain/access/compact_tables.h): records stay where they were put, a
// load that reserves first fills the chunks it allocated, and a key or text added twice is refused without
// leaving a trace.
#include "server/domain/access/compact_tables.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace habilis::domain {
namespace {

struct Record {
  explicit Record(uint64_t key) : key_(key) {}
  uint64_t key() const { return key_; }
  uint64_t key_;
  char payload[40] = {};  // about half an account: several chunks hold a few hundred thousand
};

using Table = ChunkedTable<Record, std::allocator>;
constexpr uint64_t kAcrossChunks = 200000;  // (2 MiB / 48 bytes) = 43,690 a chunk: five chunks

void FillAndCheck(Table& table) {
  std::vector<const Record*> where;
  for (uint64_t key = 0; key < kAcrossChunks; ++key) {
    std::optional<Table::Slot> slot = table.Append(key * 7919);
    ASSERT_TRUE(slot.has_value()) << key;
    EXPECT_EQ(*slot, key);
    where.push_back(&table.At(*slot));
    if (key % 50000 == 0) {  // a key added twice is refused, and the next record takes the slot it did not
      EXPECT_FALSE(table.Append(key * 7919).has_value());
      EXPECT_EQ(table.size(), key + 1);
    }
  }
  EXPECT_EQ(table.size(), kAcrossChunks);
  for (uint64_t key = 0; key < kAcrossChunks; ++key) {
    EXPECT_EQ(table.Find(key * 7919), where[key]) << "a record never moves";
    EXPECT_EQ(table.SlotOf(key * 7919), key);
  }
  EXPECT_EQ(table.Find(1), nullptr);
  EXPECT_EQ(table.FindOrAdd(1), kAcrossChunks);
  EXPECT_EQ(table.FindOrAdd(7919), 1u);
}

TEST(ChunkedTableTest, RecordsAddedOneByOneStayWhereTheyWerePut) {
  Table table;
  FillAndCheck(table);
}

TEST(ChunkedTableTest, AReservedTableFillsTheChunksItAllocatedAndOffersThemToBeFaultedIn) {
  Table table;
  table.Reserve(kAcrossChunks);
  const std::vector<std::pair<void*, size_t>> regions = table.ChunkMemory();
  ASSERT_EQ(regions.size(), 5u);
  for (const auto& [at, bytes] : regions) EXPECT_GE(bytes, (2u << 20) - sizeof(Record));
  FillAndCheck(table);
  EXPECT_EQ(&table.At(0), regions[0].first) << "the first record is at the start of the first chunk";
  EXPECT_EQ(table.ChunkMemory().size(), 5u) << "the record added past the reservation used the last chunk's room";
}

TEST(StringTableTest, TextsAreKeptOnceAndATextAddedTwiceIsRefused) {
  StringTable<std::allocator> table;
  table.Reserve(3000);
  for (uint32_t i = 0; i < 3000; ++i) {
    ASSERT_TRUE(table.Add(absl::StrCat("login-", i, "@example.fr"), i));  // several 1 MiB chunks of text
  }
  EXPECT_FALSE(table.Add("login-7@example.fr", 99));
  EXPECT_EQ(table.Find("login-7@example.fr"), 7u);
  EXPECT_FALSE(table.Add(std::string(70000, 'x'), 1)) << "longer than a 2-byte length";
  std::optional<uint32_t> ref = table.Set("login-7@example.fr", 8);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(table.TextAt(*ref), "login-7@example.fr");
  EXPECT_EQ(table.Find("login-7@example.fr"), 8u);
  table.Erase("login-7@example.fr");
  EXPECT_EQ(table.Find("login-7@example.fr"), std::nullopt);
  EXPECT_EQ(table.size(), 2999u);
}

TEST(ChunkedTableTest, ItsTableTakesUnderTenBytesAnEntryOnceReserved) {
  Table table;
  table.Reserve(kAcrossChunks);
  const size_t chunks = table.MemoryBytes();
  FillAndCheck(table);
  // FillAndCheck adds one record past the reservation: the table does not double for it.
  EXPECT_LE(table.MemoryBytes() - chunks, 10 * kAcrossChunks);
  for (uint64_t key = 1; key < 2000; key += 2) EXPECT_EQ(table.Find(key * 7919 + 1), nullptr) << "absent keys";
}

TEST(PairBitsTest, PairsComeAndGoAndSurviveAWiderRow) {
  PairBits bits;
  EXPECT_FALSE(bits.Contains(0, 0));
  EXPECT_FALSE(bits.Contains(1000, 1000)) << "beyond the table is outside the set";
  bits.Set(5, 3, false);  // removing what is not there changes nothing
  EXPECT_EQ(bits.size(), 0u);
  EXPECT_EQ(bits.MemoryBytes(), 0u);
  bits.Set(0, 0, true);
  bits.Set(7, 63, true);
  bits.Set(7, 63, true);  // twice: once in the set
  bits.Set(2, 5, true);
  EXPECT_EQ(bits.size(), 3u);
  bits.Set(3, 130, true);  // rows widen to three words; the bits set so far stay
  EXPECT_TRUE(bits.Contains(0, 0));
  EXPECT_TRUE(bits.Contains(7, 63));
  EXPECT_TRUE(bits.Contains(2, 5));
  EXPECT_TRUE(bits.Contains(3, 130));
  EXPECT_FALSE(bits.Contains(3, 2)) << "column 130 of row 3 is not column 2 of row 3 + 2";
  EXPECT_FALSE(bits.Contains(7, 62));
  bits.Set(7, 63, false);
  EXPECT_FALSE(bits.Contains(7, 63));
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  bits.ForEach([&](uint32_t row, uint32_t column) { pairs.emplace_back(row, column); });
  EXPECT_EQ(pairs, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 0}, {2, 5}, {3, 130}}));
  EXPECT_EQ(bits.size(), 3u);
}

}  // namespace
}  // namespace habilis::domain
