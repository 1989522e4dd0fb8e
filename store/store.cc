#include "store/store.h"

#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_format.h"
#include "store/encoding.h"

namespace habilis::store {
namespace {
// Marks a store conflict among ABORTED statuses, which the domain also returns for its own outcomes.
constexpr absl::string_view kConflictPayload = "type.habilis.dev/store.Conflict";
}  // namespace

absl::Status ConflictError(absl::string_view message) {
  absl::Status status = absl::AbortedError(message);
  status.SetPayload(kConflictPayload, absl::Cord("1"));
  return status;
}

bool IsConflict(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAborted && status.GetPayload(kConflictPayload).has_value();
}

std::string NewStoreId() {
  absl::BitGen random;  // seeded from the system's entropy: an id, not a secret
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(random), absl::Uniform<uint64_t>(random));
}

absl::Status ScanPrefix(Reader& reader, absl::string_view prefix, ScanVisitor visit) {
  return reader.Scan(prefix, PrefixEnd(prefix), visit);
}

}  // namespace habilis::store
