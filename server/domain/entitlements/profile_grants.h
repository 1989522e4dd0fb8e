// Profiles given and taken back, written once (HAB-GRANT, HAB-REVOKE): by GrantHabilitation, by CreateAccount
// with its profiles (NEW-CREATE step 2), by the CSV import. Below the commands of identity and entitlements so
// that both call it.
#ifndef HABILIS_SERVER_DOMAIN_ENTITLEMENTS_PROFILE_GRANTS_H_
#define HABILIS_SERVER_DOMAIN_ENTITLEMENTS_PROFILE_GRANTS_H_

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "authz/principal.h"
#include "habilis/v1/accounts.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "server/domain/kernel/resource_names.h"
#include "server/mail/templates.h"
#include "store/store.h"

namespace habilis::domain {

// The subscriptions and profiles a run of grants reads, kept for the run (one transaction): a file's rows
// give the same few profiles again and again. It only remembers reads; what a grant checks is GiveProfile's.
class GrantFacts {
 public:
  [[nodiscard]] absl::StatusOr<bool> Subscribed(store::Reader& reader, absl::string_view siret,
                                                absl::string_view application_id);
  // PROFILE_NOT_FOUND (NOT_FOUND) when there is no such profile.
  [[nodiscard]] absl::StatusOr<const v1::Profile*> Profile(store::Reader& reader, const ProfileNameParts& profile);

 private:
  absl::flat_hash_map<std::string, bool> subscribed_;       // "siret/application"
  absl::node_hash_map<std::string, v1::Profile> profiles_;  // by profile name; pointers stay valid
};

// A profile that may be given in `siret`, as a habilitation (HAB-GRANT) or a delegation (DLG-GRANT): it exists
// (PROFILE_NOT_FOUND), is not retired (PROFILE_RETIRED), and the structure subscribes to its application
// (NOT_SUBSCRIBED).
[[nodiscard]] absl::StatusOr<const v1::Profile*> GivableProfile(store::Reader& reader, GrantFacts& facts,
                                                                absl::string_view siret,
                                                                const ProfileNameParts& profile);

struct GivenProfile {
  v1::Habilitation habilitation;  // the one held now
  std::string replaced_profile;   // the profile of that application held before, if another
  std::string profile_display_name;
  bool changed = false;  // false: the member held this profile already
};

// HAB-GRANT, written once (GrantHabilitation, the CSV import): gives `profile` to the member `account_id` of
// `siret` (whose membership is `member`), in place of any other profile of that application he held. Refuses
// with PROFILE_NOT_FOUND, PROFILE_RETIRED (a retired profile is no longer given), NOT_SUBSCRIBED (the structure
// must subscribe to the application), and for a responsable caller PERMISSION_DENIED (his own collaborators
// only) or PROFILE_NOT_HELD_OR_DELEGATED (for the profile given and the one it replaces). Mails the account
// when `notify`. With `expire_time`, the habilitation ends then; giving a held profile with another end date
// (or none) replaces its end date.
[[nodiscard]] absl::StatusOr<GivenProfile> GiveProfile(store::Transaction& txn, GrantFacts& facts,
                                                       const authz::Principal& caller, absl::string_view siret,
                                                       absl::string_view account_id, const v1::Membership& member,
                                                       const ProfileNameParts& profile, absl::Time now, bool notify,
                                                       std::optional<absl::Time> expire_time = std::nullopt);

// HAB-REVOKE, written once (RevokeHabilitation, the CSV import): takes back the member's profile of
// `application_id`. HABILITATION_NOT_FOUND (NOT_FOUND) when he holds none; a responsable caller as for
// GiveProfile. Mails the account when `notify`. Returns the habilitation removed.
[[nodiscard]] absl::StatusOr<v1::Habilitation> TakeProfile(store::Transaction& txn, GrantFacts& facts,
                                                           const authz::Principal& caller, absl::string_view siret,
                                                           absl::string_view account_id, const v1::Membership& member,
                                                           absl::string_view application_id, absl::Time now,
                                                           bool notify);

// Mails the member `account_id` of `siret` a notice of `kind` about `profiles` (display names) of the
// application `application_id`, named by its display name.
[[nodiscard]] absl::Status NotifyGrant(store::Transaction& txn, absl::Time now, absl::string_view account_id,
                                       absl::string_view siret, mail::MailKind kind, absl::string_view application_id,
                                       const std::string& profiles);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ENTITLEMENTS_PROFILE_GRANTS_H_
