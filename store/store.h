// The one storage interface habilis uses: a transactional, ordered key-value store.
//
// Keys and values are byte strings; keys sort bytewise. Nothing here names a backend: RocksDB is the first
// implementation (store/rocksdb), a distributed SQL engine can be the next. Every backend must pass the
// conformance suite in tests/store/store_conformance_test.cc.
#ifndef HABILIS_STORE_STORE_H_
#define HABILIS_STORE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace habilis::store {

// Revision of the store after a commit. Every commit gets a revision greater than all earlier ones, also
// across restarts. Revision 0 is the empty store.
using Revision = uint64_t;

// Called for each entry of a scan; returning false stops the scan.
using ScanVisitor = absl::FunctionRef<bool(absl::string_view key, absl::string_view value)>;

// Consistent reads of one state of the store. The Reader that Store::Read passes may be used from several
// threads at once while the call lasts (a Transaction may not).
class Reader {
 public:
  virtual ~Reader() = default;

  // Returns the value stored at key. If there is no entry for key, returns a status for which
  // absl::IsNotFound() is true.
  [[nodiscard]] virtual absl::StatusOr<std::string> Get(absl::string_view key) = 0;

  // Visits the entries with begin <= key < end in ascending key order until `visit` returns false.
  // An empty `end` means no upper bound.
  [[nodiscard]] virtual absl::Status Scan(absl::string_view begin, absl::string_view end, ScanVisitor visit) = 0;
};

// A read-write transaction. Reads see the transaction's own writes (read-your-writes) on top of a snapshot
// taken when it began.
//
// Conflicts: a key read with Get or written with Put/Delete is watched. If another transaction commits a
// change to a watched key after this one began, this one fails to commit and Store::Update runs it again.
// A Scan does NOT watch its range (no phantom protection): a transaction whose decision depends on what a
// range holds (uniqueness, "no child attached") must also Get and Put a guard key that every writer of that
// range touches too.
class Transaction : public Reader {
 public:
  [[nodiscard]] virtual absl::Status Put(absl::string_view key, absl::string_view value) = 0;
  [[nodiscard]] virtual absl::Status Delete(absl::string_view key) = 0;
  // Adds an entry to a log ordered by revision: at commit it is written at key
  //   log_prefix + AppendUint64(commit revision) + AppendUint64(position among this commit's entries)
  // with the rest of the transaction. Its key exists only once the revision is known, so the transaction
  // cannot read it back; commit observers see it with its final key. Never conflicts.
  [[nodiscard]] virtual absl::Status AppendToLog(absl::string_view log_prefix, absl::string_view value) = 0;
  // Writes a guard key (see above) without watching it; at commit it holds the commit's revision. Every
  // transaction that watches the guard and has not committed yet then conflicts, as with Put; but this one
  // does not conflict when another commit changed the guard since it began. For a writer whose own decisions
  // rest only on keys it reads (which are watched) and that must still be seen by the range's readers: many
  // such writers of disjoint records can then commit side by side instead of one after another.
  [[nodiscard]] virtual absl::Status BumpGuardUnwatched(absl::string_view key) = 0;
};

// One write of a commit: a Put (value set) or a Delete (no value).
struct Change {
  std::string key;
  std::optional<std::string> value;
};

// Sees every commit of a store, in revision order: the change feed behind in-memory indexes.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  // Called once per commit, with the transaction's writes in the order they were made, after the commit is
  // durable and BEFORE Update returns or LatestRevision() reaches `revision`: whoever holds a revision the
  // store returned can rely on every observer having applied it. Calls are serialized (they hold the
  // store's commit lock), so this must be quick, must not call back into the store, and cannot fail.
  virtual void OnCommit(Revision revision, absl::Span<const Change> changes) = 0;
};

struct UpdateOptions {
  // Run the transaction and discard its writes: the dry run behind validate_only.
  bool dry_run = false;
  // How many times a conflicting transaction is run before Update gives up with UNAVAILABLE.
  int max_attempts = 10;
};

struct ReadOptions {
  // A read of a large part of the store (an export, an import's check): what it reads is not kept in the
  // store's cache, so that it does not push out what the access checks keep reading.
  bool bulk = false;
};

// What an operator watches of a store (docs/OPERATIONS.md "Metrics"); zero where a backend cannot tell.
struct StoreStatistics {
  uint64_t disk_bytes = 0;                // files the store keeps on disk
  uint64_t live_data_bytes = 0;           // an estimate of the data still reachable
  uint64_t pending_compaction_bytes = 0;  // an estimate of what compaction has still to rewrite
  uint64_t running_compactions = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Runs `fn` in a new transaction and commits its writes atomically.
  // - If `fn` returns an error, nothing is written and that error is returned.
  // - On a conflict `fn` runs again in a fresh transaction, so it must have no effect outside the
  //   transaction; after options.max_attempts conflicts, returns UNAVAILABLE: a store conflict is
  //   retried here and never reaches the caller as ABORTED, which the domain keeps for its own outcomes.
  // - On success the writes are durable (synced to the write-ahead log) before Update returns, and the
  //   revision of the commit is returned.
  // - With options.dry_run, `fn` runs, nothing is committed, and the current revision is returned.
  [[nodiscard]] virtual absl::StatusOr<Revision> Update(absl::FunctionRef<absl::Status(Transaction&)> fn,
                                                        const UpdateOptions& options = {}) = 0;

  // Runs `fn` on a snapshot of the store: every read in it sees the same state, that of the revision
  // returned (or later, never earlier, than every commit finished before Read was called).
  [[nodiscard]] virtual absl::StatusOr<Revision> Read(absl::FunctionRef<absl::Status(Reader&)> fn,
                                                      const ReadOptions& options = {}) = 0;

  // The revision of the latest commit.
  virtual Revision LatestRevision() const = 0;

  // Writes a consistent copy of the whole store into `directory` (which must not exist), openable as a store of
  // its own, and returns the revision it holds. UNIMPLEMENTED for a backend that has no such copy.
  [[nodiscard]] virtual absl::StatusOr<Revision> Checkpoint(const std::string& directory) {
    (void)directory;
    return absl::UnimplementedError("this store takes no checkpoint");
  }

  // Sizes and compaction state, read without a transaction; cheap enough for every metrics scrape.
  virtual StoreStatistics Statistics() const { return {}; }

  // Runs `load` on a snapshot of the store at revision R (passed to it), then attaches `observer`, which
  // sees every commit after R and none before: commits wait while `load` runs, so there is no gap. If
  // `load` fails, nothing is attached and its error is returned. `observer` must outlive the store or be
  // detached with StopObserving.
  [[nodiscard]] virtual absl::Status Observe(CommitObserver& observer,
                                             absl::FunctionRef<absl::Status(Reader&, Revision)> load) = 0;
  // Detaches `observer`; once this returns, it is not called again.
  virtual void StopObserving(CommitObserver& observer) = 0;
};

// Scans every entry whose key starts with `prefix`.
[[nodiscard]] absl::Status ScanPrefix(Reader& reader, absl::string_view prefix, ScanVisitor visit);

}  // namespace habilis::store

#endif  // HABILIS_STORE_STORE_H_
