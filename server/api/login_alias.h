// AIP-122 alias for an account: where a request names an account together with its structure,
// "accounts/{login e-mail}" names the member of that structure with that login (seed 000: every flow starts
// with «je renseigne l'adresse mail»). docs/API.md "Naming an account by its login".
//
// The alias is resolved on the executor, before the gate (the engine judges the account's memberships), in
// the structure the request names and nowhere else: an administrator learns nothing of other structures'
// logins. A login that no member of that structure has is answered after the gate, as an unknown account id
// is (NOT_FOUND ACCOUNT_NOT_FOUND), so a caller without the right still gets PERMISSION_DENIED alike.
#ifndef HABILIS_SERVER_API_LOGIN_ALIAS_H_
#define HABILIS_SERVER_API_LOGIN_ALIAS_H_

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "authz/engine.h"
#include "server/common/status_macros.h"
#include "server/domain/identity/accounts.h"
#include "server/domain/identity/member_in_structure.h"
#include "server/domain/kernel/resource_names.h"

namespace habilis::api {

// A copy of the request whose account field names the account by id once Resolve has run.
template <typename Request>
struct AliasedRequest {
  Request request;
  std::string* account;  // the account field of `request`
  std::string structure;
  std::string unknown_login;  // set when the alias named no member: the command is not run

  // The target of the call, after resolving the alias; the account's memberships for the engine.
  absl::StatusOr<authz::Target> Resolve(domain::Accounts& accounts) {
    if (IsLoginAlias(*account)) {
      ASSIGN_OR_RETURN(std::optional<std::string> id, accounts.MemberIdByLogin(structure, LoginOf(*account)));
      if (id) {
        *account = domain::AccountName(*id);
      } else {
        unknown_login = *account;
      }
    }
    authz::Target target{.structure = domain::StructureSegment(structure)};
    target.account = domain::ParseAccountName(*account).value_or("");
    ASSIGN_OR_RETURN(target.account_memberships, accounts.MembershipsForAuthz(*account));
    return target;
  }

  static bool IsLoginAlias(absl::string_view name) {
    return absl::StartsWith(name, "accounts/") && absl::StrContains(name, '@');
  }
  static std::string LoginOf(absl::string_view name) { return std::string(name.substr(sizeof("accounts/") - 1)); }
};

// Serves `request`, whose account field `account_field` may be a login alias within `structure`, with
// `command(caller, aliased_request, response)`.
template <typename Request>
std::shared_ptr<AliasedRequest<Request>> Aliased(const Request& request, std::string* (Request::*account_field)(),
                                                 const std::string& structure) {
  auto aliased = std::make_shared<AliasedRequest<Request>>();
  aliased->request = request;
  aliased->account = (aliased->request.*account_field)();
  aliased->structure = structure;
  return aliased;
}

// The target function ServeUnary runs for an aliased request.
template <typename Request>
auto AliasTarget(domain::Accounts& accounts, std::shared_ptr<AliasedRequest<Request>> aliased) {
  return [&accounts, aliased]() { return aliased->Resolve(accounts); };
}

// Runs `command` on the resolved request, or answers as for an unknown account.
template <typename Request, typename Command>
auto OnAliased(std::shared_ptr<AliasedRequest<Request>> aliased, Command command) {
  return [aliased, command = std::move(command)](const authz::Principal& caller, auto& out) -> absl::Status {
    if (!aliased->unknown_login.empty()) return domain::NotAMember(aliased->unknown_login);
    return command(caller, aliased->request, out);
  };
}

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_LOGIN_ALIAS_H_
