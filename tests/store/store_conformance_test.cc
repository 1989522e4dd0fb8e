// The contract of store::Store (store/store.h), as one typed suite that every backend must pass.
// A new backend adds a factory below and its type to BackendTypes.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "store/encoding.h"
#include "store/log.h"
#include "store/postgres/postgres_store.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store.h"
#include "tests/store/backend_factories.h"
#include "tests/testing/temp_dir.h"

namespace habilis::store {
namespace {

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

using BackendTypes = ::testing::Types<RocksDbFactory, PostgresFactory>;
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
  Revision before = this->store_->LatestRevision().value();
  Revision first = this->Put("a", "1").value();
  Revision second = this->Put("a", "2").value();
  EXPECT_GT(first, before);
  EXPECT_GT(second, first);
  EXPECT_EQ(this->store_->LatestRevision().value(), second);
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

// A commit of many writes (PostgreSQL sends them in chunks): each key holds its last write, in one revision.
TYPED_TEST(StoreConformance, ALargeCommitHoldsTheLastWriteOfEachKey) {
  constexpr int kKeys = 1000;
  auto key = [](int i) { return absl::StrCat("k/", 10000 + i); };
  ASSERT_TRUE(this->store_
                  ->Update([&](Transaction& txn) -> absl::Status {
                    for (int i = 0; i < kKeys; ++i) EXPECT_TRUE(txn.Put(key(i), "first").ok());
                    return absl::OkStatus();
                  })
                  .ok());
  // Every third deleted, every fifth rewritten, every fifteenth deleted then written again.
  ASSERT_TRUE(this->store_
                  ->Update([&](Transaction& txn) -> absl::Status {
                    for (int i = 0; i < kKeys; ++i) {
                      if (i % 3 == 0) {
                        EXPECT_TRUE(txn.Delete(key(i)).ok());
                      }
                      if (i % 5 == 0) {
                        EXPECT_TRUE(txn.Put(key(i), "second").ok());
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::vector<std::string> expected;
  for (int i = 0; i < kKeys; ++i) {
    if (i % 3 != 0 || i % 5 == 0) expected.push_back(key(i));
  }
  ASSERT_TRUE(this->store_
                  ->Read([&](Reader& reader) -> absl::Status {
                    EXPECT_EQ(this->ScanKeys(reader, "k/", PrefixEnd("k/")), expected);
                    EXPECT_EQ(reader.Get(key(15)).value_or(""), "second");
                    EXPECT_EQ(reader.Get(key(1)).value_or(""), "first");
                    return absl::OkStatus();
                  })
                  .ok());
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
  Revision before = this->store_->LatestRevision().value();
  absl::StatusOr<Revision> result = this->store_->Update([](Transaction& txn) -> absl::Status {
    EXPECT_TRUE(txn.Put("kept", "2").ok());
    EXPECT_TRUE(txn.Put("new", "x").ok());
    return absl::FailedPreconditionError("rule broken");
  });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->Get("kept").value(), "1");
  EXPECT_TRUE(absl::IsNotFound(this->Get("new").status()));
  EXPECT_EQ(this->store_->LatestRevision().value(), before);
}

TYPED_TEST(StoreConformance, ADryRunWritesNothing) {
  Revision before = this->store_->LatestRevision().value();
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

// A key read again after another writer changed it reads what the transaction's snapshot held (RocksDB
// remembers a read), and the transaction still runs again on the change.
TYPED_TEST(StoreConformance, AKeyReadTwiceReadsTheSnapshotBothTimesAndTheChangeStillConflicts) {
  ASSERT_TRUE(this->Put("counter", "0").ok());
  int runs = 0;
  std::vector<std::string> second_reads;
  absl::StatusOr<Revision> result = this->store_->Update([&](Transaction& txn) -> absl::Status {
    ++runs;
    absl::StatusOr<std::string> first = txn.Get("counter");
    if (!first.ok()) return first.status();
    if (runs == 1) {
      EXPECT_TRUE(this->Put("counter", "5").ok());  // another writer, between the two reads
    }
    absl::StatusOr<std::string> second = txn.Get("counter");
    if (!second.ok()) return second.status();
    second_reads.push_back(*second);
    return txn.Put("counter", *second + "+1");
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(second_reads, (std::vector<std::string>{"0", "5"}));
  EXPECT_EQ(this->Get("counter").value(), "5+1");
}
// The same past what a transaction remembers of its reads (RocksDB keeps 16 MiB): 24 values of 1 MiB read
// twice each, one of the last changed by another writer between the two reads.
TYPED_TEST(StoreConformance, KeysReadTwicePastWhatATransactionRemembersReadTheSnapshotAndStillConflict) {
  constexpr int kKeys = 24;
  auto key = [](int i) { return absl::StrCat("big/", absl::Dec(i, absl::kZeroPad2)); };
  auto value = [](int i, char fill) { return std::string(1 << 20, fill) + std::to_string(i); };
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(this->Put(key(i), value(i, 'a')).ok());
  int runs = 0;
  std::vector<bool> seen_as_snapshot;
  absl::StatusOr<Revision> result = this->store_->Update([&](Transaction& txn) -> absl::Status {
    ++runs;
    std::vector<std::string> first(kKeys);
    for (int i = 0; i < kKeys; ++i) {
      absl::StatusOr<std::string> read = txn.Get(key(i));
      if (!read.ok()) return read.status();
      first[i] = *std::move(read);
    }
    if (runs == 1) {
      EXPECT_TRUE(this->Put(key(kKeys - 1), value(kKeys - 1, 'b')).ok());  // another writer
    }
    bool same = true;
    for (int i = 0; i < kKeys; ++i) {
      absl::StatusOr<std::string> again = txn.Get(key(i));
      if (!again.ok()) return again.status();
      same = same && *again == first[i];
    }
    seen_as_snapshot.push_back(same);
    return txn.Put("done", first[kKeys - 1].substr(0, 1));
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(seen_as_snapshot, (std::vector<bool>{true, true}));
  EXPECT_EQ(this->Get("done").value(), "b");
}
TYPED_TEST(StoreConformance, AWriterIntoAProtectedRangeMakesADecisionOnItRunAgain) {
  // The write skew a range guard prevents: "delete the parent if it has no child" against "attach a child to
  // the parent if it exists". Whichever way the backend protects the range, no child is left orphaned.
  ASSERT_TRUE(this->Put("parent", "1").ok());
  ASSERT_TRUE(this->Put("guard", "0").ok());
  int runs = 0;
  absl::StatusOr<Revision> result = this->store_->Update([&](Transaction& txn) -> absl::Status {
    ++runs;
    if (absl::StatusOr<std::string> guard = txn.Get("guard"); !guard.ok()) return guard.status();
    const bool childless = this->ScanKeys(txn, "child/", PrefixEnd("child/")).empty();
    if (runs == 1) {
      EXPECT_TRUE(this->store_
                      ->Update([](Transaction& other) -> absl::Status {
                        if (absl::StatusOr<std::string> parent = other.Get("parent"); !parent.ok()) {
                          return parent.status();
                        }
                        if (absl::Status protect = other.ProtectRange("guard"); !protect.ok()) return protect;
                        return other.Put("child/1", "attached");
                      })
                      .ok());
    }
    if (absl::Status touched = txn.Put("guard", absl::StrCat(runs)); !touched.ok()) return touched;
    return childless ? txn.Delete("parent") : absl::OkStatus();
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(this->Get("parent").value(), "1");
  EXPECT_EQ(this->Get("child/1").value(), "attached");
}

TYPED_TEST(StoreConformance, WritersThatOnlyProtectARangeDoNotConflictThroughIt) {
  ASSERT_TRUE(this->Put("guard", "0").ok());
  int runs = 0;
  absl::StatusOr<Revision> result = this->store_->Update([&](Transaction& txn) -> absl::Status {
    ++runs;
    if (absl::Status protect = txn.ProtectRange("guard"); !protect.ok()) return protect;
    if (runs == 1) {
      EXPECT_TRUE(this->store_
                      ->Update([](Transaction& other) -> absl::Status {
                        if (absl::Status protect = other.ProtectRange("guard"); !protect.ok()) return protect;
                        return other.Put("row/other", "theirs");
                      })
                      .ok());
    }
    return txn.Put("row/mine", "mine");
  });
  ASSERT_TRUE(result.ok()) << result.status();
  if (TypeParam::kOverlappingCommits) {
    EXPECT_EQ(runs, 1);
  }
  EXPECT_EQ(this->Get("row/mine").value(), "mine");
  EXPECT_EQ(this->Get("row/other").value(), "theirs");
}

TYPED_TEST(StoreConformance, AConflictPassedOnByTheTransactionRunsItAgainAndABusinessAbortDoesNot) {
  int runs = 0;
  absl::StatusOr<Revision> retried = this->store_->Update([&](Transaction& txn) -> absl::Status {
    if (++runs == 1) return ConflictError("lost to a concurrent commit");
    return txn.Put("k", "second run");
  });
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(runs, 2);
  runs = 0;
  absl::StatusOr<Revision> aborted = this->store_->Update([&](Transaction&) -> absl::Status {
    ++runs;
    return absl::AbortedError("the domain's own outcome");
  });
  EXPECT_EQ(aborted.status().code(), absl::StatusCode::kAborted);
  EXPECT_FALSE(IsConflict(aborted.status()));
  EXPECT_EQ(runs, 1);
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
  EXPECT_EQ(this->store_->LatestRevision().value(), revision);
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

// A commit's writes, sorted: their order is the backend's (store.h), the set is the promise.
std::string Describe(const std::vector<Change>& changes) {
  std::vector<std::string> described;
  for (const Change& change : changes) {
    described.push_back(change.key + (change.value ? "=" + *change.value : " deleted") + ";");
  }
  std::sort(described.begin(), described.end());
  return absl::StrJoin(described, "");
}

TYPED_TEST(StoreConformance, LogEntriesAreReadByRevisionAndWrittenOnlyWithTheirCommit) {
  RecordingObserver observer;
  ASSERT_TRUE(this->store_->Observe(observer, [](Reader&, Revision) { return absl::OkStatus(); }).ok());
  EXPECT_FALSE(this->store_
                   ->Update([](Transaction& txn) -> absl::Status {
                     EXPECT_TRUE(txn.AppendToLog("log/", "failed").ok());
                     return absl::FailedPreconditionError("no");
                   })
                   .ok());
  EXPECT_TRUE(
      this->store_->Update([](Transaction& txn) { return txn.AppendToLog("log/", "dry"); }, {.dry_run = true}).ok());
  Revision first = this->store_
                       ->Update([](Transaction& txn) -> absl::Status {
                         EXPECT_TRUE(txn.AppendToLog("log/", "a").ok());
                         EXPECT_TRUE(txn.AppendToLog("log/", "b").ok());
                         EXPECT_TRUE(txn.AppendToLog("other/", "z").ok());
                         return txn.Put("x", "1");
                       })
                       .value();
  Revision second = this->store_->Update([](Transaction& txn) { return txn.AppendToLog("log/", "c"); }).value();

  auto read_log = [&](Revision from) {
    std::vector<std::string> entries;
    EXPECT_TRUE(this->store_
                    ->Read([&](Reader& reader) {
                      return ScanLog(reader, "log/", from, [&](const LogEntry& entry) {
                        entries.push_back(absl::StrCat(entry.revision, ".", entry.position, "=", entry.value));
                        return true;
                      });
                    })
                    .ok());
    return entries;
  };
  EXPECT_EQ(read_log(0), (std::vector<std::string>{absl::StrCat(first, ".0=a"), absl::StrCat(first, ".1=b"),
                                                   absl::StrCat(second, ".0=c")}));
  EXPECT_EQ(read_log(first + 1), (std::vector<std::string>{absl::StrCat(second, ".0=c")}));
  // Observers see the entries with the rest of their commit.
  ASSERT_EQ(observer.commits.size(), 2u);
  EXPECT_EQ(observer.commits[0].revision, first);
  EXPECT_EQ(observer.commits[0].changes.size(), 4u);
  EXPECT_EQ(observer.commits[0].changes[0].key, "x");

  // Retention: entries are deleted by the id ScanLog gives.
  ASSERT_TRUE(this->store_
                  ->Update([&](Transaction& txn) -> absl::Status {
                    std::vector<std::string> ids;
                    absl::Status scanned = ScanLogFamilyBefore(txn, "log/", "", second, [&](const LogEntry& entry) {
                      ids.emplace_back(entry.id);
                      return true;
                    });
                    if (!scanned.ok()) return scanned;
                    EXPECT_EQ(ids.size(), 2u);
                    for (const std::string& id : ids) {
                      if (absl::Status deleted = txn.Delete(id); !deleted.ok()) return deleted;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(read_log(0), (std::vector<std::string>{absl::StrCat(second, ".0=c")}));
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
  EXPECT_EQ(loaded_at, this->store_->LatestRevision().value());
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
  EXPECT_EQ(Describe(observer.commits[1].changes), "a deleted;b=2;");
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

TYPED_TEST(StoreConformance, UpdateReturnsOnceThisProcesssObserversAppliedTheCommit) {
  struct Tracking final : CommitObserver {
    std::atomic<Revision> applied{0};
    void OnCommit(Revision revision, absl::Span<const Change>) override { applied.store(revision); }
  } observer;
  ASSERT_TRUE(this->store_->Observe(observer, [](Reader&, Revision) { return absl::OkStatus(); }).ok());
  for (int i = 0; i < 50; ++i) {
    Revision revision = this->Put("k", std::to_string(i)).value();
    ASSERT_GE(observer.applied.load(), revision);
    ASSERT_GE(this->store_->ObservedRevision(), revision);
  }
  EXPECT_TRUE(this->store_->WaitObserved(this->store_->LatestRevision().value(), absl::Now()).ok());
  EXPECT_EQ(
      this->store_->WaitObserved(this->store_->LatestRevision().value() + 10, absl::Now() + absl::Seconds(1)).code(),
      absl::StatusCode::kInvalidArgument);
  this->store_->StopObserving(observer);
}

TYPED_TEST(StoreConformance, TheFeedResumesAfterAnyRevisionWithNoGapAndNoRepeat) {
  std::vector<Revision> committed;
  for (int i = 0; i < 40; ++i) committed.push_back(this->Put(absl::StrCat("k", i % 7), absl::StrCat(i)).value());
  auto read_from = [&](Revision after, int take) {
    std::vector<std::pair<Revision, std::string>> seen;
    absl::StatusOr<Revision> reached =
        this->store_->ReadChanges(after, [&](Revision revision, absl::Span<const Change> changes) {
          if (static_cast<int>(seen.size()) == take) return false;
          seen.emplace_back(revision, Describe(std::vector<Change>(changes.begin(), changes.end())));
          return true;
        });
    EXPECT_TRUE(reached.ok()) << reached.status();
    if (!seen.empty()) {
      EXPECT_EQ(reached.value_or(0), seen.back().first);
    }
    return seen;
  };
  // Read in pieces of 7, each resuming from the last revision read: every commit once, in order.
  std::vector<std::pair<Revision, std::string>> all;
  Revision cursor = committed.front() - 1;
  while (true) {
    auto piece = read_from(cursor, 7);
    if (piece.empty()) break;
    all.insert(all.end(), piece.begin(), piece.end());
    cursor = piece.back().first;
  }
  ASSERT_EQ(all.size(), committed.size());
  for (size_t i = 0; i < committed.size(); ++i) {
    EXPECT_EQ(all[i].first, committed[i]);
    EXPECT_EQ(all[i].second, absl::StrCat("k", i % 7, "=", i, ";"));
  }
  EXPECT_TRUE(read_from(committed.back(), 100).empty());
}

// An index restored from a snapshot of its own, after a restart: it is given what it missed, then the rest.
TYPED_TEST(StoreConformance, ResumeAfterReopeningGivesTheCommitsAfterTheHeldRevisionThenEveryLaterOne) {
  const Revision held = this->Put("a", "1").value();
  const Revision second = this->store_
                              ->Update([](Transaction& txn) -> absl::Status {
                                EXPECT_TRUE(txn.Put("b", "2").ok());
                                EXPECT_TRUE(txn.Delete("a").ok());
                                return absl::OkStatus();
                              })
                              .value();
  const Revision third = this->Put("c", "3").value();
  this->Reopen();

  RecordingObserver observer;
  ASSERT_TRUE(this->store_->Resume(observer, held).ok());
  ASSERT_EQ(observer.commits.size(), 2u);
  EXPECT_EQ(observer.commits[0].revision, second);
  EXPECT_EQ(Describe(observer.commits[0].changes), "a deleted;b=2;");
  EXPECT_EQ(observer.commits[1].revision, third);
  EXPECT_EQ(Describe(observer.commits[1].changes), "c=3;");

  const Revision fourth = this->Put("d", "4").value();
  ASSERT_EQ(observer.commits.size(), 3u);
  EXPECT_EQ(observer.commits[2].revision, fourth);
  this->store_->StopObserving(observer);

  RecordingObserver current;
  ASSERT_TRUE(this->store_->Resume(current, fourth).ok());
  EXPECT_TRUE(current.commits.empty());
  this->store_->StopObserving(current);
}

// A snapshot ahead of the store is of another history (a store restored from an older backup): refused.
TYPED_TEST(StoreConformance, ResumeFromARevisionAheadOfTheStoreIsRefusedAndAttachesNothing) {
  const Revision latest = this->Put("a", "1").value();
  RecordingObserver observer;
  EXPECT_EQ(this->store_->Resume(observer, latest + 5).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(this->Put("b", "2").ok());
  EXPECT_TRUE(observer.commits.empty());
}

TYPED_TEST(StoreConformance, TheStoreIdSurvivesReopeningAndDiffersFromAnotherStores) {
  const std::string id = this->store_->Id();
  EXPECT_EQ(id.size(), 32u);
  ASSERT_TRUE(this->Put("a", "1").ok());
  this->Reopen();
  EXPECT_EQ(this->store_->Id(), id);
  TypeParam other_factory;
  EXPECT_NE(other_factory.Open()->Id(), id);
}

TYPED_TEST(StoreConformance, SixteenConcurrentWritersLoseNoUpdateAndTheFeedHoldsEachCommitOnce) {
  constexpr int kThreads = 16, kEach = 10;
  const Revision start = this->store_->LatestRevision().value();
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<Revision> r = this->store_->Update(
            [&](Transaction& txn) -> absl::Status {
              absl::StatusOr<std::string> total = txn.Get("total");
              const int before = total.ok() ? std::stoi(*total) : 0;
              if (absl::Status own = txn.Put(absl::StrCat("writer/", t, "/", i), "1"); !own.ok()) return own;
              return txn.Put("total", std::to_string(before + 1));
            },
            UpdateOptions{.max_attempts = 1000});
        if (!r.ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(this->Get("total").value(), std::to_string(kThreads * kEach));
  int commits = 0;
  Revision last = start;
  ASSERT_TRUE(this->store_
                  ->ReadChanges(start,
                                [&](Revision revision, absl::Span<const Change>) {
                                  EXPECT_GT(revision, last);
                                  last = revision;
                                  ++commits;
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(commits, kThreads * kEach);
}

// Two processes on one store (two habilisd nodes on one database): what one commits, the other's observers
// apply within the feed's delay, and at once for a caller that waits for the revision it holds.
TYPED_TEST(StoreConformance, AnotherProcesssCommitsReachThisOnesObserversInOrder) {
  if (!TypeParam::kShared) GTEST_SKIP() << "one process per store";
  std::unique_ptr<Store> other = this->factory_.Open();
  RecordingObserver observer;
  absl::Mutex mu;
  struct Locked final : CommitObserver {
    RecordingObserver* inner;
    absl::Mutex* mu;
    void OnCommit(Revision revision, absl::Span<const Change> changes) override {
      absl::MutexLock lock(mu);
      inner->OnCommit(revision, changes);
    }
  } locked;
  locked.inner = &observer;
  locked.mu = &mu;
  ASSERT_TRUE(this->store_->Observe(locked, [](Reader&, Revision) { return absl::OkStatus(); }).ok());
  std::vector<Revision> revisions;
  for (int i = 0; i < 20; ++i) {
    revisions.push_back(
        other->Update([&](Transaction& txn) { return txn.Put(absl::StrCat("from-other/", i), "1"); }).value());
  }
  // A token from the other process: waiting for it never answers from before it.
  ASSERT_TRUE(this->store_->WaitObserved(revisions.back(), absl::Now() + absl::Seconds(10)).ok());
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(observer.commits.size(), revisions.size());
    for (size_t i = 0; i < revisions.size(); ++i) {
      EXPECT_EQ(observer.commits[i].revision, revisions[i]);
      EXPECT_EQ(Describe(observer.commits[i].changes), absl::StrCat("from-other/", i, "=1;"));
    }
  }
  // And this process's writes interleave with the other's in one order.
  Revision mine = this->Put("from-this", "1").value();
  EXPECT_GT(mine, revisions.back());
  this->store_->StopObserving(locked);
}

// A copy of a RocksDB store keeps its id (it continues the same history) but not the log of the commits
// before it: an observer resuming from before the copy is told so, not given a gap.
TEST(RocksDbStoreTest, ACheckpointKeepsTheIdButNotTheLogOfEarlierCommits) {
  testing::TempDir dir;
  auto store = RocksDbStore::Open(dir.Sub("db"));
  ASSERT_TRUE(store.ok()) << store.status();
  const Revision first = (*store)->Update([](Transaction& txn) { return txn.Put("a", "1"); }, {}).value();
  ASSERT_TRUE((*store)->Update([](Transaction& txn) { return txn.Put("b", "2"); }, {}).ok());
  ASSERT_TRUE((*store)->Checkpoint(dir.Sub("copy")).ok());
  auto copy = RocksDbStore::Open(dir.Sub("copy"));
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)->Id(), (*store)->Id());
  RecordingObserver observer;
  EXPECT_EQ((*copy)->Resume(observer, first).code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(observer.commits.empty());
}

// PostgreSQL keeps a bounded feed: a node that asks for pruned history is told so, not given a gap.
TEST(PostgresStoreTest, AFeedPrunedPastARevisionAnswersOutOfRangeForIt) {
  absl::StatusOr<std::string> url = PostgresEnvironment::Cluster().CreateDatabase("pruned_feed");
  ASSERT_TRUE(url.ok()) << url.status();
  auto store = PostgresStore::Open(PostgresOptions{.url = *url, .feed_history = 5});
  ASSERT_TRUE(store.ok()) << store.status();
  Revision latest = 0;
  for (int i = 0; i < 20; ++i) {
    latest = (*store)->Update([&](Transaction& txn) { return txn.Put("k", absl::StrCat(i)); }, {}).value();
  }
  ASSERT_TRUE((*store)->PruneFeed().ok());
  auto count_after = [&](Revision after) -> absl::StatusOr<int> {
    int commits = 0;
    absl::StatusOr<Revision> reached = (*store)->ReadChanges(after, [&](Revision, absl::Span<const Change>) {
      ++commits;
      return true;
    });
    if (!reached.ok()) return reached.status();
    return commits;
  };
  EXPECT_EQ(count_after(latest - 10).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(count_after(latest - 5).value_or(-1), 5);
  EXPECT_EQ(count_after(latest).value_or(-1), 0);
}

}  // namespace
}  // namespace habilis::store
