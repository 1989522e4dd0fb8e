// Records spilled to disk, so that a CSV import holds one batch of rows in memory whatever the size of its file.
#ifndef HABILIS_SERVER_CSV_RECORD_SPOOL_H_
#define HABILIS_SERVER_CSV_RECORD_SPOOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace habilis::csv {

// Opaque records written once, in order, then read back by batches of `records_per_batch`.
//
// The file is an unnamed temporary file (O_TMPFILE; else one unlinked as soon as made) in $TMPDIR or /tmp: it
// has no name, so nothing else can open it, and the kernel frees it when the spool is destroyed or the process
// dies; nothing is left to clean. It holds the rows of the file in clear for the import's duration, as the
// request itself did in memory.
// Written here rather than taken from a library: the job is a buffered append and a pread, and Debian's
// candidates (LMDB, RocksDB itself) would make a durable, named database of what must vanish.
//
// Append and Seal are called by one thread; once sealed, ReadBatch may be called from several threads at once.
class RecordSpool {
 public:
  // UNAVAILABLE when no temporary file can be made.
  static absl::StatusOr<std::unique_ptr<RecordSpool>> Create(size_t records_per_batch);
  ~RecordSpool();
  RecordSpool(const RecordSpool&) = delete;
  RecordSpool& operator=(const RecordSpool&) = delete;

  [[nodiscard]] absl::Status Append(absl::string_view record);
  // Writes what is buffered; call before the first ReadBatch.
  [[nodiscard]] absl::Status Seal();

  size_t records() const { return records_; }
  size_t batches() const { return batch_offsets_.size(); }
  uint64_t bytes() const { return written_ + buffer_.size(); }

  // Visits the records of batch `batch` (0 ≤ batch < batches()) in order; stops at the first error `visit`
  // returns, and returns it.
  [[nodiscard]] absl::Status ReadBatch(size_t batch, absl::FunctionRef<absl::Status(absl::string_view)> visit) const;

 private:
  RecordSpool(int fd, size_t records_per_batch) : fd_(fd), records_per_batch_(records_per_batch) {}
  [[nodiscard]] absl::Status Flush();

  const int fd_;
  const size_t records_per_batch_;
  std::string buffer_;
  uint64_t written_ = 0;
  size_t records_ = 0;
  std::vector<uint64_t> batch_offsets_;  // where each batch begins in the file
};

}  // namespace habilis::csv

#endif  // HABILIS_SERVER_CSV_RECORD_SPOOL_H_
