#include "server/api/gate.h"

#include <fstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "authz/rpc_table.h"
#include "server/api/connect_protocol.h"
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

// The application a verified client certificate stands for, if it is mapped.
std::optional<std::string> CertificateApplicationOf(const grpc::ServerContextBase& context,
                                                    const CertificateApplications& certificates) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::nullopt;
  for (const grpc::string_ref& name : auth->FindPropertyValues("x509_common_name")) {
    auto it = certificates.find(std::string(name.data(), name.size()));
    if (it != certificates.end()) return it->second;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<CertificateApplications> ReadCertificateApplications(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--tls-client-applications: cannot read ", path));
  CertificateApplications certificates;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string uncommented = line.substr(0, line.find('#'));
    absl::string_view text = absl::StripAsciiWhitespace(uncommented);
    if (text.empty()) continue;
    std::vector<std::string> fields = absl::StrSplit(text, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 2 || !certificates.emplace(fields[0], fields[1]).second) {
      return absl::InvalidArgumentError(absl::StrCat("--tls-client-applications: ", path, " line ", number,
                                                     ": expected '<certificate common name> <application id>', "
                                                     "each common name once"));
    }
  }
  return certificates;
}

std::string ClientAddressOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kHttpClientAddressKey);
  if (it == metadata.end()) return context.peer();
  std::optional<std::string> forwarded =
      ForwardedClientAddress(absl::string_view(it->second.data(), it->second.size()));
  // Without the gateway's secret, the header is a caller's claim: its own connection is what counts.
  return forwarded ? *forwarded : context.peer();
}

absl::StatusOr<authz::Principal> Gate::Authenticate(const grpc::ServerContextBase& context) const {
  std::optional<absl::string_view> bearer = BearerOf(context);
  if (!bearer) {
    std::optional<std::string> application =
        certificates_ != nullptr ? CertificateApplicationOf(context, *certificates_) : std::nullopt;
    if (application) return authz::Principal::Application(*application, "certificate");
    return Error(absl::StatusCode::kUnauthenticated, "CREDENTIALS_MISSING",
                 "send 'authorization: Bearer <api key or session token>'");
  }
  if (domain::Sessions::LooksLikeSessionToken(*bearer)) return sessions_.Authenticate(*bearer);
  if (domain::ApiKeys::LooksLikeApiKey(*bearer)) return api_keys_.Authenticate(*bearer);
  return Error(absl::StatusCode::kUnauthenticated, "CREDENTIALS_INVALID",
               "the bearer credential is not valid; check the key or log in again");
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
    absl::StatusOr<authz::Principal> authenticated = Authenticate(context);
    if (!authenticated.ok()) return {authenticated.status()};
    caller = *std::move(authenticated);
  }
  authz::Decision decision = engine_.Decide(caller, rule->action, target);
  if (!decision.allowed) {
    Judgement refusal{absl::PermissionDeniedError(""), caller, authz::DecisionReasonName(decision.reason)};
    // What the caller must do first (consent, change an expired password) is told; why the target is out of
    // reach is not: "not a member" and "role not allowed" would tell a member of the structure apart from
    // a stranger, and so whether the target exists.
    switch (decision.reason) {
      case authz::DecisionReason::kPrivacyConsentRequired:
        refusal.caller = Error(absl::StatusCode::kPermissionDenied, refusal.denial_reason,
                               "accept the privacy policy first (AcceptPrivacyPolicy)");
        break;
      case authz::DecisionReason::kPasswordChangeRequired:
        refusal.caller = Error(absl::StatusCode::kPermissionDenied, refusal.denial_reason,
                               "the password has expired; change it first (ChangePassword)");
        break;
      default:
        refusal.caller =
            Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                  absl::StrCat("the caller may not perform ", authz::ActionName(rule->action), " on this target"));
    }
    return refusal;
  }
  return {std::move(caller)};
}

}  // namespace habilis::api
