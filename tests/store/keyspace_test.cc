// The key encodings sort like the tuples they encode, and read back to them.
#include "store/keyspace.h"

#include <algorithm>
#include <random>
#include <tuple>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "store/encoding.h"

namespace habilis::store {
namespace {

std::string EncodeTuple(const std::string& a, uint64_t n, const std::string& b) {
  std::string key;
  AppendString(&key, a);
  AppendUint64(&key, n);
  AppendString(&key, b);
  return key;
}

TEST(Encoding, Uint64IsBigEndianAndSortsNumerically) {
  std::string one, two, big;
  AppendUint64(&one, 1);
  AppendUint64(&two, 256);
  AppendUint64(&big, UINT64_MAX);
  EXPECT_EQ(one, std::string("\0\0\0\0\0\0\0\x01", 8));
  EXPECT_LT(one, two);
  EXPECT_LT(two, big);
}

TEST(Encoding, StringsSortLikeTheirTuplesIncludingPrefixesAndZeroBytes) {
  // "ab" < "ab\0" < "ab\0\0" < "ab\x01" < "abc": a shorter string sorts first, zero bytes survive.
  const std::vector<std::string> ordered = {
      "",    std::string("\0", 1), "a", "ab", std::string("ab\0", 3), std::string("ab\0\0", 4), "ab\x01", "abc", "b",
      "\xff"};
  for (size_t i = 0; i + 1 < ordered.size(); ++i) {
    std::string lo, hi;
    AppendString(&lo, ordered[i]);
    AppendString(&hi, ordered[i + 1]);
    EXPECT_LT(lo, hi) << i;
  }
}

TEST(Encoding, RandomTuplesSortAsTuples) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> len(0, 4), byte(0, 3), small(0, 3);
  auto random_string = [&] {
    std::string s;
    for (int i = len(rng); i > 0; --i) s.push_back(static_cast<char>(byte(rng) == 3 ? 0xFF : byte(rng)));
    return s;
  };
  std::vector<std::tuple<std::string, uint64_t, std::string>> tuples;
  for (int i = 0; i < 2000; ++i) {
    uint64_t n = small(rng) == 0 ? rng() : static_cast<uint64_t>(small(rng));
    tuples.emplace_back(random_string(), n, random_string());
  }
  std::vector<std::pair<std::string, size_t>> keys;
  for (size_t i = 0; i < tuples.size(); ++i) {
    const auto& [a, n, b] = tuples[i];
    keys.emplace_back(EncodeTuple(a, n, b), i);
  }
  std::sort(keys.begin(), keys.end());
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    EXPECT_LE(tuples[keys[i].second], tuples[keys[i + 1].second]);
  }
}

TEST(Encoding, ComponentsReadBack) {
  std::string key = EncodeTuple(std::string("x\0y", 3), 77, "");
  absl::string_view in(key);
  EXPECT_EQ(ConsumeString(&in), std::string("x\0y", 3));
  EXPECT_EQ(ConsumeUint64(&in), 77u);
  EXPECT_EQ(ConsumeString(&in), "");
  EXPECT_TRUE(in.empty());
}

TEST(Encoding, MalformedComponentsAreRefused) {
  absl::string_view unterminated("abc");
  EXPECT_FALSE(ConsumeString(&unterminated).has_value());
  absl::string_view bad_escape("a\0\x02", 3);
  EXPECT_FALSE(ConsumeString(&bad_escape).has_value());
  absl::string_view short_int("\0\0\0", 3);
  EXPECT_FALSE(ConsumeUint64(&short_int).has_value());
}

TEST(Encoding, PrefixEndBoundsEveryKeyWithThePrefix) {
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd("\xff\xff"), "");
}

TEST(Keyspace, ServicesOfOneStructureAreContiguousAndOrderedById) {
  const std::string a1 = ServiceKey("73282932000074", "alpha");
  const std::string a2 = ServiceKey("73282932000074", "beta");
  const std::string other = ServiceKey("73282932000075", "aaa");
  const std::string prefix = ServicePrefix("73282932000074");
  EXPECT_TRUE(absl::StartsWith(a1, prefix));
  EXPECT_TRUE(absl::StartsWith(a2, prefix));
  EXPECT_FALSE(absl::StartsWith(other, prefix));
  EXPECT_LT(a1, a2);
  EXPECT_LT(a2, PrefixEnd(prefix));
  EXPECT_EQ(SecondComponent(a2), "beta");
}

TEST(Keyspace, RecordKindsDoNotOverlap) {
  const std::vector<std::string> prefixes = {StructurePrefix(), ServicePrefix(""), ApplicationPrefix(), ApiKeyPrefix(),
                                             MetaKey("")};
  for (size_t i = 0; i < prefixes.size(); ++i) {
    for (size_t j = 0; j < prefixes.size(); ++j) {
      if (i != j) {
        EXPECT_NE(prefixes[i][0], prefixes[j][0]) << i << " " << j;
      }
    }
  }
}

}  // namespace
}  // namespace habilis::store
