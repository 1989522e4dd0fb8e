// The PostgreSQL backend of store::Store: one database shared by any number of habilisd nodes.
//
// Three tables (docs/SCALE-OUT.md lists every statement and what differs on CockroachDB and YugabyteDB):
// - habilis_kv(k BYTEA PRIMARY KEY, v BYTEA): the keys and values; bytea sorts bytewise, as the contract asks;
// - habilis_revision: one row, the latest revision. Each commit increments it as its last statement, so
//   commits are serialized on that row in revision order: a commit's revision is visible only once every
//   smaller one is, and the change feed has no gap. The price: write transactions that overlap in time
//   cannot both commit (see write_mu_), which bounds the writes per second of the whole cluster;
// - habilis_changelog(revision, changes): each commit's writes, in the commit's transaction: the feed.
//
// Transactions are SERIALIZABLE (a scanned range is protected by the engine: ProtectRange writes nothing);
// serialization failures and deadlocks (SQLSTATE 40001, 40P01) are ConflictErrors that Update retries.
// Snapshot reads are REPEATABLE READ READ ONLY. Commits are synchronous (synchronous_commit = on).
//
// libpq (Debian's libpq-dev) rather than libpqxx: bookworm's libpqxx is 6.4, whose API the project would
// wrap anyway; libpq's C calls with binary parameters are all this needs.
#ifndef HABILIS_STORE_POSTGRES_POSTGRES_STORE_H_
#define HABILIS_STORE_POSTGRES_POSTGRES_STORE_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "store/change_feed.h"
#include "store/lease.h"
#include "store/store.h"

namespace habilis::store {

namespace postgres {
class Connection;
}

struct PostgresOptions {
  // A libpq connection URI: postgresql://user@host:port/database?sslmode=…
  std::string url;
  // Connections kept open; a call that finds them all busy opens another, up to max_connections.
  int max_connections = 16;
  // How often the node reads the change feed for other nodes' commits (its own are applied at commit).
  absl::Duration poll_interval = absl::Milliseconds(10);
  // Commits the changelog keeps (the feed's history): a node that falls further behind cannot follow the feed
  // and restarts (it reloads the store at start). Pruned once a minute by one node at a time.
  int64_t feed_history = 1000000;
};

class PostgresStore final : public Store {
 public:
  // Connects, creates the tables if they are missing (a new store gets this build's format version) and
  // starts following the change feed. UNAVAILABLE if the database cannot be reached; FAILED_PRECONDITION for a
  // store of another format version.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const PostgresOptions& options);
  ~PostgresStore() override;

  absl::StatusOr<Revision> Update(absl::FunctionRef<absl::Status(Transaction&)> fn,
                                  const UpdateOptions& options) override;
  absl::StatusOr<Revision> Read(absl::FunctionRef<absl::Status(Reader&)> fn, const ReadOptions& options = {}) override;
  absl::StatusOr<Revision> LatestRevision() const override;
  absl::StatusOr<Revision> ReadChanges(Revision after, CommitVisitor visit) override;
  absl::Status Observe(CommitObserver& observer, absl::FunctionRef<absl::Status(Reader&, Revision)> load) override;
  absl::Status Resume(CommitObserver& observer, Revision held) override;
  void StopObserving(CommitObserver& observer) override;
  absl::Status WaitObserved(Revision revision, absl::Time deadline) override;
  Revision ObservedRevision() const override { return feed_.applied(); }
  std::string Id() const override { return id_; }

  // Deletes the changelog's commits older than the last options.feed_history; ReadChanges after a revision
  // older than those then answers OUT_OF_RANGE. Run by the follower once a minute under a job lease.
  [[nodiscard]] absl::Status PruneFeed();

 private:
  PostgresStore(const PostgresOptions& options, Revision revision, std::string id);

  // A connection for the calling thread, returned to the pool when the holder goes.
  class Lease;
  absl::StatusOr<Lease> Acquire() const;
  void Release(std::unique_ptr<postgres::Connection> connection) const;
  // One attempt of Update: runs `fn` in a transaction and commits it.
  absl::StatusOr<Revision> Attempt(absl::FunctionRef<absl::Status(Transaction&)> fn, bool dry_run);
  void Follow();
  // What the follower does with a failed catch-up: logs a change of state; exits the process when the node
  // has fallen behind the feed's history.
  void OnCatchUp(const absl::Status& caught_up, std::string& last_error);

  const PostgresOptions options_;
  const std::string id_;
  mutable absl::Mutex pool_mu_;
  mutable std::vector<std::unique_ptr<postgres::Connection>> idle_ ABSL_GUARDED_BY(pool_mu_);
  mutable int open_ ABSL_GUARDED_BY(pool_mu_) = 0;
  mutable absl::CondVar pool_cv_;  // a connection went back to the pool
  // Write transactions run one at a time in this process. Every commit updates the revision row, and under
  // SERIALIZABLE a transaction whose snapshot predates another's commit of that row fails (40001): writers
  // that overlap cannot both commit, so running them side by side would only waste the losers' work. Other
  // nodes' writers still overlap; they are retried (docs/SCALE-OUT.md "Writes").
  absl::Mutex write_mu_;
  ChangeFeed feed_;
  JobLease pruning_lease_;
  absl::Notification stopping_;
  std::thread follower_;
};

}  // namespace habilis::store

#endif  // HABILIS_STORE_POSTGRES_POSTGRES_STORE_H_
