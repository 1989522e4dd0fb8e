// TLS and mutual TLS for habilisd's port (docs/OPERATIONS.md).
#ifndef HABILIS_SERVER_API_TRANSPORT_SECURITY_H_
#define HABILIS_SERVER_API_TRANSPORT_SECURITY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "server/config.h"

namespace habilis::api {

// The credentials of the listening port:
// - without --tls-cert: plain text (development, or behind a proxy that terminates TLS);
// - with --tls-cert and --tls-key: TLS 1.2+ with that certificate chain (PEM);
// - with --tls-client-ca too: mutual TLS, every client presents a certificate that CA signed.
// The files are read again every --tls-refresh-seconds, so a renewed certificate or CA is taken up by new
// connections without a restart (gRPC's FileWatcherCertificateProvider).
// INVALID_ARGUMENT naming the setting when a file cannot be read, is not PEM, or the key does not match the
// certificate: checked here, at start-up, because gRPC would only fail each handshake.
[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(const Config& config);

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_TRANSPORT_SECURITY_H_
