// The HTTP/JSON way in (--http-listen): the Connect protocol's unary calls (connect_protocol.h) over HTTP/1.1
// and HTTP/2, so that curl, a browser or any language can call habilis with no gRPC stack (docs/API.md
// "HTTP/JSON").
//
// The HTTP server is Debian's libh2o (its own event loop, OpenSSL): HTTP/1.1, HTTP/2 over TLS by ALPN, and
// HTTP/2 in clear text by prior knowledge or Upgrade: h2c. (civetweb, which the metrics port keeps, has no
// HTTP/2 in Debian's build and its TLS crashed a worker in bookworm's 1.15.) One event-loop thread serves every
// connection: it never waits for a call, which runs on the gRPC server's threads and hands its reply back.
//
// With --tls-cert the port speaks HTTPS only, with the gRPC port's certificate and key, read again every
// --tls-refresh-seconds; with --tls-client-ca too, every client presents a certificate that CA signed, as on the
// gRPC port. A client application over HTTP sends its API key: mapping certificates to applications
// (--tls-client-applications) is gRPC's alone.
#ifndef HABILIS_SERVER_API_HTTP_GATEWAY_H_
#define HABILIS_SERVER_API_HTTP_GATEWAY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "server/api/connect_protocol.h"

namespace habilis::api {

struct HttpTlsOptions {
  std::string cert_file;  // empty: clear text
  std::string key_file;
  std::string client_ca_file;  // non-empty: every client presents a certificate this CA signed
  int refresh_seconds = 10;
};

struct HttpGatewayOptions {
  std::string listen;                     // HOST:PORT; port 0 picks one
  std::vector<std::string> cors_origins;  // origins allowed cross-origin calls
  int max_request_bytes = 4 << 20;        // larger bodies get 413 before they are read
  HttpTlsOptions tls;
};

class HttpGateway {
 public:
  // Serves until destroyed. `channel` is the gRPC server's in-process channel. UNAVAILABLE naming
  // --http-listen when the address cannot be bound; INVALID_ARGUMENT when a TLS file cannot be used.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(HttpGatewayOptions options,
                                                                          std::shared_ptr<grpc::Channel> channel);
  ~HttpGateway();
  int port() const { return port_; }

  struct Loop;

 private:
  HttpGateway() = default;
  std::unique_ptr<Loop> loop_;
  int port_ = 0;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_HTTP_GATEWAY_H_
