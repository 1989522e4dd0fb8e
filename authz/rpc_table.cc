#include "authz/rpc_table.h"

#include "absl/container/flat_hash_map.h"

namespace habilis::authz {
namespace {

constexpr RpcRule kRules[] = {
    // Served without credentials so that probes and grpcurl-style tools work out of the box.
    {"grpc.health.v1.Health/Check", Action::kPublic},
    {"grpc.health.v1.Health/Watch", Action::kPublic},
    {"grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", Action::kPublic},

    {"habilis.v1.StructureService/CreateStructure", Action::kStructureCreate},
    {"habilis.v1.StructureService/GetStructure", Action::kStructureRead},
    {"habilis.v1.StructureService/ListStructures", Action::kStructureList},
    {"habilis.v1.StructureService/UpdateStructure", Action::kStructureUpdate},

    {"habilis.v1.OrgChartService/CreateService", Action::kServiceWrite},
    {"habilis.v1.OrgChartService/GetService", Action::kServiceRead},
    {"habilis.v1.OrgChartService/ListServices", Action::kServiceRead},
    {"habilis.v1.OrgChartService/UpdateService", Action::kServiceWrite},
    {"habilis.v1.OrgChartService/MergeServices", Action::kServiceWrite},
    {"habilis.v1.OrgChartService/BatchDeleteServices", Action::kServiceWrite},
    {"habilis.v1.OrgChartService/GetServiceTree", Action::kServiceRead},

    {"habilis.v1.ApplicationService/CreateApplication", Action::kApplicationCreate},
    {"habilis.v1.ApplicationService/GetApplication", Action::kApplicationRead},
    {"habilis.v1.ApplicationService/ListApplications", Action::kApplicationList},
    {"habilis.v1.ApplicationService/CreateProfile", Action::kProfileManage},
    {"habilis.v1.ApplicationService/ListProfiles", Action::kProfileRead},
    {"habilis.v1.ApplicationService/RetireProfile", Action::kProfileManage},

    {"habilis.v1.EntitlementService/CreateSubscription", Action::kSubscriptionManage},
    {"habilis.v1.EntitlementService/ListSubscriptions", Action::kSubscriptionRead},
    {"habilis.v1.EntitlementService/DeleteSubscription", Action::kSubscriptionManage},
    {"habilis.v1.EntitlementService/GrantHabilitation", Action::kHabilitationGrant},
    {"habilis.v1.EntitlementService/RevokeHabilitation", Action::kHabilitationGrant},
    {"habilis.v1.EntitlementService/ListHabilitations", Action::kHabilitationRead},
    {"habilis.v1.EntitlementService/ListAccountApplications", Action::kAccountRead},
    {"habilis.v1.EntitlementService/GrantDelegations", Action::kDelegationManage},
    {"habilis.v1.EntitlementService/RevokeDelegations", Action::kDelegationManage},
    {"habilis.v1.EntitlementService/ListDelegations", Action::kDelegationRead},

    {"habilis.v1.AccessService/CheckAccess", Action::kAccessCheck},
    {"habilis.v1.AccessService/BatchCheck", Action::kAccessCheck},
    {"habilis.v1.AccessService/ListEntitlements", Action::kAccessCheck},
    {"habilis.v1.AccessService/LookupAccounts", Action::kAccessCheck},
    {"habilis.v1.AuditService/ListAuditEntries", Action::kAuditRead},
    {"habilis.v1.AuditService/WatchChanges", Action::kChangesWatch},
    {"habilis.v1.AccountFileService/ExportAccounts", Action::kAccountsFile},
    {"habilis.v1.AccountFileService/ImportAccounts", Action::kAccountsFile},

    {"habilis.v1.ApiKeyService/CreateApiKey", Action::kApiKeyManage},
    {"habilis.v1.ApiKeyService/ListApiKeys", Action::kApiKeyManage},
    {"habilis.v1.ApiKeyService/RevokeApiKey", Action::kApiKeyManage},
    {"habilis.v1.OperationsService/CreateBackup", Action::kBackupCreate},

    {"habilis.v1.AccountService/CreateAccount", Action::kAccountCreate},
    {"habilis.v1.AccountService/GetAccount", Action::kAccountRead},
    {"habilis.v1.AccountService/ListAccounts", Action::kAccountList},
    {"habilis.v1.AccountService/UpdateAccount", Action::kAccountUpdate},
    {"habilis.v1.AccountService/ConfirmNotificationEmail", Action::kSelfProving},
    {"habilis.v1.AccountService/ConfirmLoginEmail", Action::kSelfProving},
    {"habilis.v1.AccountService/AcceptJoin", Action::kSelfProving},
    {"habilis.v1.AccountService/UnlockAccount", Action::kAccountAdminister},
    {"habilis.v1.AccountService/SendPasswordReset", Action::kAccountAdminister},
    {"habilis.v1.SessionService/UnlockWithLink", Action::kSelfProving},
    {"habilis.v1.AccountService/ActivateAccount", Action::kAccountActivate},
    {"habilis.v1.AccountService/DeactivateAccount", Action::kAccountDeactivate},
    {"habilis.v1.AccountService/ResendIdentifier", Action::kAccountAdminister},
    {"habilis.v1.AccountService/UpdateMembership", Action::kAccountAdminister},
    {"habilis.v1.AccountService/SuspendMembership", Action::kAccountAdminister},
    {"habilis.v1.AccountService/ResumeMembership", Action::kAccountAdminister},
    {"habilis.v1.AccountService/RemoveMembership", Action::kAccountAdminister},
    {"habilis.v1.AccountService/TransferAccounts", Action::kAccountAdminister},
    {"habilis.v1.AccountService/RequestAccountDeletion", Action::kAccountAdminister},
    {"habilis.v1.AccountService/ListDeletionRequests", Action::kDeletionList},
    {"habilis.v1.AccountService/DecideDeletionRequest", Action::kDeletionDecide},

    {"habilis.v1.InvitationService/SendInvitations", Action::kInvitationSend},
    {"habilis.v1.InvitationService/FillInvitation", Action::kSelfProving},
    {"habilis.v1.InvitationService/GetInvitationByLink", Action::kSelfProving},
    {"habilis.v1.InvitationService/ResendInvitations", Action::kInvitationManage},
    {"habilis.v1.InvitationService/ListInvitations", Action::kInvitationList},
    {"habilis.v1.InvitationService/DecideInvitations", Action::kInvitationManage},

    {"habilis.v1.SessionService/Login", Action::kSelfProving},
    {"habilis.v1.SessionService/ConfirmLoginCode", Action::kSelfProving},
    {"habilis.v1.SessionService/RequestPasswordReset", Action::kSelfProving},
    {"habilis.v1.SessionService/SetPasswordWithLink", Action::kSelfProving},
    {"habilis.v1.SessionService/SuggestPassword", Action::kSelfProving},
    {"habilis.v1.SessionService/Logout", Action::kSessionOwn},
    {"habilis.v1.SessionService/AcceptPrivacyPolicy", Action::kSessionOwn},
    {"habilis.v1.SessionService/ChangePassword", Action::kSessionOwn},
    {"habilis.v1.SessionService/ListSessions", Action::kSessionManage},
    {"habilis.v1.SessionService/EndSession", Action::kSessionManage},
};

}  // namespace

std::span<const RpcRule> RpcRules() { return kRules; }

const RpcRule* FindRpcRule(absl::string_view method) {
  // Asked on every call: a hash lookup rather than a walk through the table.
  static const auto* index = [] {
    auto* map = new absl::flat_hash_map<absl::string_view, const RpcRule*>();
    for (const RpcRule& rule : kRules) map->emplace(rule.method, &rule);
    return map;
  }();
  auto it = index->find(method);
  return it == index->end() ? nullptr : it->second;
}

}  // namespace habilis::authz
