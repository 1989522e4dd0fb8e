// The Connect protocol's unary calls (connectrpc.com/docs/protocol), apart from any HTTP server: one HTTP
// request in, one HTTP reply out. The HTTP/JSON gateway (http_gateway.h) carries them over HTTP/1.1 and HTTP/2.
//
//   POST /habilis.v1.<Service>/<Method>     Content-Type: application/json (or application/proto)
//   Authorization: Bearer <key or session token>
//   -> 200 and the response message as JSON; or the Connect error: an HTTP status for the code and
//      {"code": "not_found", "message": "...", "details": [{"type": "google.rpc.ErrorInfo", "value": "<base64>",
//       "debug": {...}}]}
//
// Each request is turned into the binary request and sent through the gRPC server's in-process channel: the
// same interceptors, gate, handlers, logs and metrics as a gRPC call; nothing here decides anything. The client's
// address goes along in a header the gate believes only from the in-process channel (ClientAddressOf in gate.h).
// Streaming methods (ImportAccounts, ExportAccounts, WatchChanges) stay gRPC-only: 404 here.
#ifndef HABILIS_SERVER_API_CONNECT_PROTOCOL_H_
#define HABILIS_SERVER_API_CONNECT_PROTOCOL_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace habilis::api {

// The metadata key carrying the HTTP client's address from the gateway to the gate: "<secret> <address>", the
// secret drawn at random once per process, so that no caller can claim another address. (gRPC names the
// in-process peer "unknown", which does not tell the gateway apart from other callers.)
inline constexpr char kHttpClientAddressKey[] = "x-habilis-http-client";

// The address a header value of kHttpClientAddressKey names, if it carries this process's secret.
std::optional<std::string> ForwardedClientAddress(absl::string_view header);

struct HttpRequest {
  std::string verb;                                       // "POST"
  std::string path;                                       // "/habilis.v1.StructureService/GetStructure"
  absl::flat_hash_map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string peer;  // as gRPC names one: "ipv4:1.2.3.4:5678" or "ipv6:[::1]:5678"

  const std::string* Header(absl::string_view name) const;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class ConnectCalls {
 public:
  // `channel` is the gRPC server's in-process channel; cross-origin calls are answered for `cors_origins` only.
  ConnectCalls(std::shared_ptr<grpc::Channel> channel, std::vector<std::string> cors_origins);

  // Answers `request`: `done` is called exactly once, either before Answer returns (a request refused before
  // any call) or later on a gRPC thread. `context` is the call's, for the caller to cancel it; it must outlive
  // `done`.
  void Answer(const HttpRequest& request, grpc::ClientContext* context, std::function<void(HttpReply)> done);

  // The Connect error of a request refused by the HTTP server itself (for example a body over the limit).
  static HttpReply Refusal(absl::StatusCode code, absl::string_view reason, absl::string_view message);

 private:
  // The reply to a request that needs no call (CORS preflight, wrong path, verb or type), or nullopt.
  std::optional<HttpReply> Refuse(const HttpRequest& request, bool cors) const;
  bool AllowedOrigin(const std::string* origin) const;

  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  const std::vector<std::string> cors_origins_;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_CONNECT_PROTOCOL_H_
