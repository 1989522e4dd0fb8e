// The client-application API: CHECK and LIST. A client application asks only about its own application.
//
// Checks, batches and entitlement lists read the in-memory AccessIndex (one consistent state per call) and
// never the store; account lookups by profile read the store. Nothing here writes; it runs on gRPC's
// threads, not the executor.
#ifndef HABILIS_SERVER_DOMAIN_ACCESS_ACCESS_H_
#define HABILIS_SERVER_DOMAIN_ACCESS_ACCESS_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "authz/principal.h"
#include "habilis/v1/access.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "server/common/clock.h"
#include "server/domain/access/access_index.h"
#include "store/store.h"

namespace habilis::domain {

class Access {
 public:
  // `index` must be attached to `store`.
  Access(store::Store& store, const AccessIndex& index, const Clock& clock)
      : store_(store), index_(index), clock_(clock) {}

  // `application_id` is the caller's. A profile of another application is PERMISSION_DENIED
  // (PROFILE_OF_ANOTHER_APPLICATION); a consistency token newer than the store is INVALID_ARGUMENT.
  [[nodiscard]] absl::Status Check(absl::string_view application_id, const v1::CheckAccessRequest& request,
                                   v1::CheckAccessResponse& response) const;
  // Up to 1000 checks on one state of the index.
  [[nodiscard]] absl::Status BatchCheck(absl::string_view application_id, const v1::BatchCheckRequest& request,
                                        v1::BatchCheckResponse& response) const;
  [[nodiscard]] absl::Status ListEntitlements(absl::string_view application_id,
                                              const v1::ListEntitlementsRequest& request,
                                              v1::ListEntitlementsResponse& response) const;
  // SELF-APPS, for `caller` (the account itself, an operator, or a member of the structure the request
  // names, which the gate has let through): the account's habilitations judged as Check judges them, with
  // the display names read from the store.
  [[nodiscard]] absl::Status ListAccountApplications(const authz::Principal& caller,
                                                     const v1::ListAccountApplicationsRequest& request,
                                                     v1::ListAccountApplicationsResponse& response) const;
  [[nodiscard]] absl::Status LookupAccounts(absl::string_view application_id, const v1::LookupAccountsRequest& request,
                                            v1::LookupAccountsResponse& response) const;

 private:
  store::Store& store_;
  const AccessIndex& index_;
  const Clock& clock_;
};

// How long a call carrying a consistency token waits, at most, for this node to apply the commit it names; less
// if the call's deadline comes first.
inline constexpr absl::Duration kConsistencyTokenWait = absl::Seconds(2);

// OK if `token` is empty or names a revision this node has applied (waiting up to kConsistencyTokenWait for
// it); INVALID_ARGUMENT for a token no commit of this store reached; UNAVAILABLE
// (NODE_BEHIND_CONSISTENCY_TOKEN) if the wait ends first.
[[nodiscard]] absl::Status CheckConsistencyToken(store::Store& store, absl::string_view token);
// The revision a (non-empty) token names, as CheckConsistencyToken.
[[nodiscard]] absl::StatusOr<store::Revision> ConsistencyTokenRevision(store::Store& store, absl::string_view token);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ACCESS_ACCESS_H_
