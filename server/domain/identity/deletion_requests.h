// DEL-REQUEST: an administrator asks for a member's account to be deleted. Done at once when the account
// belongs to his structure only; otherwise an operator approves or refuses it, and whoever asked is told by
// e-mail.
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_DELETION_REQUESTS_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_DELETION_REQUESTS_H_

#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/accounts.pb.h"
#include "server/common/clock.h"
#include "store/store.h"

namespace habilis::domain {

class DeletionRequests {
 public:
  DeletionRequests(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // FAILED_PRECONDITION ACCOUNT_HOLDS_HABILITATIONS while the account holds a habilitation in the structure,
  // DELETION_ALREADY_REQUESTED while another request for the same account is PENDING.
  [[nodiscard]] absl::StatusOr<store::Revision> Request(const authz::Principal& caller,
                                                        const v1::RequestAccountDeletionRequest& request,
                                                        v1::RequestAccountDeletionResponse& response);
  // The requests, oldest id first, of one structure (required unless `caller` is an operator) and in one state
  // if asked. A page holds the requests that match among `page_size` read, so it may hold fewer.
  [[nodiscard]] absl::Status List(const authz::Principal& caller, const v1::ListDeletionRequestsRequest& request,
                                  v1::ListDeletionRequestsResponse& response);
  // An operator's decision on a PENDING request. Approval deletes the account everywhere.
  [[nodiscard]] absl::StatusOr<store::Revision> Decide(const authz::Principal& caller,
                                                       const v1::DecideDeletionRequestRequest& request,
                                                       v1::DecideDeletionRequestResponse& response);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_DELETION_REQUESTS_H_
