#include "server/domain/kernel/resource_names.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/common/text.h"

namespace habilis::domain {
namespace {

bool IsSiretShape(absl::string_view s) {
  if (s.size() != 14) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsKeyId(absl::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string StructureName(absl::string_view siret) { return absl::StrCat("structures/", siret); }
std::string ServiceResourceName(absl::string_view siret, absl::string_view service_id) {
  return absl::StrCat("structures/", siret, "/services/", service_id);
}
std::string ApplicationName(absl::string_view application_id) { return absl::StrCat("applications/", application_id); }
std::string ApiKeyName(absl::string_view key_id) { return absl::StrCat("apiKeys/", key_id); }

std::string AccountName(absl::string_view account_id) { return absl::StrCat("accounts/", account_id); }
std::string SessionName(absl::string_view account_id, absl::string_view session_id) {
  return absl::StrCat("accounts/", account_id, "/sessions/", session_id);
}
std::string InvitationName(absl::string_view siret, absl::string_view invitation_id) {
  return absl::StrCat("structures/", siret, "/invitations/", invitation_id);
}
std::string DeletionRequestName(absl::string_view request_id) { return absl::StrCat("deletionRequests/", request_id); }

std::string ProfileName(absl::string_view application_id, absl::string_view profile_id) {
  return absl::StrCat("applications/", application_id, "/profiles/", profile_id);
}
std::string SubscriptionName(absl::string_view siret, absl::string_view application_id) {
  return absl::StrCat("structures/", siret, "/subscriptions/", application_id);
}
std::string HabilitationName(absl::string_view siret, absl::string_view account_id, absl::string_view application_id) {
  return absl::StrCat("structures/", siret, "/accounts/", account_id, "/habilitations/", application_id);
}
std::string DelegationName(absl::string_view siret, absl::string_view account_id, absl::string_view application_id,
                           absl::string_view profile_id) {
  return absl::StrCat("structures/", siret, "/accounts/", account_id, "/delegations/", application_id, "~", profile_id);
}

std::optional<ProfileNameParts> ParseProfileName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "applications" || !IsValidResourceId(parts[1]) || parts[2] != "profiles" ||
      !IsValidResourceId(parts[3])) {
    return std::nullopt;
  }
  return ProfileNameParts{std::string(parts[1]), std::string(parts[3])};
}

std::optional<SubscriptionNameParts> ParseSubscriptionName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "structures" || !IsSiretShape(parts[1]) || parts[2] != "subscriptions" ||
      !IsValidResourceId(parts[3])) {
    return std::nullopt;
  }
  return SubscriptionNameParts{std::string(parts[1]), std::string(parts[3])};
}

std::optional<std::string> ParseStructureName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 2 || parts[0] != "structures" || !IsSiretShape(parts[1])) return std::nullopt;
  return std::string(parts[1]);
}

std::optional<ServiceName> ParseServiceName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "structures" || !IsSiretShape(parts[1]) || parts[2] != "services" ||
      !IsValidResourceId(parts[3])) {
    return std::nullopt;
  }
  return ServiceName{std::string(parts[1]), std::string(parts[3])};
}

std::optional<std::string> ParseApplicationName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 2 || parts[0] != "applications" || !IsValidResourceId(parts[1])) return std::nullopt;
  return std::string(parts[1]);
}

std::optional<std::string> ParseApiKeyName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 2 || parts[0] != "apiKeys" || !IsKeyId(parts[1])) return std::nullopt;
  return std::string(parts[1]);
}

std::optional<std::string> ParseAccountName(absl::string_view name) {
  std::optional<absl::string_view> id = AccountIdIn(name);
  if (!id) return std::nullopt;
  return std::string(*id);
}

std::optional<absl::string_view> AccountIdIn(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "accounts/") || !IsKeyId(name)) return std::nullopt;
  return name;
}

std::optional<SessionNameParts> ParseSessionName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "accounts" || !IsKeyId(parts[1]) || parts[2] != "sessions" ||
      !IsKeyId(parts[3])) {
    return std::nullopt;
  }
  return SessionNameParts{std::string(parts[1]), std::string(parts[3])};
}

std::optional<InvitationNameParts> ParseInvitationName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "structures" || !IsSiretShape(parts[1]) || parts[2] != "invitations" ||
      !IsKeyId(parts[3])) {
    return std::nullopt;
  }
  return InvitationNameParts{std::string(parts[1]), std::string(parts[3])};
}

std::optional<std::string> ParseDeletionRequestName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 2 || parts[0] != "deletionRequests" || !IsKeyId(parts[1])) return std::nullopt;
  return std::string(parts[1]);
}

std::string StructureSegment(absl::string_view name) {
  if (!absl::StartsWith(name, "structures/")) return "";
  name.remove_prefix(absl::string_view("structures/").size());
  return std::string(name.substr(0, name.find('/')));
}

}  // namespace habilis::domain
