// Parsing of resource names (AIP-122): structures/{siret}, structures/{siret}/services/{service},
// applications/{application}, apiKeys/{key}.
#ifndef HABILIS_SERVER_DOMAIN_KERNEL_RESOURCE_NAMES_H_
#define HABILIS_SERVER_DOMAIN_KERNEL_RESOURCE_NAMES_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace habilis::domain {

struct ServiceName {
  std::string siret;
  std::string service_id;
};

std::string StructureName(absl::string_view siret);
std::string ServiceResourceName(absl::string_view siret, absl::string_view service_id);
std::string ApplicationName(absl::string_view application_id);
std::string ApiKeyName(absl::string_view key_id);
std::string AccountName(absl::string_view account_id);
std::string SessionName(absl::string_view account_id, absl::string_view session_id);
std::string InvitationName(absl::string_view siret, absl::string_view invitation_id);
std::string DeletionRequestName(absl::string_view request_id);

std::string ProfileName(absl::string_view application_id, absl::string_view profile_id);
std::string SubscriptionName(absl::string_view siret, absl::string_view application_id);
std::string HabilitationName(absl::string_view siret, absl::string_view account_id, absl::string_view application_id);
std::string DelegationName(absl::string_view siret, absl::string_view account_id, absl::string_view application_id,
                           absl::string_view profile_id);

struct ProfileNameParts {
  std::string application_id;
  std::string profile_id;
};
struct SubscriptionNameParts {
  std::string siret;
  std::string application_id;
};
struct SessionNameParts {
  std::string account_id;
  std::string session_id;
};
struct InvitationNameParts {
  std::string siret;
  std::string invitation_id;
};

// Each returns the ids of a well-formed name, or nullopt. Ids are checked for shape only, not existence.
std::optional<std::string> ParseStructureName(absl::string_view name);
std::optional<ServiceName> ParseServiceName(absl::string_view name);
std::optional<std::string> ParseApplicationName(absl::string_view name);
std::optional<std::string> ParseApiKeyName(absl::string_view name);
std::optional<std::string> ParseAccountName(absl::string_view name);
// The same, without a copy: a view into `name`.
std::optional<absl::string_view> AccountIdIn(absl::string_view name);
std::optional<SessionNameParts> ParseSessionName(absl::string_view name);
std::optional<InvitationNameParts> ParseInvitationName(absl::string_view name);
std::optional<std::string> ParseDeletionRequestName(absl::string_view name);
std::optional<ProfileNameParts> ParseProfileName(absl::string_view name);
std::optional<SubscriptionNameParts> ParseSubscriptionName(absl::string_view name);

// The SIRET segment of any name under structures/, for authorization before full validation; "" if none.
std::string StructureSegment(absl::string_view name);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_KERNEL_RESOURCE_NAMES_H_
