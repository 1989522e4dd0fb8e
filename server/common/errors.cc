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
constexpr absl::string_view kRetryInfoUrl = "type.googleapis.com/google.rpc.RetryInfo";

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

absl::Status InElement(const absl::Status& status, absl::string_view path) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(path, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    if (url != kBadRequestUrl) {
      out.SetPayload(url, payload);
      return;
    }
    google::rpc::BadRequest bad_request;
    if (!bad_request.ParseFromString(std::string(payload))) return;
    for (auto& violation : *bad_request.mutable_field_violations()) {
      violation.set_field(absl::StrCat(path, ".", violation.field()));
    }
    out.SetPayload(url, absl::Cord(bad_request.SerializeAsString()));
  });
  return out;
}

namespace {

void CollectUnknownEnums(const google::protobuf::Message& message, const std::string& path,
                         FieldViolations& violations);

// Element `i` of `field` (its only value when not repeated), at `element` in the request.
void CollectUnknownEnumsIn(const google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field,
                           int i, const std::string& element, FieldViolations& violations) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    const int value = field->is_repeated() ? reflection.GetRepeatedEnumValue(message, field, i)
                                           : reflection.GetEnumValue(message, field);
    if (field->enum_type()->FindValueByNumber(value) == nullptr) {
      violations.Add(element, "ENUM_VALUE_UNKNOWN",
                     absl::StrCat(value, " is not a value of ", field->enum_type()->full_name()));
    }
  } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_map()) {
    CollectUnknownEnums(
        field->is_repeated() ? reflection.GetRepeatedMessage(message, field, i) : reflection.GetMessage(message, field),
        element, violations);
  }
}

void CollectUnknownEnums(const google::protobuf::Message& message, const std::string& path,
                         FieldViolations& violations) {
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    const std::string name = path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    const int count = field->is_repeated() ? reflection.FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      CollectUnknownEnumsIn(message, field, i, field->is_repeated() ? absl::StrCat(name, "[", i, "]") : name,
                            violations);
    }
  }
}

}  // namespace

absl::Status CheckEnumValues(const google::protobuf::Message& request) {
  FieldViolations violations;
  CollectUnknownEnums(request, "", violations);
  return violations.ToStatus();
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  google::rpc::RetryInfo info;
  const absl::Duration rounded = absl::Ceil(delay, absl::Milliseconds(1));
  info.mutable_retry_delay()->set_seconds(absl::ToInt64Seconds(rounded));
  info.mutable_retry_delay()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(rounded - absl::Seconds(absl::ToInt64Seconds(rounded)))));
  status.SetPayload(kRetryInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

std::string ErrorReason(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoUrl);
  if (!payload) return "";
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status rpc_status;
  if (!status.error_details().empty() && rpc_status.ParseFromString(status.error_details())) {
    for (const auto& any : rpc_status.details()) {
      if (any.type_url() == kErrorInfoUrl) out.SetPayload(kErrorInfoUrl, absl::Cord(any.value()));
    }
  }
  return out;
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
  for (absl::string_view url : {kBadRequestUrl, kRetryInfoUrl}) {
    if (auto detail = status.GetPayload(url)) {
      auto* any = rpc_status.add_details();
      any->set_type_url(std::string(url));
      any->set_value(std::string(*detail));
    }
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message, rpc_status.SerializeAsString());
}

}  // namespace habilis
