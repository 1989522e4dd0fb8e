// Entitlements: SUB (subscriptions), HAB-GRANT / HAB-REVOKE (habilitations), DLG-GRANT / DLG-REVOKE
// (delegations), and their listings.
//
// Who may call what is the engine's (authz/engine.cc); what depends on the store is checked here: a
// responsable grants and revokes only profiles he holds himself or was delegated in that structure.
#ifndef HABILIS_SERVER_DOMAIN_ENTITLEMENTS_ENTITLEMENTS_H_
#define HABILIS_SERVER_DOMAIN_ENTITLEMENTS_ENTITLEMENTS_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "authz/principal.h"
#include "habilis/v1/accounts.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "server/common/clock.h"
#include "server/domain/kernel/resource_names.h"
#include "store/store.h"

namespace habilis::domain {

class Entitlements {
 public:
  Entitlements(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  [[nodiscard]] absl::StatusOr<store::Revision> CreateSubscription(const authz::Principal& caller,
                                                                   const v1::CreateSubscriptionRequest& request,
                                                                   v1::CreateSubscriptionResponse& response);
  [[nodiscard]] absl::Status ListSubscriptions(const v1::ListSubscriptionsRequest& request,
                                               v1::ListSubscriptionsResponse& response);
  // Ending a subscription keeps the habilitations and delegations; checks answer NOT_SUBSCRIBED until the
  // structure subscribes again.
  [[nodiscard]] absl::StatusOr<store::Revision> DeleteSubscription(const authz::Principal& caller,
                                                                   const v1::DeleteSubscriptionRequest& request,
                                                                   v1::DeleteSubscriptionResponse& response);

  // HAB-GRANT: one account, one profile; replaces the account's profile of that application.
  [[nodiscard]] absl::StatusOr<store::Revision> GrantHabilitation(const authz::Principal& caller,
                                                                  const v1::GrantHabilitationRequest& request,
                                                                  v1::GrantHabilitationResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> RevokeHabilitation(const authz::Principal& caller,
                                                                   const v1::RevokeHabilitationRequest& request,
                                                                   v1::RevokeHabilitationResponse& response);
  // A responsable gets his own service's members' habilitations only.
  [[nodiscard]] absl::Status ListHabilitations(const authz::Principal& caller,
                                               const v1::ListHabilitationsRequest& request,
                                               v1::ListHabilitationsResponse& response);

  // DLG-GRANT: profiles of one application, to a responsable, who gains no access from them.
  [[nodiscard]] absl::StatusOr<store::Revision> GrantDelegations(const authz::Principal& caller,
                                                                 const v1::GrantDelegationsRequest& request,
                                                                 v1::GrantDelegationsResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> RevokeDelegations(const authz::Principal& caller,
                                                                  const v1::RevokeDelegationsRequest& request,
                                                                  v1::RevokeDelegationsResponse& response);
  [[nodiscard]] absl::Status ListDelegations(const v1::ListDelegationsRequest& request,
                                             v1::ListDelegationsResponse& response);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ENTITLEMENTS_ENTITLEMENTS_H_
