// The one storage interface habilis uses: a transactional, ordered key-value store.
//
// Keys and values are byte strings; keys sort bytewise. Nothing here names a backend: RocksDB (store/rocksdb,
// embedded, one process) and PostgreSQL (store/postgres, shared by several habilisd) implement it, and both
// pass the conformance suite in tests/store/store_conformance_test.cc. docs/SCALE-OUT.md tells how the
// promises below are kept by each.
#ifndef HABILIS_STORE_STORE_H_
#define HABILIS_STORE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace habilis::store {

// Revision of the store after a commit. Revisions order commits: every commit gets a revision greater than
// every commit that finished before it began, also across restarts and across processes sharing one store.
// They compare, but need not be dense (a backend may skip numbers). Revision 0 is the empty store.
using Revision = uint64_t;

// The status of a transaction that lost a conflict with a concurrent one (RocksDB's optimistic check, a SQL
// engine's serialization failure or deadlock). Store::Update runs the transaction again on it, whether the
// backend's commit returned it or `fn` passed it on from a Get, Scan, Put or Delete (a SQL engine may detect a
// conflict at any statement). It never leaves Update: the domain keeps ABORTED for its own outcomes.
[[nodiscard]] absl::Status ConflictError(absl::string_view message);
[[nodiscard]] bool IsConflict(const absl::Status& status);

// Called for each entry of a scan; returning false stops the scan.
using ScanVisitor = absl::FunctionRef<bool(absl::string_view key, absl::string_view value)>;

// Consistent reads of one state of the store. A Reader belongs to the thread it was passed to, for the call
// that passed it (a SQL backend reads through one connection, which threads cannot share).
class Reader {
 public:
  virtual ~Reader() = default;

  // Returns the value stored at key. If there is no entry for key, returns a status for which
  // absl::IsNotFound() is true.
  [[nodiscard]] virtual absl::StatusOr<std::string> Get(absl::string_view key) = 0;

  // Visits the entries with begin <= key < end in ascending key order until `visit` returns false.
  // An empty `end` means no upper bound.
  [[nodiscard]] virtual absl::Status Scan(absl::string_view begin, absl::string_view end, ScanVisitor visit) = 0;

  // The revision of the state this reads: every commit up to it is seen, none after it. For a Transaction,
  // that of the snapshot it began on (its own writes aside).
  [[nodiscard]] virtual absl::StatusOr<Revision> SnapshotRevision() = 0;
};

// A read-write transaction. Reads see the transaction's own writes (read-your-writes) on top of a snapshot
// taken when it began.
//
// Conflicts: a key read with Get or written with Put/Delete is watched. If another transaction commits a
// change to a watched key after this one began, this one fails to commit and Store::Update runs it again.
// A Scan is not promised to watch its range: a transaction whose decision depends on what a range holds
// (uniqueness, "no child attached") must also Get and Put a guard key, and every writer into that range calls
// ProtectRange with that guard.
class Transaction : public Reader {
 public:
  [[nodiscard]] virtual absl::Status Put(absl::string_view key, absl::string_view value) = 0;
  [[nodiscard]] virtual absl::Status Delete(absl::string_view key) = 0;
  // Adds `value` to the log `log` (a key prefix), ordered by commit revision then by order of appending.
  // The entry is written with the rest of the transaction once its revision is known, so the transaction
  // cannot read it back; it is read with ScanLog (store/log.h), which alone knows how entries are keyed.
  // Never conflicts.
  [[nodiscard]] virtual absl::Status AppendToLog(absl::string_view log, absl::string_view value) = 0;
  // Declares that this transaction writes into the range `guard` protects. A transaction that read the guard
  // and decided on the range, and has not committed, cannot then commit without seeing these writes: one of
  // the two runs again. Writers that only protect a range do not conflict with each other through it, so
  // writers of disjoint records commit side by side. How is the backend's: RocksDB writes the guard without
  // watching it; a SERIALIZABLE SQL engine needs nothing, since it tracks the ranges a transaction read.
  [[nodiscard]] virtual absl::Status ProtectRange(absl::string_view guard) = 0;
};

// One write of a commit: a Put (value set) or a Delete (no value).
struct Change {
  std::string key;
  std::optional<std::string> value;
};

// Called for each commit of a change feed, in revision order; returning false stops the visit.
using CommitVisitor = absl::FunctionRef<bool(Revision revision, absl::Span<const Change> changes)>;

