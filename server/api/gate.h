// The gate every RPC passes first: authenticate the caller, then ask the engine whether the RPC's action
// is allowed on its target. An RPC missing from the RPC table is denied.
#ifndef HABILIS_SERVER_API_GATE_H_
#define HABILIS_SERVER_API_GATE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "authz/engine.h"
#include "authz/principal.h"
#include "grpcpp/server_context.h"
#include "server/api/attempt_limiter.h"
#include "server/domain/api_keys.h"
#include "server/domain/sessions.h"

namespace habilis::api {

// The address of the call's client, as gRPC names a peer ("ipv4:1.2.3.4:5678"): the connection's peer, or for
// a call the HTTP gateway (http_gateway.h) forwards in process, the HTTP client's address it names (only if the
// header carries the gateway's secret).
std::string ClientAddressOf(const grpc::ServerContextBase& context);

class Gate {
 public:
  // `attempts`, if given, bounds how fast each peer and all peers together call the self-proving RPCs.
  Gate(const domain::ApiKeys& api_keys, const domain::Sessions& sessions, const authz::Engine& engine,
       AttemptLimiter* attempts = nullptr)
      : api_keys_(api_keys), sessions_(sessions), engine_(engine), attempts_(attempts) {}

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
    std::string denial_reason;                // the engine's reason, or RPC_NOT_IN_POLICY
  };
  [[nodiscard]] Judgement Judge(const grpc::ServerContextBase& context, absl::string_view method,
                                const authz::Target& target) const;

 private:
  const domain::ApiKeys& api_keys_;
  const domain::Sessions& sessions_;
  const authz::Engine& engine_;
  AttemptLimiter* attempts_;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_GATE_H_
