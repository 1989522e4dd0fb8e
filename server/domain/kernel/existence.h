// NOT_FOUND checks shared by the commands: the reason and message are the same wherever they are asked.
#ifndef HABILIS_SERVER_DOMAIN_KERNEL_EXISTENCE_H_
#define HABILIS_SERVER_DOMAIN_KERNEL_EXISTENCE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/common/errors.h"
#include "store/store.h"

namespace habilis::domain {

// NOT_FOUND STRUCTURE_NOT_FOUND.
[[nodiscard]] absl::Status StructureMustExist(store::Reader& reader, absl::string_view siret);
// NOT_FOUND SERVICE_NOT_FOUND; an empty id (the root level) always exists.
[[nodiscard]] absl::Status ServiceMustExist(store::Reader& reader, absl::string_view siret,
                                            absl::string_view service_id);
// NOT_FOUND APPLICATION_NOT_FOUND.
[[nodiscard]] absl::Status ApplicationMustExist(store::Reader& reader, absl::string_view application_id);

// The id of the service `name` names, when it is a service of `siret`: "" for an empty name (the root level);
// otherwise a violation on `field`, and nullopt.
std::optional<std::string> ServiceOfStructure(FieldViolations& violations, absl::string_view field,
                                              absl::string_view name, absl::string_view siret);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_KERNEL_EXISTENCE_H_
