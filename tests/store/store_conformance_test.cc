// The contract of store::Store (store/store.h), as one typed suite that every backend must pass.
// A new backend adds a factory below and its type to BackendTypes.
#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/encoding.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store.h"
#include "tests/testing/temp_dir.h"

namespace habilis::store {
namespace {

// Opens a backend on a location that survives Reopen().
struct RocksDbFactory {
  testing::TempDir dir;
  std::unique_ptr<Store> Open() {
    auto store = RocksDbStore::Open(dir.Sub("db"));
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  }
};

template <typename Factory>
class StoreConformance : public ::testing::Test {
 protected:
  void SetUp() override { store_ = factory_.Open(); }
  void Reopen() {
    store_.reset();
    store_ = factory_.Open();
  }

  absl::StatusOr<Revision> Put(const std::string& key, const std::string& value) {
    return store_->Update([&](Transaction& txn) { return txn.Put(key, value); });
  }

  absl::StatusOr<std::string> Get(const std::string& key) {
    std::string value;
    absl::StatusOr<Revision> read = store_->Read([&](Reader& reader) -> absl::Status {
      absl::StatusOr<std::string> got = reader.Get(key);
      if (!got.ok()) return got.status();
      value = *got;
      return absl::OkStatus();
    });
    if (!read.ok()) return read.status();
    return value;
  }

  std::vector<std::string> ScanKeys(Reader& reader, const std::string& begin, const std::string& end) {
    std::vector<std::string> keys;
    EXPECT_TRUE(reader
                    .Scan(begin, end,
                          [&](absl::string_view key, absl::string_view) {
                            keys.emplace_back(key);
                            return true;
                          })
                    .ok());
    return keys;
  }

  Factory factory_;
  std::unique_ptr<Store> store_;
};

using BackendTypes = ::testing::Types<RocksDbFactory>;
TYPED_TEST_SUITE(StoreConformance, BackendTypes);

TYPED_TEST(StoreConformance, GetOfAMissingKeyIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(this->Get("missing").status()));
}

TYPED_TEST(StoreConformance, CommittedWritesAreReadBack) {
  ASSERT_TRUE(this->Put("k", "v").ok());
  EXPECT_EQ(this->Get("k").value(), "v");
  ASSERT_TRUE(this->store_->Update([](Transaction& txn) { return txn.Delete("k"); }).ok());
  EXPECT_TRUE(absl::IsNotFound(this->Get("k").status()));
}

TYPED_TEST(StoreConformance, EveryCommitGetsAGreaterRevision) {
  Revision before = this->store_->LatestRevision();
  Revision first = this->Put("a", "1").value();
  Revision second = this->Put("a", "2").value();
  EXPECT_GT(first, before);
  EXPECT_GT(second, first);
  EXPECT_EQ(this->store_->LatestRevision(), second);
}

TYPED_TEST(StoreConformance, ATransactionReadsItsOwnWrites) {
  ASSERT_TRUE(this->Put("b", "old").ok());
  ASSERT_TRUE(this->Put("d", "doomed").ok());
  absl::StatusOr<Revision> revision = this->store_->Update([&](Transaction& txn) -> absl::Status {
    EXPECT_TRUE(txn.Put("b", "new").ok());
    EXPECT_TRUE(txn.Put("c", "added").ok());
    EXPECT_TRUE(txn.Delete("d").ok());
    EXPECT_EQ(txn.Get("b").value(), "new");
    EXPECT_EQ(txn.Get("c").value(), "added");
    EXPECT_TRUE(absl::IsNotFound(txn.Get("d").status()));
    EXPECT_EQ(this->ScanKeys(txn, "a", "z"), (std::vector<std::string>{"b", "c"}));
    return absl::OkStatus();
  });
  ASSERT_TRUE(revision.ok());
  EXPECT_EQ(this->Get("b").value(), "new");
  EXPECT_TRUE(absl::IsNotFound(this->Get("d").status()));
}

TYPED_TEST(StoreConformance, ScanVisitsTheHalfOpenRangeInKeyOrderAndStopsOnRequest) {
  for (const char* key : {"p/3", "p/1", "q/0", "p/2", "o/9"}) ASSERT_TRUE(this->Put(key, key).ok());
  ASSERT_TRUE(
      this->store_
          ->Read([&](Reader& reader) -> absl::Status {
            EXPECT_EQ(this->ScanKeys(reader, "p/", PrefixEnd("p/")), (std::vector<std::string>{"p/1", "p/2", "p/3"}));
            EXPECT_EQ(this->ScanKeys(reader, "p/2", "q/0"), (std::vector<std::string>{"p/2", "p/3"}));
            EXPECT_EQ(this->ScanKeys(reader, "p/", ""), (std::vector<std::string>{"p/1", "p/2", "p/3", "q/0"}));
            int visited = 0;
            EXPECT_TRUE(reader.Scan("", "", [&](absl::string_view, absl::string_view) { return ++visited < 2; }).ok());
            EXPECT_EQ(visited, 2);
            return absl::OkStatus();
          })
          .ok());
}

TYPED_TEST(StoreConformance, ScanPrefixSeesOnlyThePrefix) {
  for (const char* key : {"ab", "abc", "abd", "ac", "a"}) ASSERT_TRUE(this->Put(key, "").ok());
  std::vector<std::string> keys;
  ASSERT_TRUE(this->store_
                  ->Read([&](Reader& reader) {
                    return ScanPrefix(reader, "ab", [&](absl::string_view key, absl::string_view) {
                      keys.emplace_back(key);
                      return true;
                    });
                  })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"ab", "abc", "abd"}));
}

