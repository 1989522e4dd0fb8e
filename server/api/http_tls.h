// The OpenSSL server context of the HTTP/JSON port (http_gateway.h): the certificate, key and client CA files,
// read again when they are older than the refresh period, so that a renewed certificate is taken up by new
// connections without a restart, as on the gRPC port.
#ifndef HABILIS_SERVER_API_HTTP_TLS_H_
#define HABILIS_SERVER_API_HTTP_TLS_H_

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "server/api/http_gateway.h"

namespace habilis::api {

class HttpTls {
 public:
  // TLS 1.2 or later, offering HTTP/2 and HTTP/1.1 by ALPN. INVALID_ARGUMENT naming the setting when a file
  // cannot be read or used.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpTls>> Load(const HttpTlsOptions& options);
  ~HttpTls();

  SSL_CTX* context() const { return context_; }

 private:
  struct Identity;
  explicit HttpTls(const HttpTlsOptions& options) : options_(options) {}

  [[nodiscard]] absl::StatusOr<std::shared_ptr<const Identity>> Read() const;
  // The identity to present, read again first if it is older than the refresh period (a file that cannot be
  // read then keeps the previous one).
  std::shared_ptr<const Identity> Current();
  // OpenSSL's certificate callback: presents Current() on each handshake.
  static int OnHandshake(SSL* ssl, void* self);

  const HttpTlsOptions options_;
  SSL_CTX* context_ = nullptr;
  std::mutex mu_;
  std::shared_ptr<const Identity> identity_;
  std::chrono::steady_clock::time_point read_at_;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_HTTP_TLS_H_
