// The demo a newcomer gets with --seed-demo: an operator key, one structure with a few services, and one
// client application with a profile, a key and the structure's subscription, so that every call of the
// quick start works at once.
#ifndef HABILIS_SERVER_DOMAIN_DEMO_H_
#define HABILIS_SERVER_DOMAIN_DEMO_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/support.h"
#include "store/store.h"

namespace habilis::domain {

struct DemoCredentials {
  std::string operator_key;
  std::string application_key;
};

inline constexpr absl::string_view kDemoSiret = "73282932000074";
inline constexpr absl::string_view kDemoApplication = "portail-partenaires";

// Seeds the demo into a store that has no API key yet and returns the two keys; nullopt if the store was
// already in use (the demo is seeded once, on first start).
[[nodiscard]] absl::StatusOr<std::optional<DemoCredentials>> SeedDemo(store::Store& store, const Clock& clock);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_DEMO_H_