// Sees every commit of a store, in revision order: the change feed behind in-memory indexes.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  // Called once per commit after `revision` is durable, with the transaction's writes (log entries with their
  // final keys): every key it wrote, with its last value last, in an order of the backend's (RocksDB: each
  // key once, in key order; PostgreSQL: as they were made), the same live and read back by ReadChanges.
  // Observers apply each write on its own. A commit of this process is applied before its Update returns;
  // a commit of another process sharing the store, within the store's feed delay (Store::WaitObserved).
  // Calls are serialized, so this must be quick, must not call back into the store, and cannot fail.
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
  // - If `fn` returns an error, nothing is written and that error is returned (a ConflictError excepted).
  // - On a conflict `fn` runs again in a fresh transaction, so it must have no effect outside the
  //   transaction; after options.max_attempts conflicts, returns UNAVAILABLE.
  // - On success the writes are durable (synced to the write-ahead log) before Update returns, every
  //   observer of this process has applied them, and the revision of the commit is returned.
  // - With options.dry_run, `fn` runs, nothing is committed, and the revision it read is returned.
  // - UNAVAILABLE when the store cannot be reached; if that happens during the commit, the outcome is
  //   unknown (the message says so) and the caller must read before retrying a non-idempotent change.
  [[nodiscard]] virtual absl::StatusOr<Revision> Update(absl::FunctionRef<absl::Status(Transaction&)> fn,
                                                        const UpdateOptions& options = {}) = 0;

  // Runs `fn` on a snapshot of the store and returns the revision of that snapshot (Reader::SnapshotRevision):
  // at least every revision returned before Read was called.
  [[nodiscard]] virtual absl::StatusOr<Revision> Read(absl::FunctionRef<absl::Status(Reader&)> fn,
                                                      const ReadOptions& options = {}) = 0;

  // The revision of the latest commit, by any process sharing the store.
  [[nodiscard]] virtual absl::StatusOr<Revision> LatestRevision() const = 0;

  // The change feed: visits the commits with revisions greater than `after`, in order, with their writes as
  // observers get them, up to the latest commit or until `visit` returns false; returns the revision of the
  // last commit visited (`after` if none). Resuming with that revision misses no commit and repeats none.
  // OUT_OF_RANGE when commits after `after` are no longer kept (the feed keeps a bounded history; the caller
  // reloads a snapshot with Read).
  [[nodiscard]] virtual absl::StatusOr<Revision> ReadChanges(Revision after, CommitVisitor visit) = 0;

  // Runs `load` on a snapshot of the store at revision R (passed to it), then attaches `observer`, which
  // sees every commit after R, in order, and none before. If `load` fails, nothing is attached and its error
  // is returned. `observer` must outlive the store or be detached with StopObserving.
  [[nodiscard]] virtual absl::Status Observe(CommitObserver& observer,
                                             absl::FunctionRef<absl::Status(Reader&, Revision)> load) = 0;
  // Attaches `observer`, which already holds the store's state at revision `held` (an index restored from a
  // snapshot of its own): before this returns it is given, in order, every commit after `held` that the feed
  // has delivered, and then every later one as Observe's observers are. OUT_OF_RANGE when the store no
  // longer keeps the commits after `held` and FAILED_PRECONDITION when `held` is ahead of the store (a
  // snapshot of another history): the caller loads a snapshot with Observe instead. Nothing is attached then.
  [[nodiscard]] virtual absl::Status Resume(CommitObserver& observer, Revision held) = 0;
  // Detaches `observer`; once this returns, it is not called again.
  virtual void StopObserving(CommitObserver& observer) = 0;
  // Returns once every observer has applied `revision` (a consistency token from any process): OK at once
  // for a revision already applied; DEADLINE_EXCEEDED if `deadline` passes first; UNAVAILABLE if the feed
  // cannot be read; INVALID_ARGUMENT for a revision no commit has reached.
  [[nodiscard]] virtual absl::Status WaitObserved(Revision revision, absl::Time deadline) = 0;
  // The latest revision every observer has applied.
  virtual Revision ObservedRevision() const = 0;

  // Writes a consistent copy of the whole store into `directory` (which must not exist), openable as a store of
  // its own, and returns the revision it holds. UNIMPLEMENTED for a backend that has no such copy.
  [[nodiscard]] virtual absl::StatusOr<Revision> Checkpoint(const std::string& directory) {
    (void)directory;
    return absl::UnimplementedError("this store takes no checkpoint");
  }

  // An id drawn when the store was created and kept by its copies (backups): a cache of the store's state
  // kept outside it (an index snapshot) checks with it, and with a revision, that it describes this store.
  virtual std::string Id() const = 0;

  // Sizes and compaction state, read without a transaction; cheap enough for every metrics scrape.
  virtual StoreStatistics Statistics() const { return {}; }
};

// A new store's id (Store::Id): 128 random bits in hex.
std::string NewStoreId();

// Scans every entry whose key starts with `prefix`.
[[nodiscard]] absl::Status ScanPrefix(Reader& reader, absl::string_view prefix, ScanVisitor visit);

}  // namespace habilis::store

#endif  // HABILIS_STORE_STORE_H_
