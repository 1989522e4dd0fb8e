#include "server/domain/entitlements/applications.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/commands/mutation.h"
#include "server/domain/kernel/existence.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

// The service types an application declares: distinct ignoring case, 1 to 100 characters, at most 50.
std::vector<std::string> ServiceTypes(FieldViolations& violations,
                                      const google::protobuf::RepeatedPtrField<std::string>& types) {
  constexpr int kMaxTypes = 50;
  if (types.size() > kMaxTypes) violations.Add("application.service_types", "TOO_MANY", "at most 50 types");
  std::vector<std::string> normalized;
  std::set<std::string> seen;
  for (int i = 0; i < types.size() && i < kMaxTypes; ++i) {
    const std::string field = absl::StrCat("application.service_types[", i, "]");
    CheckText(violations, field, types[i], 100, true);
    normalized.push_back(NormalizeSpaces(types[i]));
    if (!seen.insert(FoldName(normalized.back())).second) violations.Add(field, "DUPLICATE", "is listed twice");
  }
  return normalized;
}

}  // namespace

absl::StatusOr<store::Revision> Applications::Create(const authz::Principal& caller,
                                                     const v1::CreateApplicationRequest& request,
                                                     v1::CreateApplicationResponse& response) {
  FieldViolations violations;
  if (!IsValidResourceId(request.application_id())) {
    violations.Add("application_id", "ID_FORMAT", "must be 1 to 63 of [a-z0-9-], starting with a letter");
  }
  CheckText(violations, "application.display_name", request.application().display_name(), 200, true);
  CheckText(violations, "application.description", request.application().description(), 1000, false);
  const std::vector<std::string> service_types = ServiceTypes(violations, request.application().service_types());
  RETURN_IF_ERROR(violations.ToStatus());

  const std::string& id = request.application_id();
  v1::Application application;
  application.set_name(ApplicationName(id));
  application.set_display_name(NormalizeSpaces(request.application().display_name()));
  application.set_description(request.application().description());
  for (const std::string& type : service_types) application.add_service_types(type);
  absl::Time now = clock_.Now();
  SetTimestamp(now, application.mutable_create_time());
  SetTimestamp(now, application.mutable_update_time());
  application.set_etag(ComputeEtag(application));

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       const std::string key = store::ApplicationKey(id);
                       ASSIGN_OR_RETURN(bool exists, Exists(txn, key));
                       if (exists) {
                         return Error(absl::StatusCode::kAlreadyExists, "APPLICATION_EXISTS",
                                      absl::StrCat("application ", id, " already exists"));
                       }
                       RETURN_IF_ERROR(StoreRecord(txn, key, application));
                       *response.mutable_application() = application;
                       return absl::OkStatus();
                     });
}

namespace {

// APPLICATION_NOT_FOUND unless application `id` exists and `caller` may read it: an account reads the
// applications one of the structures he acts in subscribes to; any other is as one that does not exist.
absl::Status ReadableApplication(store::Reader& reader, const authz::Principal& caller, absl::string_view id) {
  if (caller.kind == authz::PrincipalKind::kAccount) {
    bool subscribed = false;
    for (const authz::Membership& membership : caller.memberships) {
      ASSIGN_OR_RETURN(subscribed, Exists(reader, store::SubscriptionKey(membership.structure, id)));
      if (subscribed) break;
    }
    if (!subscribed) {
      return Error(absl::StatusCode::kNotFound, "APPLICATION_NOT_FOUND",
                   absl::StrCat("application ", id, " does not exist"));
    }
  }
  return ApplicationMustExist(reader, id);
}

}  // namespace

absl::Status Applications::Get(const authz::Principal& caller, const v1::GetApplicationRequest& request,
                               v1::GetApplicationResponse& response) {
  std::optional<std::string> id = ParseApplicationName(request.name());
  if (!id) return InvalidField("name", "NAME_FORMAT", "must be applications/{application}");
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        RETURN_IF_ERROR(ReadableApplication(reader, caller, *id));
        return LoadRecord(reader, store::ApplicationKey(*id), *response.mutable_application(), "", "");
      })
      .status();
}

absl::Status Applications::List(const v1::ListApplicationsRequest& request, v1::ListApplicationsResponse& response) {
  return store_
      .Read([&](store::Reader& reader) {
        return ReadPage(
            reader, store::ApplicationPrefix(), request.page_size(), request.page_token(),
            [&](absl::string_view) { return response.add_applications(); }, response.mutable_next_page_token());
      })
      .status();
}

