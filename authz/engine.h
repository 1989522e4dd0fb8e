// The policy engine: may this principal perform this action on this target? Every RPC asks it.
#ifndef HABILIS_AUTHZ_ENGINE_H_
#define HABILIS_AUTHZ_ENGINE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "authz/principal.h"

namespace habilis::authz {

// What an RPC does, at the grain the policy distinguishes. The RPC table (rpc_table.h) maps each RPC to one.
enum class Action {
  kPublic,  // answers without credentials: health, reflection
  // Answers without credentials because the request carries its own proof (a password, a link token, a
  // one-time code) that the command checks: login, invitation forms, password links.
  kSelfProving,
  kStructureCreate,
  kStructureList,
  kStructureRead,
  kStructureUpdate,
  kServiceRead,
  kServiceWrite,
  kApplicationCreate,
  kApplicationList,
  kApplicationRead,
  kApiKeyManage,
  kBackupCreate,        // an online backup of the store (operators)
  kAccountCreate,       // NEW-CREATE in a structure (target.role, target.service: the membership to give)
  kAccountList,         // SVC-LIST
  kAccountRead,         // one account (target.account and its memberships)
  kAccountUpdate,       // personal data (SELF, or an administrator)
  kAccountActivate,     // NEW-ACTIVATE
  kAccountAdminister,   // resend identifier, change role or service, suspend, remove, transfer, deletion request
  kAccountDeactivate,   // account-wide deactivation: operators only (MEMBERSHIP-END)
  kDeletionDecide,      // operators decide deletion requests
  kDeletionList,        // an administrator follows his structure's deletion requests
  kInvitationSend,      // INV-SEND (target.role, target.service)
  kInvitationManage,    // decide invitations
  kInvitationList,      // list a structure's invitations (a responsable: those he sent)
  kSessionOwn,          // what a logged-in account does for itself: logout, consent, password change
  kSessionManage,       // list and end an account's sessions (DEVICES)
  kProfileManage,       // APP-REG: create and retire profiles (operators)
  kProfileRead,         // list an application's profiles
  kSubscriptionManage,  // SUB: subscribe a structure, end a subscription (operators)
  kSubscriptionRead,
  kHabilitationGrant,  // HAB-GRANT, HAB-REVOKE (target.account and its memberships)
  kHabilitationRead,
  kDelegationManage,  // DLG-GRANT, DLG-REVOKE
  kDelegationRead,
  kAccessCheck,   // the client-application API: CHECK, LIST
  kAuditRead,     // AUDIT: the trail of a structure (target.structure), or all of it (operators)
  kAccountsFile,  // CSV-EXPORT, CSV-IMPORT of a structure's members (target.structure)
  kChangesWatch,  // WATCH: a structure's changes (target.structure) or an application's (target.application)
};

absl::string_view ActionName(Action action);

// False for the actions that answer without credentials (kPublic, kSelfProving).
bool NeedsCredentials(Action action);

// What the action applies to, as far as the request names it. Empty fields are not named by the request.
struct Target {
  std::string structure;    // SIRET
  std::string service;      // service id within the structure ("" for the root level)
  std::string application;  // application id
  // The account acted upon, and its memberships as the store holds them (empty if it has none or does not
  // exist: the decision is then the same as for an account of another structure).
  std::string account;
  std::vector<Membership> account_memberships;
  // The role a creation or invitation would give.
  std::optional<Role> role;
};

// Why the engine allowed or denied. Never depends on whether the target exists: the engine does not read the
// store, so a denial leaks nothing about other structures.
enum class DecisionReason : uint8_t {
  // Allowed.
  kPublic,
  kOperator,
  kClientApplication,
  kOwnApplication,
  kOwnSession,
  kSelf,
  kAccount,
  kAdministratorOfStructure,
  kResponsableInStructure,
  kResponsableOfService,
  // Denied.
  kUnauthenticated,
  kNotAllowedToApplications,
  kOperatorsOnly,
  kPrivacyConsentRequired,
  kPasswordChangeRequired,
  kNotAMember,
  kRoleNotAllowed,
  kNotAllowedOnAccount,
  kNoStructureNamed,
};

// UPPER_SNAKE, as the audit trail and the logs write it: OPERATOR, ADMINISTRATOR_OF_STRUCTURE, NOT_A_MEMBER…
absl::string_view DecisionReasonName(DecisionReason reason);

struct Decision {
  bool allowed = false;
  DecisionReason reason = DecisionReason::kOperatorsOnly;
};

// HAB-GRANT's reach of a responsable: the collaborators of his own service. The engine decides with it, and
// commands that act for a responsable check it again on what their transaction reads.
bool ResponsableReaches(const Membership& responsable, const Membership& member);

class Engine {
 public:
  virtual ~Engine() = default;
  virtual Decision Decide(const Principal& principal, Action action, const Target& target) const = 0;
};

// The role-based engine built from the policy table in engine.cc.
std::unique_ptr<Engine> NewRoleEngine();

}  // namespace habilis::authz

#endif  // HABILIS_AUTHZ_ENGINE_H_
