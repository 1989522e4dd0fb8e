// Who is calling: the authenticated identity the engine decides for.
#ifndef HABILIS_AUTHZ_PRINCIPAL_H_
#define HABILIS_AUTHZ_PRINCIPAL_H_

#include <string>
#include <vector>

namespace habilis::authz {

enum class PrincipalKind {
  kAnonymous,    // no credentials
  kOperator,     // platform staff, by API key
  kApplication,  // a client application, by API key
  kAccount,      // a person, by session token
};

enum class Role { kAdministrator, kResponsable, kCollaborator };

// An account's place in one structure.
struct Membership {
  std::string structure;  // SIRET
  Role role = Role::kCollaborator;
  std::string service;  // service id; empty for the root level
};

// What an account's session may not do yet: FIRST-LOGIN asks for the privacy consent before anything else,
// and an expired password must be changed first.
enum class Restriction { kNone, kConsentRequired, kPasswordChangeRequired };

struct Principal {
  PrincipalKind kind = PrincipalKind::kAnonymous;
  // The API key id (operator), the application id (application) or the account id (account).
  std::string id;
  // The API key that authenticated an operator or an application.
  std::string credential_id;
  // Accounts only.
  std::vector<Membership> memberships;
  std::string session_id;
  Restriction restriction = Restriction::kNone;

  static Principal Anonymous() { return {}; }
  static Principal Operator(std::string key_id) { return {PrincipalKind::kOperator, key_id, key_id, {}}; }
  static Principal Application(std::string application_id, std::string key_id) {
    return {PrincipalKind::kApplication, std::move(application_id), std::move(key_id), {}, "", Restriction::kNone};
  }
  static Principal Account(std::string account_id, std::vector<Membership> memberships, std::string session_id = "",
                           Restriction restriction = Restriction::kNone) {
    return {PrincipalKind::kAccount, std::move(account_id), "",
            std::move(memberships),  std::move(session_id), restriction};
  }

  // The membership in `structure`, or nullptr.
  const Membership* MembershipIn(const std::string& structure) const {
    for (const Membership& m : memberships) {
      if (m.structure == structure) return &m;
    }
    return nullptr;
  }

  // A stable name for this principal, e.g. "operators/3f2a...", for idempotency keys and audit.
  std::string ResourceName() const;
};

}  // namespace habilis::authz

#endif  // HABILIS_AUTHZ_PRINCIPAL_H_
