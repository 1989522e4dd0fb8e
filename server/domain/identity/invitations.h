// Account creation by invitation: INV-SEND, INV-FILL, INV-DECIDE.
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_INVITATIONS_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_INVITATIONS_H_

#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/invitations.pb.h"
#include "server/common/clock.h"
#include "server/domain/kernel/policy.h"
#include "store/store.h"

namespace habilis::domain {

class Invitations {
 public:
  Invitations(store::Store& store, const Clock& clock, const IdentityPolicy& policy)
      : store_(store), clock_(clock), policy_(policy) {}

  // INV-SEND: one invitation and one e-mail with a single-use link per address.
  [[nodiscard]] absl::StatusOr<store::Revision> Send(const authz::Principal& caller,
                                                     const v1::SendInvitationsRequest& request,
                                                     v1::SendInvitationsResponse& response);
  // INV-FILL: the link token is the credential. The request becomes PENDING and the structure's active
  // administrators are e-mailed. An address that already has an account proves it with that account's
  // password, and the acceptance attaches the existing account.
  [[nodiscard]] absl::Status Fill(const v1::FillInvitationRequest& request, v1::FillInvitationResponse& response);
  // The landing page of a link: what the invitation invites to, before the form is sent. The token is the
  // credential and is not spent.
  [[nodiscard]] absl::Status GetByLink(const v1::GetInvitationByLinkRequest& request,
                                       v1::GetInvitationByLinkResponse& response);
  // SENT or EXPIRED invitations sent again with a new link; all or nothing.
  [[nodiscard]] absl::StatusOr<store::Revision> Resend(const authz::Principal& caller,
                                                       const v1::ResendInvitationsRequest& request,
                                                       v1::ResendInvitationsResponse& response);
  [[nodiscard]] absl::Status List(const authz::Principal& caller, const v1::ListInvitationsRequest& request,
                                  v1::ListInvitationsResponse& response);
  // INV-DECIDE: several decisions, all applied or none; a refusal needs a comment; the invitee is e-mailed.
  // Accepting creates the account, ACTIVE with the password the invitee chose.
  [[nodiscard]] absl::StatusOr<store::Revision> Decide(const authz::Principal& caller,
                                                       const v1::DecideInvitationsRequest& request,
                                                       v1::DecideInvitationsResponse& response);

 private:
  store::Store& store_;
  const Clock& clock_;
  const IdentityPolicy& policy_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_INVITATIONS_H_
