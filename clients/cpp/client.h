// A small C++ client library for habilisd: channels, credentials, and reading error details.
#ifndef HABILIS_CLIENTS_CPP_CLIENT_H_
#define HABILIS_CLIENTS_CPP_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"

namespace habilis::client {

// A plaintext channel to habilisd at `target` ("HOST:PORT").
std::shared_ptr<grpc::Channel> Connect(const std::string& target);

// A channel with TLS: `ca_file` (PEM) the CA that signed the server's certificate ("" for the system's roots);
// for mutual TLS, the client's certificate and key files (both or neither). INVALID_ARGUMENT if a file cannot
// be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectTls(const std::string& target, const std::string& ca_file,
                                                          const std::string& cert_file = "",
                                                          const std::string& key_file = "");

// The full name ("/package.Service/Method") of the one unary or streaming method whose request is `request`'s
// type (habilis request types are unique per RPC); "" if none.
std::string MethodOf(const google::protobuf::Message& request);

// Calls the unary method that takes `request`'s type, with `bearer` unless it is empty, waiting at most
// `timeout`; fills `response` on success.
grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel, absl::string_view bearer,
                  const google::protobuf::Message& request, google::protobuf::Message& response,
                  std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Sends `bearer` (an API key or a session token) as "authorization: Bearer <bearer>" on this call.
void Authorize(grpc::ClientContext& context, absl::string_view bearer);

struct FieldViolation {
  std::string field;
  std::string reason;
  std::string description;
};

// What a failed call says about itself (AIP-193).
struct ErrorDetails {
  // The ErrorInfo reason, e.g. "MERGE_NEEDS_THREE_SERVICES"; "" when the status carries none.
  std::string reason;
  std::string domain;
  std::vector<FieldViolation> field_violations;
  // How many ErrorInfo details the status carried (AIP-193 wants exactly one).
  int error_info_count = 0;
};

ErrorDetails DetailsOf(const grpc::Status& status);

// The canonical name of a gRPC code: "NOT_FOUND", "PERMISSION_DENIED"...
std::string CodeName(grpc::StatusCode code);

// Calls the unary `method` ("/package.Service/Method") with `bytes` as its request, unchecked, as a generic
// tool does (or a test of what the server makes of bytes that are not a valid request); with `bearer`
// unless it is empty. Waits at most 30 s; returns the call's status.
grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method, const std::string& bytes,
                     absl::string_view bearer = "");
// The same for a method whose client streams: writes each of `messages` in order, closes, reads every reply
// (into `replies`, if given) and returns the call's status.
grpc::Status CallRawStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                           const std::vector<std::string>& messages, absl::string_view bearer = "",
                           std::vector<std::string>* replies = nullptr);

}  // namespace habilis::client

#endif  // HABILIS_CLIENTS_CPP_CLIENT_H_
