#include "server/domain/applications.h"

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/mutation.h"
#include "server/domain/resource_names.h"
#include "server/domain/text.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {

absl::StatusOr<store::Revision> Applications::Create(const authz::Principal& caller,
                                                     const v1::CreateApplicationRequest& request,
                                                     v1::CreateApplicationResponse& response) {
  FieldViolations violations;
  if (!IsValidResourceId(request.application_id())) {
    violations.Add("application_id", "ID_FORMAT", "must be 1 to 63 of [a-z0-9-], starting with a letter");
  }
  CheckText(violations, "application.display_name", request.application().display_name(), 200, true);
  CheckText(violations, "application.description", request.application().description(), 1000, false);
  RETURN_IF_ERROR(violations.ToStatus());

  const std::string& id = request.application_id();
  v1::Application application;
  application.set_name(ApplicationName(id));
  application.set_display_name(NormalizeSpaces(request.application().display_name()));
  application.set_description(request.application().description());
  absl::Time now = clock_.Now();
  SetTimestamp(now, application.mutable_create_time());
  SetTimestamp(now, application.mutable_update_time());
  application.set_etag(ComputeEtag(application));

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only()}, response,
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

absl::Status Applications::Get(const v1::GetApplicationRequest& request, v1::GetApplicationResponse& response) {
  std::optional<std::string> id = ParseApplicationName(request.name());
  if (!id) return InvalidField("name", "NAME_FORMAT", "must be applications/{application}");
  return store_
      .Read([&](store::Reader& reader) {
        return LoadRecord(reader, store::ApplicationKey(*id), *response.mutable_application(), "APPLICATION_NOT_FOUND",
                          absl::StrCat("application ", *id, " does not exist"));
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

}  // namespace habilis::domain
