// The demo a newcomer gets with --seed-demo: an operator key, one structure with a few services, and one
// client application with a profile, a key and the structure's subscription, so that every call of the
// quick start works at once.
#ifndef HABILIS_SERVER_DOMAIN_OPERATIONS_DEMO_H_
#define HABILIS_SERVER_DOMAIN_OPERATIONS_DEMO_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "habilis/v1/accounts.pb.h"
#include "server/common/clock.h"
#include "server/domain/kernel/policy.h"
#include "store/store.h"

namespace habilis::domain {

struct DemoCredentials {
  std::string operator_key;
  std::string application_key;
};

inline constexpr absl::string_view kDemoSiret = "73282932000074";
inline constexpr absl::string_view kDemoApplication = "portail-partenaires";

// The people of the demo structure, created and activated (their activation e-mails carry the link to set a
// password): an administrator (who holds the profile), the responsable of Finances (who was delegated it), a
// collaborator of Finances who holds it, and one of Accueil who holds nothing.
struct DemoPerson {
  std::string login_email;
  std::string given_name;
  std::string family_name;
  v1::Role role;
  std::string service_id;  // "" for the root level
};
const std::vector<DemoPerson>& DemoPeople();

// Seeds the demo into a store that has no API key yet and returns the two keys; nullopt if the store was
// already in use (the demo is seeded once, on first start). Every record is written by the operations the API
// uses, as the demo operator.
[[nodiscard]] absl::StatusOr<std::optional<DemoCredentials>> SeedDemo(store::Store& store, const Clock& clock,
                                                                      const IdentityPolicy& policy);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_OPERATIONS_DEMO_H_
