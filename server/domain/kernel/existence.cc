#include "server/domain/kernel/existence.h"

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "store/keyspace.h"

namespace habilis::domain {

absl::Status StructureMustExist(store::Reader& reader, absl::string_view siret) {
  ASSIGN_OR_RETURN(bool exists, Exists(reader, store::StructureKey(siret)));
  if (exists) return absl::OkStatus();
  return Error(absl::StatusCode::kNotFound, "STRUCTURE_NOT_FOUND",
               absl::StrCat("structure ", siret, " does not exist"));
}

absl::Status ServiceMustExist(store::Reader& reader, absl::string_view siret, absl::string_view service_id) {
  if (service_id.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(bool exists, Exists(reader, store::ServiceKey(siret, service_id)));
  if (exists) return absl::OkStatus();
  return Error(absl::StatusCode::kNotFound, "SERVICE_NOT_FOUND",
               absl::StrCat("service ", ServiceResourceName(siret, service_id), " does not exist"));
}

absl::Status ApplicationMustExist(store::Reader& reader, absl::string_view application_id) {
  ASSIGN_OR_RETURN(bool exists, Exists(reader, store::ApplicationKey(application_id)));
  if (exists) return absl::OkStatus();
  return Error(absl::StatusCode::kNotFound, "APPLICATION_NOT_FOUND",
               absl::StrCat("application ", application_id, " does not exist"));
}

std::optional<std::string> ServiceOfStructure(FieldViolations& violations, absl::string_view field,
                                              absl::string_view name, absl::string_view siret) {
  if (name.empty()) return std::string();
  std::optional<ServiceName> parsed = ParseServiceName(name);
  if (!parsed) {
    violations.Add(field, "NAME_FORMAT", "must be structures/{siret}/services/{service}");
    return std::nullopt;
  }
  if (parsed->siret != siret) {
    violations.Add(field, "OTHER_STRUCTURE", "must name a service of the structure the request is about");
    return std::nullopt;
  }
  return parsed->service_id;
}

}  // namespace habilis::domain
