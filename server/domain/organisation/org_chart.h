// The services of a structure, as a tree under the root level: SVC-CREATE, SVC-RENAME, moves, SVC-MERGE,
// SVC-DELETE and the tree with counts.
//
// Every change to one structure's services reads and writes that structure's guard key, as do membership
// changes, so concurrent changes of one organisation are serialized by the store's conflict detection: name
// uniqueness, "nothing attached" and the absence of cycles hold under concurrency.
#ifndef HABILIS_SERVER_DOMAIN_ORGANISATION_ORG_CHART_H_
#define HABILIS_SERVER_DOMAIN_ORGANISATION_ORG_CHART_H_

#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/org_chart.pb.h"
#include "server/common/clock.h"
#include "store/store.h"

namespace habilis::domain {

class OrgChart {
 public:
  OrgChart(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  [[nodiscard]] absl::StatusOr<store::Revision> CreateService(const authz::Principal& caller,
                                                              const v1::CreateServiceRequest& request,
                                                              v1::CreateServiceResponse& response);
  [[nodiscard]] absl::Status GetService(const v1::GetServiceRequest& request, v1::GetServiceResponse& response);
  // Ordered by service id.
  [[nodiscard]] absl::Status ListServices(const v1::ListServicesRequest& request, v1::ListServicesResponse& response);
  // Renames (display_name, service_type) and moves (parent) one service.
  [[nodiscard]] absl::StatusOr<store::Revision> UpdateService(const authz::Principal& caller,
                                                              const v1::UpdateServiceRequest& request,
                                                              v1::UpdateServiceResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> MergeServices(const authz::Principal& caller,
                                                              const v1::MergeServicesRequest& request,
                                                              v1::MergeServicesResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> BatchDeleteServices(const authz::Principal& caller,
                                                                    const v1::BatchDeleteServicesRequest& request,
                                                                    v1::BatchDeleteServicesResponse& response);
  [[nodiscard]] absl::Status GetServiceTree(const v1::GetServiceTreeRequest& request,
                                            v1::GetServiceTreeResponse& response);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ORGANISATION_ORG_CHART_H_
