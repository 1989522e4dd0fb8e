// The gate every RPC passes first: authenticate the caller, then ask the engine whether the RPC's action
// is allowed on its target. An RPC missing from the RPC table is denied.
#ifndef HABILIS_SERVER_API_GATE_H_
#define HABILIS_SERVER_API_GATE_H_

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "authz/engine.h"
#include "authz/principal.h"
#include "grpcpp/server_context.h"
#include "server/api/attempt_limiter.h"
#include "server/domain/entitlements/api_keys.h"
#include "server/domain/identity/sessions.h"

namespace habilis::api {

// The address of the call's client, as gRPC names a peer ("ipv4:1.2.3.4:5678"): the connection's peer, or for
// a call the HTTP gateway (http_gateway.h) forwards in process, the HTTP client's address it names (only if the
// header carries the gateway's secret).
std::string ClientAddressOf(const grpc::ServerContextBase& context);

// Client certificates that stand for client applications (--tls-client-applications): the certificate's
// common name -> the application id. Only certificates the mutual-TLS CA signed reach the gate.
using CertificateApplications = absl::flat_hash_map<std::string, std::string>;

// Reads --tls-client-applications: one "<common name> <application id>" per line; '#' starts a comment.
// INVALID_ARGUMENT naming the setting and the line when it does not parse.
[[nodiscard]] absl::StatusOr<CertificateApplications> ReadCertificateApplications(const std::string& path);

class Gate {
 public:
  // `attempts`, if given, bounds how fast each peer and all peers together call the self-proving RPCs.
  // `certificates`, if given, authenticates a call without a bearer credential by its client certificate.
  Gate(const domain::ApiKeys& api_keys, const domain::Sessions& sessions, const authz::Engine& engine,
       AttemptLimiter* attempts = nullptr, const CertificateApplications* certificates = nullptr)
      : api_keys_(api_keys), sessions_(sessions), engine_(engine), attempts_(attempts), certificates_(certificates) {}

  // The caller of `method` ("package.Service/Method"), if allowed to act on `target`:
  // - UNAUTHENTICATED (CREDENTIALS_MISSING / CREDENTIALS_INVALID / API_KEY_REVOKED) when the action is not
  //   public and the credentials are absent or wrong;
  // - PERMISSION_DENIED with the engine's reason when the engine denies, or RPC_NOT_IN_POLICY when the RPC
  //   has no entry in the table. Whether the target exists plays no part;
  // - RESOURCE_EXHAUSTED TOO_MANY_ATTEMPTS for a self-proving RPC past the attempt limits.
  [[nodiscard]] absl::StatusOr<authz::Principal> Admit(const grpc::ServerContextBase& context, absl::string_view method,
                                                       const authz::Target& target) const {
    return Judge(context, method, target).caller;
  }

  // Admit, and on a refusal, who was refused and the engine's own reason (for the audit trail: the caller
  // is told less, see gate.cc).
  struct Judgement {
    absl::StatusOr<authz::Principal> caller;
    std::optional<authz::Principal> refused;  // set when an authenticated caller is denied
    absl::string_view denial_reason;          // the engine's reason, or RPC_NOT_IN_POLICY (static text)
  };
  [[nodiscard]] Judgement Judge(const grpc::ServerContextBase& context, absl::string_view method,
                                const authz::Target& target) const;

 private:
  // The caller by its bearer credential (a session token or an API key), else by a mapped client certificate.
  absl::StatusOr<authz::Principal> Authenticate(const grpc::ServerContextBase& context) const;

  const domain::ApiKeys& api_keys_;
  const domain::Sessions& sessions_;
  const authz::Engine& engine_;
  AttemptLimiter* attempts_;
  const CertificateApplications* certificates_;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_GATE_H_
