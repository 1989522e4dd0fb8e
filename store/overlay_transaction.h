// A transaction that commits nothing: its writes are kept in memory over a snapshot it reads (a Reader).
// It honours Transaction's reading contract (Get and Scan see its own writes on top of the snapshot) and
// nothing of committing: no conflict, no revision, no log. Used to check a whole file of changes on one
// snapshot without writing it (the CSV import's check), where Store::Update's dry run would hold a store
// transaction open for the whole file.
//
// Also the write buffer of the RocksDB backend's transactions (store/rocksdb), which commit its writes in key
// order once the transaction is done.
//
// Thread-compatible: one thread at a time; several overlays may share one snapshot if the Reader allows it.
#ifndef HABILIS_STORE_OVERLAY_TRANSACTION_H_
#define HABILIS_STORE_OVERLAY_TRANSACTION_H_

#include <map>
#include <optional>
#include <string>

#include "store/store.h"

namespace habilis::store {

class OverlayTransaction final : public Transaction {
 public:
  // `snapshot` must outlive the overlay.
  explicit OverlayTransaction(Reader& snapshot) : snapshot_(snapshot) {}

  [[nodiscard]] absl::StatusOr<std::string> Get(absl::string_view key) override;
  // The snapshot's entries merged with the overlay's, in key order: a Put shows its value, a Delete hides the
  // snapshot's entry.
  [[nodiscard]] absl::Status Scan(absl::string_view begin, absl::string_view end, ScanVisitor visit) override;
  [[nodiscard]] absl::Status Put(absl::string_view key, absl::string_view value) override;
  [[nodiscard]] absl::Status Delete(absl::string_view key) override;
  // Nothing is committed, so a log entry is never written (the contract says it cannot be read back).
  [[nodiscard]] absl::Status AppendToLog(absl::string_view log, absl::string_view value) override;
  // Nothing commits here, so there is no one to conflict with.
  [[nodiscard]] absl::Status ProtectRange(absl::string_view guard) override;
  [[nodiscard]] absl::StatusOr<Revision> SnapshotRevision() override { return snapshot_.SnapshotRevision(); }

  // Forgets the writes, as if the overlay had just been made (between independent changes, so that memory
  // stays flat over a large file).
  void Clear() { writes_.clear(); }

  // The writes, each key once with its last value (nullopt: deleted), in key order.
  using Writes = std::map<std::string, std::optional<std::string>, std::less<>>;
  const Writes& writes() const { return writes_; }

 private:
  Reader& snapshot_;
  Writes writes_;
};

}  // namespace habilis::store

#endif  // HABILIS_STORE_OVERLAY_TRANSACTION_H_