namespace {

bool IsPermission(absl::string_view permission) {
  if (permission.empty() || permission.size() > 100 || permission[0] < 'a' || permission[0] > 'z') return false;
  for (char c : permission) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<store::Revision> Applications::CreateProfile(const authz::Principal& caller,
                                                            const v1::CreateProfileRequest& request,
                                                            v1::CreateProfileResponse& response) {
  FieldViolations violations;
  std::optional<std::string> application = ParseApplicationName(request.parent());
  if (!application) violations.Add("parent", "NAME_FORMAT", "must be applications/{application}");
  if (!IsValidResourceId(request.profile_id())) {
    violations.Add("profile_id", "ID_FORMAT", "must be 1 to 63 of [a-z0-9-], starting with a letter");
  }
  CheckText(violations, "profile.display_name", request.profile().display_name(), 200, true);
  std::set<std::string> permissions;
  for (int i = 0; i < request.profile().permissions_size(); ++i) {
    const std::string& permission = request.profile().permissions(i);
    std::string field = absl::StrCat("profile.permissions[", i, "]");
    if (!IsPermission(permission)) {
      violations.Add(field, "PERMISSION_FORMAT", "must be 1 to 100 of [a-z0-9._:-], starting with a letter");
    } else if (!permissions.insert(permission).second) {
      violations.Add(field, "DUPLICATE", "is listed twice");
    }
  }
  if (request.profile().permissions_size() > 100) {
    violations.Add("profile.permissions", "TOO_MANY", "at most 100 permissions");
  }
  RETURN_IF_ERROR(violations.ToStatus());

  v1::Profile profile;
  profile.set_name(ProfileName(*application, request.profile_id()));
  profile.set_display_name(NormalizeSpaces(request.profile().display_name()));
  for (const std::string& permission : permissions) profile.add_permissions(permission);
  profile.set_state(v1::Profile::ACTIVE);
  SetTimestamp(clock_.Now(), profile.mutable_create_time());
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(ApplicationMustExist(txn, *application));
                       const std::string key = store::ProfileKey(*application, request.profile_id());
                       ASSIGN_OR_RETURN(bool exists, Exists(txn, key));
                       if (exists) {
                         return Error(absl::StatusCode::kAlreadyExists, "PROFILE_EXISTS",
                                      absl::StrCat("profile ", profile.name(), " already exists"));
                       }
                       RETURN_IF_ERROR(StoreRecord(txn, key, profile));
                       *response.mutable_profile() = profile;
                       return absl::OkStatus();
                     });
}

absl::Status Applications::ListProfiles(const authz::Principal& caller, const v1::ListProfilesRequest& request,
                                        v1::ListProfilesResponse& response) {
  std::optional<std::string> application = ParseApplicationName(request.parent());
  if (!application) return InvalidField("parent", "NAME_FORMAT", "must be applications/{application}");
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        RETURN_IF_ERROR(ReadableApplication(reader, caller, *application));
        return ReadPage(
            reader, store::ProfilePrefix(*application), request.page_size(), request.page_token(),
            [&](absl::string_view) { return response.add_profiles(); }, response.mutable_next_page_token());
      })
      .status();
}

absl::StatusOr<store::Revision> Applications::RetireProfile(const authz::Principal& caller,
                                                            const v1::RetireProfileRequest& request,
                                                            v1::RetireProfileResponse& response) {
  std::optional<ProfileNameParts> name = ParseProfileName(request.name());
  if (!name) return InvalidField("name", "NAME_FORMAT", "must be applications/{application}/profiles/{profile}");
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       const std::string key = store::ProfileKey(name->application_id, name->profile_id);
                       v1::Profile profile;
                       RETURN_IF_ERROR(LoadRecord(txn, key, profile, "PROFILE_NOT_FOUND",
                                                  absl::StrCat("profile ", request.name(), " does not exist")));
                       if (profile.state() != v1::Profile::RETIRED) {
                         profile.set_state(v1::Profile::RETIRED);
                         SetTimestamp(clock_.Now(), profile.mutable_retire_time());
                         RETURN_IF_ERROR(StoreRecord(txn, key, profile));
                       }
                       *response.mutable_profile() = profile;
                       return absl::OkStatus();
                     });
}

}  // namespace habilis::domain