TYPED_TEST(StoreConformance, AFailedTransactionWritesNothing) {
  ASSERT_TRUE(this->Put("kept", "1").ok());
  Revision before = this->store_->LatestRevision();
  absl::StatusOr<Revision> result = this->store_->Update([](Transaction& txn) -> absl::Status {
    EXPECT_TRUE(txn.Put("kept", "2").ok());
    EXPECT_TRUE(txn.Put("new", "x").ok());
    return absl::FailedPreconditionError("rule broken");
  });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->Get("kept").value(), "1");
  EXPECT_TRUE(absl::IsNotFound(this->Get("new").status()));
  EXPECT_EQ(this->store_->LatestRevision(), before);
}

TYPED_TEST(StoreConformance, ADryRunWritesNothing) {
  Revision before = this->store_->LatestRevision();
  absl::StatusOr<Revision> result =
      this->store_->Update([](Transaction& txn) { return txn.Put("dry", "x"); }, UpdateOptions{.dry_run = true});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, before);
  EXPECT_TRUE(absl::IsNotFound(this->Get("dry").status()));
}

TYPED_TEST(StoreConformance, AConflictOnAReadKeyRunsTheTransactionAgain) {
  ASSERT_TRUE(this->Put("counter", "0").ok());
  int runs = 0;
  absl::StatusOr<Revision> result = this->store_->Update([&](Transaction& txn) -> absl::Status {
    ++runs;
    absl::StatusOr<std::string> value = txn.Get("counter");
    if (!value.ok()) return value.status();
    if (runs == 1) {
      // Another writer commits a change to the key this transaction has read.
      EXPECT_TRUE(this->Put("counter", "5").ok());
    }
    return txn.Put("counter", *value + "+1");
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(this->Get("counter").value(), "5+1");
}

TYPED_TEST(StoreConformance, AnUnwatchedGuardBumpMakesTheGuardsWatchersRunAgain) {
  ASSERT_TRUE(this->Put("guard", "0").ok());
  int runs = 0;
  absl::StatusOr<Revision> result = this->store_->Update([&](Transaction& txn) -> absl::Status {
    ++runs;
    EXPECT_TRUE(txn.Get("guard").ok());
    if (runs == 1) {
      // A writer that bumps the guard without watching it commits in between.
      EXPECT_TRUE(this->store_->Update([](Transaction& other) { return other.BumpGuardUnwatched("guard"); }).ok());
    }
    return txn.Put("guard", "watched");
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(runs, 2);
}

TYPED_TEST(StoreConformance, AnUnwatchedGuardBumpDoesNotConflictAndHoldsItsRevision) {
  ASSERT_TRUE(this->Put("guard", "0").ok());
  int runs = 0;
  absl::StatusOr<Revision> result = this->store_->Update([&](Transaction& txn) -> absl::Status {
    ++runs;
    if (absl::Status bumped = txn.BumpGuardUnwatched("guard"); !bumped.ok()) return bumped;
    if (runs == 1) {
      // Others change the guard after this transaction began, watched or not.
      EXPECT_TRUE(this->Put("guard", "1").ok());
      EXPECT_TRUE(this->store_->Update([](Transaction& other) { return other.BumpGuardUnwatched("guard"); }).ok());
    }
    return txn.Put("row", "mine");
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(runs, 1);
  std::string expected;
  AppendUint64(&expected, *result);
  EXPECT_EQ(this->Get("guard").value(), expected);
  EXPECT_EQ(this->Get("row").value(), "mine");
}

TYPED_TEST(StoreConformance, EndlessConflictsEndInUnavailable) {
  ASSERT_TRUE(this->Put("hot", "0").ok());
  int runs = 0;
  absl::StatusOr<Revision> result = this->store_->Update(
      [&](Transaction& txn) -> absl::Status {
        ++runs;
        EXPECT_TRUE(txn.Get("hot").ok());
        EXPECT_TRUE(this->Put("hot", std::to_string(runs)).ok());
        return txn.Put("hot", "mine");
      },
      UpdateOptions{.max_attempts = 3});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(this->Get("hot").value(), "3");
}

TYPED_TEST(StoreConformance, ConcurrentIncrementsLoseNoUpdate) {
  ASSERT_TRUE(this->Put("n", "0").ok());
  constexpr int kThreads = 4, kIncrements = 50;
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        absl::StatusOr<Revision> r = this->store_->Update(
            [&](Transaction& txn) -> absl::Status {
              absl::StatusOr<std::string> value = txn.Get("n");
              if (!value.ok()) return value.status();
              return txn.Put("n", std::to_string(std::stoi(*value) + 1));
            },
            UpdateOptions{.max_attempts = 1000});
        if (!r.ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(this->Get("n").value(), std::to_string(kThreads * kIncrements));
}

TYPED_TEST(StoreConformance, AReadSeesOneSnapshot) {
  ASSERT_TRUE(this->Put("s", "before").ok());
  ASSERT_TRUE(this->store_
                  ->Read([&](Reader& reader) -> absl::Status {
                    EXPECT_TRUE(this->Put("s", "after").ok());
                    EXPECT_TRUE(this->Put("t", "new").ok());
                    EXPECT_EQ(reader.Get("s").value(), "before");
                    EXPECT_TRUE(absl::IsNotFound(reader.Get("t").status()));
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(this->Get("s").value(), "after");
}

TYPED_TEST(StoreConformance, CommitsAndRevisionsSurviveReopening) {
  ASSERT_TRUE(this->Put("durable", "yes").ok());
  Revision revision = this->Put("other", "1").value();
  this->Reopen();
  EXPECT_EQ(this->Get("durable").value(), "yes");
  EXPECT_EQ(this->store_->LatestRevision(), revision);
  EXPECT_GT(this->Put("after", "1").value(), revision);
}

class RecordingObserver final : public CommitObserver {
 public:
  struct Commit {
    Revision revision;
    std::vector<Change> changes;
  };
  void OnCommit(Revision revision, absl::Span<const Change> changes) override {
    commits.push_back(Commit{revision, std::vector<Change>(changes.begin(), changes.end())});
  }
  std::vector<Commit> commits;
};

std::string Describe(const std::vector<Change>& changes) {
  std::string out;
  for (const Change& change : changes) {
    out += change.key + (change.value ? "=" + *change.value : " deleted") + ";";
  }
  return out;
}

TYPED_TEST(StoreConformance, LogEntriesAreKeyedByTheirCommitsRevisionAndWrittenOnlyWithIt) {
  RecordingObserver observer;
  ASSERT_TRUE(this->store_->Observe(observer, [](Reader&, Revision) { return absl::OkStatus(); }).ok());
  EXPECT_FALSE(this->store_
                   ->Update([](Transaction& txn) -> absl::Status {
                     EXPECT_TRUE(txn.AppendToLog("log/", "failed").ok());
                     return absl::AbortedError("no");
                   })
                   .ok());
  EXPECT_TRUE(
      this->store_->Update([](Transaction& txn) { return txn.AppendToLog("log/", "dry"); }, {.dry_run = true}).ok());
  Revision first = this->store_
                       ->Update([](Transaction& txn) -> absl::Status {
                         EXPECT_TRUE(txn.AppendToLog("log/", "a").ok());
                         EXPECT_TRUE(txn.AppendToLog("log/", "b").ok());
                         return txn.Put("x", "1");
                       })
                       .value();
  Revision second = this->store_->Update([](Transaction& txn) { return txn.AppendToLog("log/", "c"); }).value();

  std::vector<std::string> keys, values;
  ASSERT_TRUE(this->store_
                  ->Read([&](Reader& reader) {
                    return ScanPrefix(reader, "log/", [&](absl::string_view key, absl::string_view value) {
                      keys.emplace_back(key);
                      values.emplace_back(value);
                      return true;
                    });
                  })
                  .ok());
  auto key = [](Revision revision, uint64_t position) {
    std::string k = "log/";
    AppendUint64(&k, revision);
    AppendUint64(&k, position);
    return k;
  };
  EXPECT_EQ(keys, (std::vector<std::string>{key(first, 0), key(first, 1), key(second, 0)}));
  EXPECT_EQ(values, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(observer.commits.size(), 2u);
  EXPECT_EQ(Describe(observer.commits[0].changes), "x=1;" + key(first, 0) + "=a;" + key(first, 1) + "=b;");
}

TYPED_TEST(StoreConformance, ObserveLoadsTheStateThenSeesEveryLaterCommitInOrder) {
  ASSERT_TRUE(this->Put("before", "1").ok());
  Revision loaded_at = 0;
  std::vector<std::string> loaded;
  RecordingObserver observer;
  ASSERT_TRUE(this->store_
                  ->Observe(observer,
                            [&](Reader& reader, Revision revision) {
                              loaded_at = revision;
                              loaded = this->ScanKeys(reader, "", "");
                              return absl::OkStatus();
                            })
                  .ok());
  EXPECT_EQ(loaded_at, this->store_->LatestRevision());
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "before"), loaded.end());
  EXPECT_TRUE(observer.commits.empty());

  Revision first = this->Put("a", "1").value();
  Revision second = this->store_
                        ->Update([](Transaction& txn) -> absl::Status {
                          EXPECT_TRUE(txn.Put("b", "2").ok());
                          EXPECT_TRUE(txn.Delete("a").ok());
                          return absl::OkStatus();
                        })
                        .value();
  ASSERT_EQ(observer.commits.size(), 2u);
  EXPECT_EQ(observer.commits[0].revision, first);
  EXPECT_EQ(Describe(observer.commits[0].changes), "a=1;");
  EXPECT_EQ(observer.commits[1].revision, second);
  EXPECT_EQ(Describe(observer.commits[1].changes), "b=2;a deleted;");
}

TYPED_TEST(StoreConformance, ObserversDoNotSeeFailedDryOrRetriedWrites) {
  RecordingObserver observer;
  ASSERT_TRUE(this->store_->Observe(observer, [](Reader&, Revision) { return absl::OkStatus(); }).ok());
  EXPECT_FALSE(this->store_
                   ->Update([](Transaction& txn) -> absl::Status {
                     EXPECT_TRUE(txn.Put("x", "failed").ok());
                     return absl::FailedPreconditionError("no");
                   })
                   .ok());
  EXPECT_TRUE(this->store_->Update([](Transaction& txn) { return txn.Put("x", "dry"); }, {.dry_run = true}).ok());
  EXPECT_TRUE(observer.commits.empty());

  ASSERT_TRUE(this->Put("counter", "0").ok());
  int runs = 0;
  ASSERT_TRUE(this->store_
                  ->Update([&](Transaction& txn) -> absl::Status {
                    ++runs;
                    EXPECT_TRUE(txn.Get("counter").ok());
                    if (runs == 1) {
                      EXPECT_TRUE(this->Put("counter", "5").ok());
                    }
                    return txn.Put("counter", absl::StrCat("run", runs));
                  })
                  .ok());
  // counter=0, then the concurrent counter=5, then only the attempt that committed.
  ASSERT_EQ(observer.commits.size(), 3u);
  EXPECT_EQ(Describe(observer.commits[2].changes), "counter=run2;");
  EXPECT_LT(observer.commits[1].revision, observer.commits[2].revision);
}

TYPED_TEST(StoreConformance, AFailedLoadAttachesNothingAndStopObservingDetaches) {
  RecordingObserver failed;
  EXPECT_EQ(this->store_->Observe(failed, [](Reader&, Revision) { return absl::DataLossError("bad"); }).code(),
            absl::StatusCode::kDataLoss);
  RecordingObserver detached;
  ASSERT_TRUE(this->store_->Observe(detached, [](Reader&, Revision) { return absl::OkStatus(); }).ok());
  ASSERT_TRUE(this->Put("seen", "1").ok());
  this->store_->StopObserving(detached);
  ASSERT_TRUE(this->Put("unseen", "1").ok());
  EXPECT_TRUE(failed.commits.empty());
  EXPECT_EQ(detached.commits.size(), 1u);
}

TYPED_TEST(StoreConformance, AnObserverHasAppliedEveryRevisionLatestRevisionReports) {
  // A reader thread never sees LatestRevision() ahead of what the observer applied.
  struct Tracking final : CommitObserver {
    std::atomic<Revision> applied{0};
    void OnCommit(Revision revision, absl::Span<const Change>) override { applied.store(revision); }
  } observer;
  ASSERT_TRUE(this->store_
                  ->Observe(observer,
                            [&](Reader&, Revision revision) {
                              observer.applied = revision;
                              return absl::OkStatus();
                            })
                  .ok());
  std::atomic<bool> done = false;
  std::atomic<int> ahead = 0;
  std::thread reader([&] {
    while (!done) {
      Revision latest = this->store_->LatestRevision();
      if (observer.applied.load() < latest) ++ahead;
    }
  });
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(this->Put("k", std::to_string(i)).ok());
  done = true;
  reader.join();
  EXPECT_EQ(ahead.load(), 0);
}

}  // namespace
}  // namespace habilis::store
