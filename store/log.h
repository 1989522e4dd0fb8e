// Reading the logs that Transaction::AppendToLog writes. How an entry is keyed (its log's prefix, then its
// commit's revision and its position in the commit) is known here and in the backends' commit, nowhere else.
#ifndef HABILIS_STORE_LOG_H_
#define HABILIS_STORE_LOG_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "store/store.h"

namespace habilis::store {

struct LogEntry {
  Revision revision;  // of the commit that appended it
  uint64_t position;  // among that commit's entries of this log, from 0
  absl::string_view value;
  // Names the entry for Transaction::Delete (retention); opaque to callers.
  absl::string_view id;
};

// Visits the entries of `log` appended by commits at revision `from` or later, in order, until `visit` returns
// false. DATA_LOSS for an entry whose key does not decode.
[[nodiscard]] absl::Status ScanLog(Reader& reader, absl::string_view log, Revision from,
                                   absl::FunctionRef<bool(const LogEntry&)> visit);

// Visits the entries appended before revision `before` to every log whose name starts with `family`, log by
// log in name order and by revision within each, starting after the entry `after_id` (empty: from the
// first), until `visit` returns false: retention, which resumes from the last entry it handled.
[[nodiscard]] absl::Status ScanLogFamilyBefore(Reader& reader, absl::string_view family, absl::string_view after_id,
                                               Revision before, absl::FunctionRef<bool(const LogEntry&)> visit);

// For the backends' commit: the key of the entry at `position` of the commit at `revision` in `log`.
std::string LogEntryKey(absl::string_view log, Revision revision, uint64_t position);

}  // namespace habilis::store

#endif  // HABILIS_STORE_LOG_H_
