// Records in the store: loading, writing and fingerprinting the protobuf messages every context keeps, and
// the guard keys that make concurrent transactions over one set of records conflict.
#ifndef HABILIS_SERVER_DOMAIN_KERNEL_RECORDS_H_
#define HABILIS_SERVER_DOMAIN_KERNEL_RECORDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "store/store.h"

namespace habilis::domain {

// Loads the record at `key` into `out`; NOT_FOUND (with `reason` and `message`) if absent.
[[nodiscard]] absl::Status LoadRecord(store::Reader& reader, absl::string_view key, google::protobuf::Message& out,
                                      absl::string_view reason, absl::string_view message);
// The `display_name` of the record at `key` (parsed as `record`'s type), or `fallback` if there is none. A
// failed read is an error, not an absent record (on PostgreSQL it may be a conflict its transaction must see).
[[nodiscard]] absl::StatusOr<std::string> DisplayNameAt(store::Reader& reader, absl::string_view key,
                                                        google::protobuf::Message& record,
                                                        absl::string_view fallback = "");
// True if `key` holds a record.
[[nodiscard]] absl::StatusOr<bool> Exists(store::Reader& reader, absl::string_view key);
[[nodiscard]] absl::Status StoreRecord(store::Transaction& txn, absl::string_view key,
                                       const google::protobuf::Message& record);

// The etag of a resource: a digest of its content (without its etag field).
std::string ComputeEtag(const google::protobuf::Message& resource);

// Reads a uint64 counter at `key` (0 if absent) and writes it back incremented: a guard key that makes
// concurrent transactions touching the same set of records conflict (see store::Transaction).
[[nodiscard]] absl::Status TouchGuard(store::Transaction& txn, absl::string_view key);

// The value of the string field `name` of `message`, "" if it has none (or it is not a single string).
std::string StringField(const google::protobuf::Message& message, absl::string_view name);

// The deterministic serialization of `message`: equal messages give equal bytes.
std::string DeterministicBytes(const google::protobuf::Message& message);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_KERNEL_RECORDS_H_
