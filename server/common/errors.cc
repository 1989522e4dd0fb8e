#include "server/common/errors.h"

#include <iostream>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace habilis {
namespace {

constexpr absl::string_view kErrorInfoUrl = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr absl::string_view kBadRequestUrl = "type.googleapis.com/google.rpc.BadRequest";

absl::string_view DefaultReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kAborted:
      return "CONCURRENT_MODIFICATION";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    default:
      return "INTERNAL";
  }
}

google::rpc::ErrorInfo MakeErrorInfo(absl::string_view reason) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  return info;
}

}  // namespace

absl::Status Error(absl::StatusCode code, absl::string_view reason, absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(kErrorInfoUrl, absl::Cord(MakeErrorInfo(reason).SerializeAsString()));
  return status;
}

void FieldViolations::Add(absl::string_view field, absl::string_view reason, absl::string_view description) {
  violations_.push_back({std::string(field), std::string(reason), std::string(description)});
}

absl::Status FieldViolations::ToStatus() const {
  if (violations_.empty()) return absl::OkStatus();
  google::rpc::BadRequest bad_request;
  std::string message;
  for (const Violation& v : violations_) {
    auto* out = bad_request.add_field_violations();
    out->set_field(v.field);
    out->set_reason(v.reason);
    out->set_description(v.description);
    absl::StrAppend(&message, message.empty() ? "" : "; ", v.field, ": ", v.description);
  }
  absl::Status status = Error(absl::StatusCode::kInvalidArgument, violations_.front().reason, message);
  status.SetPayload(kBadRequestUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status InvalidField(absl::string_view field, absl::string_view reason, absl::string_view description) {
  FieldViolations violations;
  violations.Add(field, reason, description);
  return violations.ToStatus();
}

std::string ErrorReason(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoUrl);
  if (!payload) return "";
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message(status.message());
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kDataLoss ||
      status.code() == absl::StatusCode::kUnknown) {
    // The detail goes to the operator's log, not to the caller.
    std::cerr << "habilisd: internal error: " << status << std::endl;
    message = "internal error; the server log has the details";
  }
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(message);
  auto info = status.GetPayload(kErrorInfoUrl);
  auto* info_any = rpc_status.add_details();
  if (info) {
    info_any->set_type_url(std::string(kErrorInfoUrl));
    info_any->set_value(std::string(*info));
  } else {
    info_any->PackFrom(MakeErrorInfo(DefaultReason(status.code())));
  }
  if (auto bad_request = status.GetPayload(kBadRequestUrl)) {
    auto* any = rpc_status.add_details();
    any->set_type_url(std::string(kBadRequestUrl));
    any->set_value(std::string(*bad_request));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message, rpc_status.SerializeAsString());
}

}  // namespace habilis
