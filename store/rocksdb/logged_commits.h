// The commits of a RocksDB store read back from its write-ahead log, live and archived files: the history
// before this process opened the store, which the in-memory feed does not hold, for an observer that resumes
// from a state of its own (Store::Resume after a restart). The store keeps the archived log files up to
// kWalArchiveMegabytes (rocksdb_store.cc).
#ifndef HABILIS_STORE_ROCKSDB_LOGGED_COMMITS_H_
#define HABILIS_STORE_ROCKSDB_LOGGED_COMMITS_H_

#include "absl/status/statusor.h"
#include "store/store.h"

namespace rocksdb {
class DB;
}

namespace habilis::store {

// Visits, in order, the commits with revisions in (after, up_to], each with its writes as observers get them
// (the revision's own meta key left out), until `visit` returns false; returns the revision of the last one
// visited. OUT_OF_RANGE when the log does not hold every one of them (files deleted, a gap, a write that is
// not a commit); nothing is visited then, so that a caller can fall back.
[[nodiscard]] absl::StatusOr<Revision> ReadLoggedCommits(rocksdb::DB& db, Revision after, Revision up_to,
                                                         CommitVisitor visit);

}  // namespace habilis::store

#endif  // HABILIS_STORE_ROCKSDB_LOGGED_COMMITS_H_
