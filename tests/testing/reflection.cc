#include "tests/testing/reflection.h"

#include "absl/strings/str_cat.h"
#include "clients/cpp/client.h"
#include "google/protobuf/unknown_field_set.h"

namespace habilis::testing {

absl::StatusOr<std::vector<std::string>> ServedServices(const std::shared_ptr<grpc::Channel>& channel) {
  // ServerReflectionRequest{list_services (7): "*"}, written by hand: the reflection protos are not part of
  // Debian's gRPC headers.
  const std::string request = "\x3a\x01*";
  std::vector<std::string> replies;
  grpc::Status status = client::CallRawStream(channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                              {request}, "", &replies);
  if (!status.ok()) return absl::UnavailableError(absl::StrCat("server reflection: ", status.error_message()));
  if (replies.size() != 1) return absl::InternalError("server reflection: not one reply");
  // ServerReflectionResponse.list_services_response (6) .service (1) .name (1).
  google::protobuf::UnknownFieldSet response;
  if (!response.ParseFromString(replies[0])) return absl::InternalError("server reflection: unreadable reply");
  std::vector<std::string> services;
  for (int i = 0; i < response.field_count(); ++i) {
    if (response.field(i).number() != 6) continue;
    google::protobuf::UnknownFieldSet list;
    if (!list.ParseFromString(response.field(i).length_delimited())) return absl::InternalError("unreadable list");
    for (int j = 0; j < list.field_count(); ++j) {
      google::protobuf::UnknownFieldSet service;
      if (list.field(j).number() != 1 || !service.ParseFromString(list.field(j).length_delimited())) continue;
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) services.push_back(service.field(k).length_delimited());
      }
    }
  }
  if (services.empty()) return absl::InternalError("server reflection listed no service");
  return services;
}

}  // namespace habilis::testing
