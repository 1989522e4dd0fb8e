// Structures (STR-1): create, read, list, update.
#ifndef HABILIS_SERVER_DOMAIN_ORGANISATION_STRUCTURES_H_
#define HABILIS_SERVER_DOMAIN_ORGANISATION_STRUCTURES_H_

#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/structures.pb.h"
#include "server/common/clock.h"
#include "store/store.h"

namespace habilis::domain {

class Structures {
 public:
  Structures(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // ALREADY_EXISTS (STRUCTURE_EXISTS) if the SIRET is taken.
  [[nodiscard]] absl::StatusOr<store::Revision> Create(const authz::Principal& caller,
                                                       const v1::CreateStructureRequest& request,
                                                       v1::CreateStructureResponse& response);
  [[nodiscard]] absl::Status Get(const v1::GetStructureRequest& request, v1::GetStructureResponse& response);
  // Ordered by SIRET.
  [[nodiscard]] absl::Status List(const v1::ListStructuresRequest& request, v1::ListStructuresResponse& response);
  // An empty update_mask updates the mutable fields the request sets; "*" updates all of them.
  [[nodiscard]] absl::StatusOr<store::Revision> Update(const authz::Principal& caller,
                                                       const v1::UpdateStructureRequest& request,
                                                       v1::UpdateStructureResponse& response);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ORGANISATION_STRUCTURES_H_
