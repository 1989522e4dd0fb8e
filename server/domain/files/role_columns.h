// The role columns of seed 003's CSV: agent_profil_role_<application display name>, holding the display name
// of the profile the member has there (the seed shows `agent_profil_role_Salle des marchés` =
// `Administrateur Entité Publique`). Where a display name could be read two ways, the id stands instead; the
// import reads either.
#ifndef HABILIS_SERVER_DOMAIN_FILES_ROLE_COLUMNS_H_
#define HABILIS_SERVER_DOMAIN_FILES_ROLE_COLUMNS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "store/store.h"

namespace habilis::domain {

inline constexpr absl::string_view kRolePrefix = "agent_profil_role_";

// The profiles of an application, to read role cells by id or by display name.
struct ApplicationProfiles {
  bool exists = false;
  std::map<std::string, std::string> by_id;     // id -> display name
  std::map<std::string, std::string> by_label;  // lower-case display name -> id, "" when ambiguous
};

[[nodiscard]] absl::StatusOr<ApplicationProfiles> LoadProfiles(store::Reader& reader, absl::string_view application_id);

// What a role cell shows of `profile_id`: its display name, or its id when that name is shared or empty.
std::string ProfileCell(const ApplicationProfiles& profiles, const std::string& profile_id);

struct RoleColumn {
  std::string application_id;
  std::string label;  // after kRolePrefix: the display name, or the id when that name is shared or empty
  ApplicationProfiles profiles;
};

// The role columns of an export, one per application of `application_ids` (the subscribed ones), in order.
[[nodiscard]] absl::StatusOr<std::vector<RoleColumn>> ExportRoleColumns(
    store::Reader& reader, const std::vector<std::string>& application_ids);

// The application a role column's label names on import: an application id; else the display name of one of
// `subscribed`; else of one application of the catalog (case aside). The label itself when nothing answers
// (a cell of that column then fails with APPLICATION_NOT_FOUND).
[[nodiscard]] absl::StatusOr<std::string> ApplicationOfColumn(store::Reader& reader,
                                                              const std::vector<std::string>& subscribed,
                                                              absl::string_view label);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_FILES_ROLE_COLUMNS_H_
