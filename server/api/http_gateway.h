// The HTTP/JSON way in (--http-listen): the Connect protocol's unary calls, so that curl, a browser or any
// language can call habilis with no gRPC stack (docs/API.md "HTTP/JSON").
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
//
// civetweb (Debian's, the server prometheus-cpp uses too) parses HTTP/1.1 in plain text: Debian builds it without
// HTTP/2, and its TLS crashed a worker thread right after the handshake when tried (bookworm's 1.15, a null
// function pointer, with its certificate loaded either way). TLS and HTTP/2 come from a proxy in front.
#ifndef HABILIS_SERVER_API_HTTP_GATEWAY_H_
#define HABILIS_SERVER_API_HTTP_GATEWAY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

struct mg_context;

namespace habilis::api {

// The metadata key carrying the HTTP client's address from the gateway to the gate: "<secret> <address>", the
// secret drawn at random once per process, so that no caller can claim another address. (gRPC names the
// in-process peer "unknown", which does not tell the gateway apart from other callers.)
inline constexpr char kHttpClientAddressKey[] = "x-habilis-http-client";

// The address a header value of kHttpClientAddressKey names, if it carries this process's secret.
std::optional<std::string> ForwardedClientAddress(absl::string_view header);

struct HttpGatewayOptions {
  std::string listen;                     // HOST:PORT; port 0 picks one
  std::vector<std::string> cors_origins;  // origins allowed cross-origin calls
  int max_request_bytes = 4 << 20;        // larger bodies are refused before parsing
};

class HttpGateway {
 public:
  // Serves until destroyed. `channel` is the gRPC server's in-process channel.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(HttpGatewayOptions options,
                                                                          std::shared_ptr<grpc::Channel> channel);
  ~HttpGateway();
  int port() const { return port_; }

  struct Handler;

 private:
  HttpGateway() = default;
  std::unique_ptr<Handler> handler_;
  ::mg_context* server_ = nullptr;
  int port_ = 0;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_HTTP_GATEWAY_H_
