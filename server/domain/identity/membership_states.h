// MEMBERSHIP-END: a person in several structures (seed 001) is suspended in, or removed from, one of them
// without touching the others. Account-wide deactivation stays an operator's act (Accounts::Deactivate).
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_MEMBERSHIP_STATES_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_MEMBERSHIP_STATES_H_

#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/accounts.pb.h"
#include "server/common/clock.h"
#include "store/store.h"

namespace habilis::domain {

class MembershipStates {
 public:
  MembershipStates(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // The membership stays with its habilitations and delegations, but gives nothing: CheckAccess answers
  // MEMBERSHIP_SUSPENDED there, and the member acts for nobody in the structure. FAILED_PRECONDITION
  // MEMBERSHIP_ALREADY_SUSPENDED, or LAST_ADMINISTRATOR when he is the structure's last active administrator.
  [[nodiscard]] absl::StatusOr<store::Revision> Suspend(const authz::Principal& caller,
                                                        const v1::SuspendMembershipRequest& request,
                                                        v1::SuspendMembershipResponse& response);
  // Lifts a suspension. FAILED_PRECONDITION MEMBERSHIP_NOT_SUSPENDED when there is none.
  [[nodiscard]] absl::StatusOr<store::Revision> Resume(const authz::Principal& caller,
                                                       const v1::ResumeMembershipRequest& request,
                                                       v1::ResumeMembershipResponse& response);
  // Ends the membership with the member's habilitations and delegations in the structure. FAILED_PRECONDITION
  // ONLY_STRUCTURE when it is the account's only structure (a deletion request is the way then), or
  // LAST_ADMINISTRATOR.
  [[nodiscard]] absl::StatusOr<store::Revision> Remove(const authz::Principal& caller,
                                                       const v1::RemoveMembershipRequest& request,
                                                       v1::RemoveMembershipResponse& response);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_MEMBERSHIP_STATES_H_
