// The RocksDB backend of store::Store: an OptimisticTransactionDB in one directory.
#ifndef HABILIS_STORE_ROCKSDB_ROCKSDB_STORE_H_
#define HABILIS_STORE_ROCKSDB_ROCKSDB_STORE_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/change_feed.h"
#include "store/store.h"

namespace rocksdb {
class OptimisticTransactionDB;
}

namespace habilis::store {

class RocksDbStore final : public Store {
 public:
  // Opens the store in `directory`, creating it (and writing the format version) if it is empty.
  // Fails with FAILED_PRECONDITION if the directory holds another format version.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RocksDbStore>> Open(const std::string& directory);
  // For habilis-migrate: opens an existing store of any format version (NOT_FOUND if there is none).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RocksDbStore>> OpenForMigration(const std::string& directory);

  // The layout version the directory holds.
  uint64_t format_version() const { return format_version_; }
  // Records that the directory now holds `version` (durably), once a migration step has committed.
  [[nodiscard]] absl::Status SetFormatVersion(uint64_t version);
  ~RocksDbStore() override;

  absl::StatusOr<Revision> Update(absl::FunctionRef<absl::Status(Transaction&)> fn,
                                  const UpdateOptions& options) override;
  absl::StatusOr<Revision> Read(absl::FunctionRef<absl::Status(Reader&)> fn, const ReadOptions& options = {}) override;
  absl::StatusOr<Revision> LatestRevision() const override;
  // The feed is kept in memory, for the commits since the store was opened (at most kFeedHistoryBytes of
  // them): a local store has no other process to follow it, and its own observers are fed at each commit.
  // Older commits are read back from the write-ahead log while its archive holds them (logged_commits.h).
  absl::StatusOr<Revision> ReadChanges(Revision after, CommitVisitor visit) override;
  StoreStatistics Statistics() const override;
  absl::StatusOr<Revision> Checkpoint(const std::string& directory) override;
  absl::Status Observe(CommitObserver& observer, absl::FunctionRef<absl::Status(Reader&, Revision)> load) override;
  absl::Status Resume(CommitObserver& observer, Revision held) override;
  void StopObserving(CommitObserver& observer) override;
  absl::Status WaitObserved(Revision revision, absl::Time deadline) override;
  Revision ObservedRevision() const override { return feed_.applied(); }
  std::string Id() const override { return id_; }

  static constexpr size_t kFeedHistoryBytes = 32 << 20;
  // How much of the write-ahead log is archived for ReadChanges after a restart.
  static constexpr uint64_t kWalArchiveMegabytes = 256;

 private:
  RocksDbStore(std::unique_ptr<rocksdb::OptimisticTransactionDB> db, Revision revision, uint64_t format_version,
               std::string id);
  static absl::StatusOr<std::unique_ptr<RocksDbStore>> OpenDirectory(const std::string& directory, bool migrating);
  // Keeps a commit for ReadChanges, forgetting the oldest past kFeedHistoryBytes.
  void Remember(Revision revision, std::vector<Change> changes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_);

  std::unique_ptr<rocksdb::OptimisticTransactionDB> db_;
  uint64_t format_version_;
  const std::string id_;
  // Commits are serialized so that revisions are handed out in commit order.
  absl::Mutex commit_mu_;
  Revision revision_ ABSL_GUARDED_BY(commit_mu_);
  mutable absl::Mutex revision_read_mu_;
  Revision published_revision_ ABSL_GUARDED_BY(revision_read_mu_);
  // The recent commits, for ReadChanges: oldest first, all after history_after_.
  struct Commit {
    Revision revision;
    std::vector<Change> changes;
    size_t bytes;
  };
  mutable absl::Mutex history_mu_;
  std::deque<Commit> history_ ABSL_GUARDED_BY(history_mu_);
  Revision history_after_ ABSL_GUARDED_BY(history_mu_);
  size_t history_bytes_ ABSL_GUARDED_BY(history_mu_) = 0;
  ChangeFeed feed_;
};

}  // namespace habilis::store

#endif  // HABILIS_STORE_ROCKSDB_ROCKSDB_STORE_H_
