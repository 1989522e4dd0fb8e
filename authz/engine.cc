#include "authz/engine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace habilis::authz {
namespace {

// Who may perform an action. Operators may perform every action; the rest is granted here.
struct ActionPolicy {
  Action action;
  bool is_public = false;
  // A client application, on its own application only.
  bool own_application = false;
  // Accounts holding one of these roles in the target structure.
  bool administrator = false;
  bool responsable = false;
  bool collaborator = false;
};

// The whole policy. An action missing here is allowed to operators only.
constexpr ActionPolicy kPolicies[] = {
    {.action = Action::kPublic, .is_public = true},
    {.action = Action::kStructureRead, .administrator = true},
    // Responsables see the org chart they work in; collaborators manage only themselves.
    {.action = Action::kServiceRead, .administrator = true, .responsable = true},
    {.action = Action::kServiceWrite, .administrator = true},
    {.action = Action::kApplicationRead, .own_application = true},
};

const ActionPolicy* FindPolicy(Action action) {
  for (const ActionPolicy& policy : kPolicies) {
    if (policy.action == action) return &policy;
  }
  return nullptr;
}

bool RoleAllowed(const ActionPolicy& policy, Role role) {
  switch (role) {
    case Role::kAdministrator:
      return policy.administrator;
    case Role::kResponsable:
      return policy.responsable;
    case Role::kCollaborator:
      return policy.collaborator;
  }
  return false;
}

absl::string_view RoleReason(Role role) {
  switch (role) {
    case Role::kAdministrator:
      return "ADMINISTRATOR_OF_STRUCTURE";
    case Role::kResponsable:
      return "RESPONSABLE_IN_STRUCTURE";
    case Role::kCollaborator:
      return "COLLABORATOR_IN_STRUCTURE";
  }
  return "ROLE";
}

class RoleEngine final : public Engine {
 public:
  Decision Decide(const Principal& principal, Action action, const Target& target) const override {
    const ActionPolicy* policy = FindPolicy(action);
    if (policy != nullptr && policy->is_public) return {true, "PUBLIC"};
    switch (principal.kind) {
      case PrincipalKind::kAnonymous:
        return {false, "UNAUTHENTICATED"};
      case PrincipalKind::kOperator:
        return {true, "OPERATOR"};
      case PrincipalKind::kApplication:
        if (policy != nullptr && policy->own_application && !target.application.empty() &&
            target.application == principal.id) {
          return {true, "OWN_APPLICATION"};
        }
        return {false, "NOT_ALLOWED_TO_APPLICATIONS"};
      case PrincipalKind::kAccount:
        break;
    }
    if (policy == nullptr) return {false, "OPERATORS_ONLY"};
    if (target.structure.empty()) return {false, "NO_STRUCTURE_NAMED"};
    auto membership = std::find_if(principal.memberships.begin(), principal.memberships.end(),
                                   [&](const Membership& m) { return m.structure == target.structure; });
    if (membership == principal.memberships.end()) return {false, "NOT_A_MEMBER"};
    if (!RoleAllowed(*policy, membership->role)) return {false, "ROLE_NOT_ALLOWED"};
    return {true, std::string(RoleReason(membership->role))};
  }
};

}  // namespace

absl::string_view ActionName(Action action) {
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

std::unique_ptr<Engine> NewRoleEngine() { return std::make_unique<RoleEngine>(); }

}  // namespace habilis::authz
