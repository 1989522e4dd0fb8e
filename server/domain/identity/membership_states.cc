#include "server/domain/identity/membership_states.h"

#include <vector>

#include "absl/functional/function_ref.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/commands/mutation.h"
#include "server/domain/entitlements/grant_records.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/identity/member_in_structure.h"
#include "server/domain/kernel/records.h"
#include "server/domain/organisation/memberships.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

// Rewrites the membership of `target` as `change` makes it, keeping the structure administered.
absl::Status ChangeMembership(store::Transaction& txn, const AccountInStructure& target,
                              absl::FunctionRef<absl::Status(v1::Membership&)> change) {
  ASSIGN_OR_RETURN(v1::Membership current, GuardMembership(txn, target));
  ASSIGN_OR_RETURN(int before, ActiveAdministrators(txn, target.siret));
  v1::Membership changed = current;
  RETURN_IF_ERROR(change(changed));
  RETURN_IF_ERROR(PutMembership(txn, target.account_id, changed, &current));
  return KeepsAnAdministrator(txn, target.siret, before);
}

absl::Status ViewAccount(store::Transaction& txn, const authz::Principal& caller, absl::string_view account_id,
                         v1::Account& out) {
  ASSIGN_OR_RETURN(internal::AccountRecord record, LoadAccount(txn, account_id));
  ASSIGN_OR_RETURN(out, AccountViewFor(txn, caller, record));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<store::Revision> MembershipStates::Suspend(const authz::Principal& caller,
                                                          const v1::SuspendMembershipRequest& request,
                                                          v1::SuspendMembershipResponse& response) {
  ASSIGN_OR_RETURN(AccountInStructure target,
                   ParseAccountInStructure(request.account(), request.structure(), "account"));
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(ChangeMembership(txn, target, [&](v1::Membership& membership) {
                         if (Suspended(membership)) {
                           return Error(absl::StatusCode::kFailedPrecondition, "MEMBERSHIP_ALREADY_SUSPENDED",
                                        "the member is already suspended in this structure");
                         }
                         SetTimestamp(clock_.Now(), membership.mutable_suspend_time());
                         return absl::OkStatus();
                       }));
                       return ViewAccount(txn, caller, target.account_id, *response.mutable_account());
                     });
}

absl::StatusOr<store::Revision> MembershipStates::Resume(const authz::Principal& caller,
                                                         const v1::ResumeMembershipRequest& request,
                                                         v1::ResumeMembershipResponse& response) {
  ASSIGN_OR_RETURN(AccountInStructure target,
                   ParseAccountInStructure(request.account(), request.structure(), "account"));
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(ChangeMembership(txn, target, [](v1::Membership& membership) {
                         if (!Suspended(membership)) {
                           return Error(absl::StatusCode::kFailedPrecondition, "MEMBERSHIP_NOT_SUSPENDED",
                                        "the member is not suspended in this structure");
                         }
                         membership.clear_suspend_time();
                         return absl::OkStatus();
                       }));
                       return ViewAccount(txn, caller, target.account_id, *response.mutable_account());
                     });
}

absl::StatusOr<store::Revision> MembershipStates::Remove(const authz::Principal& caller,
                                                         const v1::RemoveMembershipRequest& request,
                                                         v1::RemoveMembershipResponse& response) {
  ASSIGN_OR_RETURN(AccountInStructure target,
                   ParseAccountInStructure(request.account(), request.structure(), "account"));
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       ASSIGN_OR_RETURN(v1::Membership membership, GuardMembership(txn, target));
                       // The account's guard: a join to another structure, or a second removal, cannot slip in between.
                       RETURN_IF_ERROR(TouchGuard(txn, store::AccountGuardKey(target.account_id)));
                       ASSIGN_OR_RETURN(std::vector<v1::Membership> memberships, MembershipsOf(txn, target.account_id));
                       if (memberships.size() == 1) {
                         return Error(
                             absl::StatusCode::kFailedPrecondition, "ONLY_STRUCTURE",
                             "the person belongs to this structure only: ask for the account's deletion instead");
                       }
                       ASSIGN_OR_RETURN(int before, ActiveAdministrators(txn, target.siret));
                       RETURN_IF_ERROR(RemoveGrants(txn, target.siret, target.account_id));
                       RETURN_IF_ERROR(DeleteMembership(txn, target.account_id, membership));
                       return KeepsAnAdministrator(txn, target.siret, before);
                     });
}

}  // namespace habilis::domain
