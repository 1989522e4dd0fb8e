// The error model (AIP-193): every error carries a canonical code, a message that says how to fix the
// problem, and exactly one google.rpc.ErrorInfo with an UPPER_SNAKE reason; invalid fields also carry a
// google.rpc.BadRequest. Inside habilis they travel as absl::Status payloads; ToGrpcStatus converts them
// at the gRPC boundary.
#ifndef HABILIS_SERVER_COMMON_ERRORS_H_
#define HABILIS_SERVER_COMMON_ERRORS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"

namespace habilis {

inline constexpr absl::string_view kErrorDomain = "habilis";

// An error with the given code, ErrorInfo reason and message.
absl::Status Error(absl::StatusCode code, absl::string_view reason, absl::string_view message);

// Collects invalid fields, so that one answer names every problem of a request.
class FieldViolations {
 public:
  // field: the request path, e.g. "structure.siret". reason: UPPER_SNAKE, e.g. "SIRET_CHECKSUM".
  void Add(absl::string_view field, absl::string_view reason, absl::string_view description);
  bool empty() const { return violations_.empty(); }
  // INVALID_ARGUMENT with a BadRequest of every violation and the first one's reason; OK when empty.
  absl::Status ToStatus() const;

  struct Violation {
    std::string field, reason, description;
  };
  const std::vector<Violation>& list() const { return violations_; }

 private:
  std::vector<Violation> violations_;
};

// A single invalid field.
absl::Status InvalidField(absl::string_view field, absl::string_view reason, absl::string_view description);

// The error of one element of a request, told about the whole request: the message starts with `path`
// ("checks[3]: ..."), the BadRequest fields are put under it ("checks[3].profile"), the ErrorInfo reason is
// kept. One rule for a batch and its single call: they give the same reason.
absl::Status InElement(const absl::Status& status, absl::string_view path);

// `status` with a google.rpc.RetryInfo saying when to try again.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// INVALID_ARGUMENT ENUM_VALUE_UNKNOWN naming every enum field of `request` (nested ones too) whose value its
// enum does not define: proto3 keeps such values, and a filter on one would quietly match nothing.
absl::Status CheckEnumValues(const google::protobuf::Message& request);

// The ErrorInfo reason of a status built by the functions above; "" for a status without one.
std::string ErrorReason(const absl::Status& status);

// The one place where absl statuses become gRPC statuses. Errors without ErrorInfo (from the store, say)
// get a reason from their code; INTERNAL and DATA_LOSS messages are replaced so internals never leak.
grpc::Status ToGrpcStatus(const absl::Status& status);
// The other way, for what only has the grpc::Status (a stream's end): its code, message and ErrorInfo.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace habilis

#endif  // HABILIS_SERVER_COMMON_ERRORS_H_
