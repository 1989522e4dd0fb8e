#include "server/domain/files/role_columns.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "habilis/v1/applications.pb.h"
#include "server/common/status_macros.h"
#include "server/domain/kernel/existence.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

// Display names compare as a person reads them: case aside (ASCII; accented letters are compared as written).
std::string Folded(absl::string_view name) { return absl::AsciiStrToLower(absl::StripAsciiWhitespace(name)); }

// Every application of the catalog: id -> display name.
absl::StatusOr<std::map<std::string, std::string>> Catalog(store::Reader& reader) {
  std::map<std::string, std::string> names;
  const std::string prefix = store::ApplicationPrefix();
  absl::Status status = absl::OkStatus();
  RETURN_IF_ERROR(store::ScanPrefix(reader, prefix, [&](absl::string_view key, absl::string_view value) {
    absl::string_view rest = key.substr(prefix.size());
    std::optional<std::string> id = store::ConsumeString(&rest);
    v1::Application application;
    if (!id || !application.ParseFromString(std::string(value))) {
      status = absl::DataLossError("a stored application does not parse");
      return false;
    }
    names[*id] = application.display_name();
    return true;
  }));
  RETURN_IF_ERROR(status);
  return names;
}

// The one id among `ids` whose display name reads as `label`, if exactly one does.
std::optional<std::string> UniqueByName(const std::map<std::string, std::string>& catalog,
                                        const std::vector<std::string>& ids, absl::string_view label) {
  std::optional<std::string> found;
  for (const std::string& id : ids) {
    auto it = catalog.find(id);
    if (it == catalog.end() || Folded(it->second) != Folded(label)) continue;
    if (found) return std::nullopt;
    found = id;
  }
  return found;
}

}  // namespace

absl::StatusOr<ApplicationProfiles> LoadProfiles(store::Reader& reader, absl::string_view application_id) {
  ApplicationProfiles profiles;
  ASSIGN_OR_RETURN(profiles.exists, Exists(reader, store::ApplicationKey(application_id)));
  absl::Status status = absl::OkStatus();
  RETURN_IF_ERROR(
      store::ScanPrefix(reader, store::ProfilePrefix(application_id), [&](absl::string_view, absl::string_view value) {
        v1::Profile profile;
        std::optional<ProfileNameParts> name;
        if (profile.ParseFromString(std::string(value))) name = ParseProfileName(profile.name());
        if (!name) {
          status = absl::DataLossError("a stored profile does not parse");
          return false;
        }
        profiles.by_id[name->profile_id] = profile.display_name();
        auto [it, inserted] = profiles.by_label.emplace(Folded(profile.display_name()), name->profile_id);
        if (!inserted) it->second.clear();
        return true;
      }));
  RETURN_IF_ERROR(status);
  return profiles;
}

std::string ProfileCell(const ApplicationProfiles& profiles, const std::string& profile_id) {
  auto name = profiles.by_id.find(profile_id);
  if (name == profiles.by_id.end() || Folded(name->second).empty()) return profile_id;
  auto reads_as = profiles.by_label.find(Folded(name->second));
  // A name that another profile shares, or that is another profile's id, would not read back as this one.
  if (reads_as == profiles.by_label.end() || reads_as->second != profile_id) return profile_id;
  if (name->second != profile_id && profiles.by_id.contains(name->second)) return profile_id;
  return name->second;
}

absl::StatusOr<std::vector<RoleColumn>> ExportRoleColumns(store::Reader& reader,
                                                          const std::vector<std::string>& application_ids) {
  ASSIGN_OR_RETURN(auto catalog, Catalog(reader));
  std::vector<RoleColumn> columns;
  for (const std::string& id : application_ids) {
    RoleColumn& column = columns.emplace_back();
    column.application_id = id;
    ASSIGN_OR_RETURN(column.profiles, LoadProfiles(reader, id));
    const std::string name = catalog.contains(id) ? catalog[id] : "";
    const bool reads_back = !Folded(name).empty() && UniqueByName(catalog, application_ids, name) == id &&
                            (name == id || !catalog.contains(name));
    column.label = reads_back ? name : id;
  }
  return columns;
}

absl::StatusOr<std::string> ApplicationOfColumn(store::Reader& reader, const std::vector<std::string>& subscribed,
                                                absl::string_view label) {
  ASSIGN_OR_RETURN(auto catalog, Catalog(reader));
  if (catalog.contains(std::string(label))) return std::string(label);
  if (std::optional<std::string> id = UniqueByName(catalog, subscribed, label)) return *id;
  std::vector<std::string> all;
  for (const auto& [id, name] : catalog) all.push_back(id);
  if (std::optional<std::string> id = UniqueByName(catalog, all, label)) return *id;
  return std::string(label);
}

}  // namespace habilis::domain
