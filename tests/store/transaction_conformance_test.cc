// The reading contract of store::Transaction (store/store.h: reads see the transaction's own writes on top of
// its snapshot), as one typed suite that every kind of transaction passes: each backend's own (PostgreSQL's
// holds its writes back until a read or the commit), and the overlay over a snapshot
// (store/overlay_transaction.h). None commits here: what each writes must stay unseen.
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "store/encoding.h"
#include "store/overlay_transaction.h"
#include "store/store.h"
#include "tests/store/backend_factories.h"

namespace habilis::store {
namespace {

using Body = absl::FunctionRef<absl::Status(Transaction&)>;

// A backend's transaction, run as a dry run so that nothing commits.
template <typename Factory>
struct StoreTransactions {
  using Backend = Factory;
  static absl::Status Run(Store& store, Body body) {
    return store.Update([&](Transaction& txn) { return body(txn); }, UpdateOptions{.dry_run = true}).status();
  }
};

// An overlay over a read snapshot of the same store.
struct Overlays {
  using Backend = RocksDbFactory;
  static absl::Status Run(Store& store, Body body) {
    return store
        .Read([&](Reader& snapshot) {
          OverlayTransaction overlay(snapshot);
          return body(overlay);
        })
        .status();
  }
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs ScanAll(Reader& reader, absl::string_view begin, absl::string_view end, int limit = 1000) {
  Pairs seen;
  EXPECT_TRUE(reader
                  .Scan(begin, end,
                        [&](absl::string_view key, absl::string_view value) {
                          seen.emplace_back(key, value);
                          return static_cast<int>(seen.size()) < limit;
                        })
                  .ok());
  return seen;
}

template <typename Kind>
class TransactionConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = backend_.Open();
    ASSERT_TRUE(store_
                    ->Update([](Transaction& txn) -> absl::Status {
                      for (const char* key : {"a", "c", "e", "g"}) {
                        if (absl::Status put = txn.Put(key, std::string("snapshot ") + key); !put.ok()) return put;
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }

  // Runs `body` in a transaction of the kind under test that has made the writes every test starts from.
  void WithWrites(absl::FunctionRef<void(Transaction&)> body) {
    ASSERT_TRUE(Kind::Run(*store_, [&](Transaction& txn) -> absl::Status {
                  EXPECT_TRUE(txn.Put("b", "written b").ok());
                  EXPECT_TRUE(txn.Put("c", "written c").ok());
                  EXPECT_TRUE(txn.Delete("e").ok());
                  EXPECT_TRUE(txn.Put("h", "written h").ok());
                  EXPECT_TRUE(txn.Put("z", "written z").ok());
                  body(txn);
                  return absl::OkStatus();
                }).ok());
  }

  typename Kind::Backend backend_;
  std::unique_ptr<Store> store_;
};

using Kinds = ::testing::Types<StoreTransactions<RocksDbFactory>, StoreTransactions<PostgresFactory>, Overlays>;
TYPED_TEST_SUITE(TransactionConformance, Kinds);

TYPED_TEST(TransactionConformance, GetSeesItsOwnPutsAndDeletesOverTheSnapshot) {
  this->WithWrites([](Transaction& txn) {
    EXPECT_EQ(txn.Get("a").value(), "snapshot a");
    EXPECT_EQ(txn.Get("b").value(), "written b");
    EXPECT_EQ(txn.Get("c").value(), "written c");
    EXPECT_TRUE(absl::IsNotFound(txn.Get("e").status()));
    EXPECT_TRUE(absl::IsNotFound(txn.Get("f").status()));
  });
}

TYPED_TEST(TransactionConformance, ScanMergesItsOwnWritesWithTheSnapshotInKeyOrder) {
  this->WithWrites([](Transaction& txn) {
    EXPECT_EQ(
        ScanAll(txn, "a", "i"),
        (Pairs{{"a", "snapshot a"}, {"b", "written b"}, {"c", "written c"}, {"g", "snapshot g"}, {"h", "written h"}}));
    EXPECT_EQ(ScanAll(txn, "b", "d"), (Pairs{{"b", "written b"}, {"c", "written c"}}));
    EXPECT_EQ(ScanAll(txn, "d", "g"), Pairs{}) << "a deleted entry is not visited";
    EXPECT_EQ(ScanAll(txn, "g", "").back(), (std::pair<std::string, std::string>{"z", "written z"}))
        << "an empty end has no upper bound";
  });
}

TYPED_TEST(TransactionConformance, ScanStopsWhenTheVisitorSaysSoWhicheverSideTheEntryComesFrom) {
  this->WithWrites([](Transaction& txn) {
    EXPECT_EQ(ScanAll(txn, "a", "", 2), (Pairs{{"a", "snapshot a"}, {"b", "written b"}}));
    EXPECT_EQ(ScanAll(txn, "a", "", 3).back().first, "c");
    EXPECT_EQ(ScanAll(txn, "g", "", 2), (Pairs{{"g", "snapshot g"}, {"h", "written h"}}));
  });
}

TYPED_TEST(TransactionConformance, ScanPrefixSeesItsOwnWrites) {
  this->WithWrites([](Transaction& txn) {
    ASSERT_TRUE(txn.Put("p/2", "two").ok());
    ASSERT_TRUE(txn.Put("p/1", "one").ok());
    Pairs seen;
    ASSERT_TRUE(ScanPrefix(txn, "p/", [&](absl::string_view key, absl::string_view value) {
                  seen.emplace_back(key, value);
                  return true;
                }).ok());
    EXPECT_EQ(seen, (Pairs{{"p/1", "one"}, {"p/2", "two"}}));
  });
}

TYPED_TEST(TransactionConformance, AWriteAfterADeleteOrAnotherWriteIsTheOneSeen) {
  this->WithWrites([](Transaction& txn) {
    ASSERT_TRUE(txn.Put("e", "back again").ok());
    ASSERT_TRUE(txn.Delete("b").ok());
    ASSERT_TRUE(txn.Put("c", "written twice").ok());
    EXPECT_EQ(ScanAll(txn, "a", "f"), (Pairs{{"a", "snapshot a"}, {"c", "written twice"}, {"e", "back again"}}));
  });
}

TYPED_TEST(TransactionConformance, LogEntriesAndGuardBumpsAreAcceptedAndNothingCommits) {
  const Revision before = this->store_->LatestRevision().value();
  this->WithWrites([](Transaction& txn) {
    EXPECT_TRUE(txn.AppendToLog("log/", "entry").ok());
    EXPECT_TRUE(txn.ProtectRange("guard").ok());
  });
  EXPECT_EQ(this->store_->LatestRevision().value(), before);
  // (The store's own entries sort before "a".)
  ASSERT_TRUE(this->store_
                  ->Read([](Reader& reader) -> absl::Status {
                    EXPECT_EQ(
                        ScanAll(reader, "a", ""),
                        (Pairs{{"a", "snapshot a"}, {"c", "snapshot c"}, {"e", "snapshot e"}, {"g", "snapshot g"}}));
                    return absl::OkStatus();
                  })
                  .ok());
}

}  // namespace
}  // namespace habilis::store
