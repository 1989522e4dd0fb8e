#include "authz/engine.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"

namespace habilis::authz {
namespace {

// Who may perform an action. Operators may perform every action; the rest is granted here.
struct ActionPolicy {
  Action action;
  // Needs no credentials.
  bool is_public = false;
  // A client application, on its own application only.
  bool own_application = false;
  // Any client application (the command confines it to its own application's data).
  bool any_application = false;
  // Any logged-in account without restriction (catalog information).
  bool any_consenting_account = false;
  // Any logged-in account, even one that must still accept the privacy policy or change its password.
  bool any_account = false;
  // The account acted upon is the caller.
  bool self = false;
  // Accounts holding one of these roles in the target structure (or, when the request names no structure,
  // in a structure the target account belongs to).
  bool administrator = false;
  bool responsable = false;
  // A responsable, for collaborators of his own service (the ones he creates, or is to create).
  bool responsable_for_collaborators = false;
};

// The whole policy. An action missing here is allowed to operators only.
constexpr ActionPolicy kPolicies[] = {
    {.action = Action::kPublic, .is_public = true},
    {.action = Action::kSelfProving, .is_public = true},
    {.action = Action::kStructureRead, .administrator = true},
    // STR-EDIT: an administrator keeps his structure's coordinates (the command never changes a SIRET).
    {.action = Action::kStructureUpdate, .administrator = true},
    // Responsables see the org chart they work in; collaborators manage only themselves.
    {.action = Action::kServiceRead, .administrator = true, .responsable = true},
    {.action = Action::kServiceWrite, .administrator = true},
    // Item 7 of issue 14: members read the applications their structures subscribe to, by name (the command
    // answers APPLICATION_NOT_FOUND for any other, as for one that does not exist).
    {.action = Action::kApplicationRead, .own_application = true, .any_consenting_account = true},
    {.action = Action::kAccountCreate, .administrator = true, .responsable_for_collaborators = true},
    // A responsable lists the members of his own service only (the command confines him to it).
    {.action = Action::kAccountList, .administrator = true, .responsable = true},
    {.action = Action::kAccountRead, .self = true, .administrator = true, .responsable_for_collaborators = true},
    {.action = Action::kAccountUpdate, .self = true, .administrator = true},
    {.action = Action::kAccountActivate, .administrator = true, .responsable_for_collaborators = true},
    {.action = Action::kAccountAdminister, .administrator = true},
    // DEL-REQUEST: an administrator follows the requests of his structure (the command requires the structure).
    {.action = Action::kDeletionList, .administrator = true},
    {.action = Action::kInvitationSend, .administrator = true, .responsable_for_collaborators = true},
    {.action = Action::kInvitationManage, .administrator = true},
    // A responsable follows the invitations he sent (the command confines him to them).
    {.action = Action::kInvitationList, .administrator = true, .responsable = true},
    {.action = Action::kSessionOwn, .any_account = true},
    {.action = Action::kSessionManage, .self = true, .administrator = true},
    {.action = Action::kProfileRead, .own_application = true, .any_consenting_account = true},
    {.action = Action::kSubscriptionRead, .administrator = true, .responsable = true},
    {.action = Action::kHabilitationGrant, .administrator = true, .responsable_for_collaborators = true},
    {.action = Action::kHabilitationRead, .administrator = true, .responsable = true},
    {.action = Action::kDelegationManage, .administrator = true},
    {.action = Action::kDelegationRead, .self = true, .administrator = true},
    {.action = Action::kAccessCheck, .any_application = true},
    {.action = Action::kAuditRead, .administrator = true},
    {.action = Action::kChangesWatch, .own_application = true, .administrator = true},
    // The whole structure's people, personal data and profiles: its administrators'.
    {.action = Action::kAccountsFile, .administrator = true},
};

const ActionPolicy* FindPolicy(Action action) {
  for (const ActionPolicy& policy : kPolicies) {
    if (policy.action == action) return &policy;
  }
  return nullptr;
}

// Whether `caller` (the caller's membership in one structure) is granted `policy` there.
std::optional<DecisionReason> GrantIn(const ActionPolicy& policy, const Membership& caller, const Target& target) {
  if (caller.role == Role::kAdministrator && policy.administrator) return DecisionReason::kAdministratorOfStructure;
  if (caller.role != Role::kResponsable) return std::nullopt;
  if (policy.responsable) return DecisionReason::kResponsableInStructure;
  if (!policy.responsable_for_collaborators) return std::nullopt;
  if (target.role.has_value()) {
    if (ResponsableReaches(caller, {caller.structure, *target.role, target.service}))
      return DecisionReason::kResponsableOfService;
    return std::nullopt;
  }
  for (const Membership& m : target.account_memberships) {
    if (ResponsableReaches(caller, m)) return DecisionReason::kResponsableOfService;
  }
  return std::nullopt;
}

Decision DecideForAccount(const Principal& principal, const ActionPolicy& policy, const Target& target) {
  if (policy.any_account) return {true, DecisionReason::kOwnSession};
  if (principal.restriction == Restriction::kConsentRequired) return {false, DecisionReason::kPrivacyConsentRequired};
  if (principal.restriction == Restriction::kPasswordChangeRequired)
    return {false, DecisionReason::kPasswordChangeRequired};
  if (policy.self && !target.account.empty() && target.account == principal.id) return {true, DecisionReason::kSelf};
  if (policy.any_consenting_account) return {true, DecisionReason::kAccount};
  if (!target.structure.empty()) {
    const Membership* caller = principal.MembershipIn(target.structure);
    if (caller == nullptr) return {false, DecisionReason::kNotAMember};
    if (std::optional<DecisionReason> grant = GrantIn(policy, *caller, target)) return {true, *grant};
    return {false, DecisionReason::kRoleNotAllowed};
  }
  if (!target.account.empty()) {
    // No structure named: any structure the caller shares with the target account may grant it.
    for (const Membership& theirs : target.account_memberships) {
      const Membership* caller = principal.MembershipIn(theirs.structure);
      if (caller == nullptr) continue;
      if (std::optional<DecisionReason> grant = GrantIn(policy, *caller, target)) return {true, *grant};
    }
    return {false, DecisionReason::kNotAllowedOnAccount};
  }
  return {false, DecisionReason::kNoStructureNamed};
}

class RoleEngine final : public Engine {
 public:
  Decision Decide(const Principal& principal, Action action, const Target& target) const override {
    const ActionPolicy* policy = FindPolicy(action);
    if (policy != nullptr && policy->is_public) return {true, DecisionReason::kPublic};
    switch (principal.kind) {
      case PrincipalKind::kAnonymous:
        return {false, DecisionReason::kUnauthenticated};
      case PrincipalKind::kOperator:
        return {true, DecisionReason::kOperator};
      case PrincipalKind::kApplication:
        if (policy != nullptr && policy->any_application) return {true, DecisionReason::kClientApplication};
        if (policy != nullptr && policy->own_application && !target.application.empty() &&
            target.application == principal.id) {
          return {true, DecisionReason::kOwnApplication};
        }
        return {false, DecisionReason::kNotAllowedToApplications};
      case PrincipalKind::kAccount:
        break;
    }
    if (policy == nullptr) return {false, DecisionReason::kOperatorsOnly};
    return DecideForAccount(principal, *policy, target);
  }
};

}  // namespace

bool ResponsableReaches(const Membership& responsable, const Membership& member) {
  return responsable.role == Role::kResponsable && member.structure == responsable.structure &&
         member.role == Role::kCollaborator && member.service == responsable.service;
}

absl::string_view DecisionReasonName(DecisionReason reason) {
  switch (reason) {
    case DecisionReason::kPublic:
      return "PUBLIC";
    case DecisionReason::kOperator:
      return "OPERATOR";
    case DecisionReason::kClientApplication:
      return "CLIENT_APPLICATION";
    case DecisionReason::kOwnApplication:
      return "OWN_APPLICATION";
    case DecisionReason::kOwnSession:
      return "OWN_SESSION";
    case DecisionReason::kSelf:
      return "SELF";
    case DecisionReason::kAccount:
      return "ACCOUNT";
    case DecisionReason::kAdministratorOfStructure:
      return "ADMINISTRATOR_OF_STRUCTURE";
    case DecisionReason::kResponsableInStructure:
      return "RESPONSABLE_IN_STRUCTURE";
    case DecisionReason::kResponsableOfService:
      return "RESPONSABLE_OF_SERVICE";
    case DecisionReason::kUnauthenticated:
      return "UNAUTHENTICATED";
    case DecisionReason::kNotAllowedToApplications:
      return "NOT_ALLOWED_TO_APPLICATIONS";
    case DecisionReason::kOperatorsOnly:
      return "OPERATORS_ONLY";
    case DecisionReason::kPrivacyConsentRequired:
      return "PRIVACY_CONSENT_REQUIRED";
    case DecisionReason::kPasswordChangeRequired:
      return "PASSWORD_CHANGE_REQUIRED";
    case DecisionReason::kNotAMember:
      return "NOT_A_MEMBER";
    case DecisionReason::kRoleNotAllowed:
      return "ROLE_NOT_ALLOWED";
    case DecisionReason::kNotAllowedOnAccount:
      return "NOT_ALLOWED_ON_ACCOUNT";
    case DecisionReason::kNoStructureNamed:
      return "NO_STRUCTURE_NAMED";
  }
  return "UNKNOWN";
}

// A table written as a switch, so that the compiler checks that every value has its entry: long, not
// complex.
absl::string_view ActionName(Action action) {  // NOLINT(readability-function-size)
  switch (action) {
    case Action::kPublic:
      return "public";
    case Action::kStructureCreate:
      return "structures.create";
    case Action::kStructureList:
      return "structures.list";
    case Action::kStructureRead:
      return "structures.get";
    case Action::kStructureUpdate:
      return "structures.update";
    case Action::kServiceRead:
      return "services.read";
    case Action::kServiceWrite:
      return "services.write";
    case Action::kApplicationCreate:
      return "applications.create";
    case Action::kApplicationList:
      return "applications.list";
    case Action::kApplicationRead:
      return "applications.get";
    case Action::kApiKeyManage:
      return "apiKeys.manage";
    case Action::kBackupCreate:
      return "backups.create";
    case Action::kSelfProving:
      return "selfProving";
    case Action::kAccountCreate:
      return "accounts.create";
    case Action::kAccountList:
      return "accounts.list";
    case Action::kAccountRead:
      return "accounts.get";
    case Action::kAccountUpdate:
      return "accounts.update";
    case Action::kAccountActivate:
      return "accounts.activate";
    case Action::kAccountAdminister:
      return "accounts.administer";
    case Action::kAccountDeactivate:
      return "accounts.deactivate";
    case Action::kDeletionList:
      return "deletionRequests.list";
    case Action::kDeletionDecide:
      return "deletionRequests.decide";
    case Action::kInvitationSend:
      return "invitations.send";
    case Action::kInvitationList:
      return "invitations.list";
    case Action::kInvitationManage:
      return "invitations.manage";
    case Action::kSessionOwn:
      return "sessions.own";
    case Action::kSessionManage:
      return "sessions.manage";
    case Action::kProfileManage:
      return "profiles.manage";
    case Action::kProfileRead:
      return "profiles.list";
    case Action::kSubscriptionManage:
      return "subscriptions.manage";
    case Action::kSubscriptionRead:
      return "subscriptions.list";
    case Action::kHabilitationGrant:
      return "habilitations.grant";
    case Action::kHabilitationRead:
      return "habilitations.list";
    case Action::kDelegationManage:
      return "delegations.manage";
    case Action::kDelegationRead:
      return "delegations.list";
    case Action::kAccessCheck:
      return "access.check";
    case Action::kAuditRead:
      return "auditEntries.list";
    case Action::kChangesWatch:
      return "changes.watch";
    case Action::kAccountsFile:
      return "accounts.file";
  }
  return "unknown";
}

std::string Principal::ResourceName() const {
  switch (kind) {
    case PrincipalKind::kAnonymous:
      return "anonymous";
    case PrincipalKind::kOperator:
      return absl::StrCat("operators/", id);
    case PrincipalKind::kApplication:
      return absl::StrCat("applications/", id);
    case PrincipalKind::kAccount:
      return absl::StrCat("accounts/", id);
  }
  return "unknown";
}

bool NeedsCredentials(Action action) { return action != Action::kPublic && action != Action::kSelfProving; }

std::unique_ptr<Engine> NewRoleEngine() { return std::make_unique<RoleEngine>(); }

}  // namespace habilis::authz
