// libFuzzer target: every parser of a resource name or a token a caller sends. Each must never crash, and
// what parses must print back to the same name (a name has one spelling, so one key).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "server/common/paging.h"
#include "server/common/text.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/kernel/resource_names.h"

namespace {

using namespace habilis;          // NOLINT: the shared parsers (paging tokens, text)
using namespace habilis::domain;  // NOLINT: a fuzz target of this namespace's parsers

void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto siret = ParseStructureName(input)) Require(StructureName(*siret) == input);
  if (auto service = ParseServiceName(input))
    Require(ServiceResourceName(service->siret, service->service_id) == input);
  if (auto application = ParseApplicationName(input)) Require(ApplicationName(*application) == input);
  if (auto key = ParseApiKeyName(input)) Require(ApiKeyName(*key) == input);
  if (auto account = ParseAccountName(input)) Require(AccountName(*account) == input);
  if (auto session = ParseSessionName(input)) Require(SessionName(session->account_id, session->session_id) == input);
  if (auto invitation = ParseInvitationName(input)) {
    Require(InvitationName(invitation->siret, invitation->invitation_id) == input);
  }
  if (auto request = ParseDeletionRequestName(input)) Require(DeletionRequestName(*request) == input);
  if (auto profile = ParseProfileName(input))
    Require(ProfileName(profile->application_id, profile->profile_id) == input);
  if (auto subscription = ParseSubscriptionName(input)) {
    Require(SubscriptionName(subscription->siret, subscription->application_id) == input);
  }
  (void)AccountIdIn(input);
  (void)StructureSegment(input);
  // A page token the server did not sign is refused; one it signed reads back its position.
  absl::StatusOr<std::string> position = DecodePageToken(input);
  Require(input.empty() || !position.ok() || EncodePageToken(*position) == input);
  if (absl::StatusOr<std::string> back = DecodePageToken(EncodePageToken(input)); !back.ok() || *back != input) {
    std::abort();
  }
  (void)FoldEmail(input);
  (void)FoldName(input);
  (void)NormalizeSpaces(input);
  (void)IsValidResourceId(input);
  return 0;
}
