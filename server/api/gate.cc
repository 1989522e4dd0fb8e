#include "server/api/gate.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "authz/rpc_table.h"
#include "server/api/http_gateway.h"
#include "server/common/errors.h"

namespace habilis::api {
namespace {

// The bearer credential of the call: nullopt without an authorization header, "" if it is not Bearer.
std::optional<absl::string_view> BearerOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
  absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() || !absl::StartsWithIgnoreCase(value, kScheme)) {
    return absl::string_view();
  }
  return absl::StripAsciiWhitespace(value.substr(kScheme.size()));
}

}  // namespace

std::string ClientAddressOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kHttpClientAddressKey);
  if (it == metadata.end()) return context.peer();
  std::optional<std::string> forwarded =
      ForwardedClientAddress(absl::string_view(it->second.data(), it->second.size()));
  // Without the gateway's secret, the header is a caller's claim: its own connection is what counts.
  return forwarded ? *forwarded : context.peer();
}

Gate::Judgement Gate::Judge(const grpc::ServerContextBase& context, absl::string_view method,
                            const authz::Target& target) const {
  const authz::RpcRule* rule = authz::FindRpcRule(method);
  if (rule == nullptr) {
    return {Error(absl::StatusCode::kPermissionDenied, "RPC_NOT_IN_POLICY",
                  absl::StrCat(method, " has no entry in the permission table")),
            std::nullopt, "RPC_NOT_IN_POLICY"};
  }
  if (rule->action == authz::Action::kSelfProving && attempts_ != nullptr) {
    absl::Status admitted = attempts_->Take(ClientAddressOf(context));
    if (!admitted.ok()) return {admitted};
  }
  authz::Principal caller = authz::Principal::Anonymous();
  if (authz::NeedsCredentials(rule->action)) {
    std::optional<absl::string_view> bearer = BearerOf(context);
    if (!bearer) {
      return {Error(absl::StatusCode::kUnauthenticated, "CREDENTIALS_MISSING",
                    "send 'authorization: Bearer <api key or session token>'")};
    }
    absl::StatusOr<authz::Principal> authenticated =
        domain::Sessions::LooksLikeSessionToken(*bearer) ? sessions_.Authenticate(*bearer)
        : domain::ApiKeys::LooksLikeApiKey(*bearer)
            ? api_keys_.Authenticate(*bearer)
            : Error(absl::StatusCode::kUnauthenticated, "CREDENTIALS_INVALID",
                    "the bearer credential is not valid; check the key or log in again");
    if (!authenticated.ok()) return {authenticated.status()};
    caller = *std::move(authenticated);
  }
  authz::Decision decision = engine_.Decide(caller, rule->action, target);
  if (!decision.allowed) {
    Judgement refusal{absl::PermissionDeniedError(""), caller, decision.reason};
    // What the caller must do first (consent, change an expired password) is told; why the target is out of
    // reach is not: "not a member" and "role not allowed" would tell a member of the structure apart from
    // a stranger, and so whether the target exists.
    if (decision.reason == "PRIVACY_CONSENT_REQUIRED" || decision.reason == "PASSWORD_CHANGE_REQUIRED") {
      refusal.caller = Error(absl::StatusCode::kPermissionDenied, decision.reason,
                             decision.reason == "PRIVACY_CONSENT_REQUIRED"
                                 ? "accept the privacy policy first (AcceptPrivacyPolicy)"
                                 : "the password has expired; change it first (ChangePassword)");
    } else {
      refusal.caller =
          Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                absl::StrCat("the caller may not perform ", authz::ActionName(rule->action), " on this target"));
    }
    return refusal;
  }
  return {std::move(caller)};
}

}  // namespace habilis::api
