// Client applications (APP-REG): registered by operators. Profiles come with the entitlements.
#ifndef HABILIS_SERVER_DOMAIN_ENTITLEMENTS_APPLICATIONS_H_
#define HABILIS_SERVER_DOMAIN_ENTITLEMENTS_APPLICATIONS_H_

#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/applications.pb.h"
#include "server/common/clock.h"
#include "store/store.h"

namespace habilis::domain {

class Applications {
 public:
  Applications(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // ALREADY_EXISTS (APPLICATION_EXISTS) if the id is taken.
  [[nodiscard]] absl::StatusOr<store::Revision> Create(const authz::Principal& caller,
                                                       const v1::CreateApplicationRequest& request,
                                                       v1::CreateApplicationResponse& response);
  // An account reads only an application one of his structures subscribes to; any other is
  // APPLICATION_NOT_FOUND, as one that does not exist.
  [[nodiscard]] absl::Status Get(const authz::Principal& caller, const v1::GetApplicationRequest& request,
                                 v1::GetApplicationResponse& response);
  // Ordered by id.
  [[nodiscard]] absl::Status List(const v1::ListApplicationsRequest& request, v1::ListApplicationsResponse& response);

  // APP-REG: a profile is a named set of permissions of one application.
  [[nodiscard]] absl::StatusOr<store::Revision> CreateProfile(const authz::Principal& caller,
                                                              const v1::CreateProfileRequest& request,
                                                              v1::CreateProfileResponse& response);
  // An account lists the profiles of the applications one of his structures subscribes to (as Get).
  [[nodiscard]] absl::Status ListProfiles(const authz::Principal& caller, const v1::ListProfilesRequest& request,
                                          v1::ListProfilesResponse& response);
  // A retired profile can no longer be granted, and the habilitations holding it stop giving access.
  [[nodiscard]] absl::StatusOr<store::Revision> RetireProfile(const authz::Principal& caller,
                                                              const v1::RetireProfileRequest& request,
                                                              v1::RetireProfileResponse& response);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ENTITLEMENTS_APPLICATIONS_H_
