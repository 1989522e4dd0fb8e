// Entitlements: SUB (subscriptions), HAB-GRANT / HAB-REVOKE (habilitations), DLG-GRANT / DLG-REVOKE
// (delegations), and their listings.
//
// Who may call what is the engine's (authz/engine.cc); what depends on the store is checked here: a
// responsable grants and revokes only profiles he holds himself or was delegated in that structure.
#ifndef HABILIS_SERVER_DOMAIN_ENTITLEMENTS_ENTITLEMENTS_H_
#define HABILIS_SERVER_DOMAIN_ENTITLEMENTS_ENTITLEMENTS_H_

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "authz/principal.h"
#include "habilis/v1/accounts.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "server/common/clock.h"
#include "server/domain/kernel/resource_names.h"
#include "store/store.h"

namespace habilis::domain {

class Entitlements {
 public:
  Entitlements(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  [[nodiscard]] absl::StatusOr<store::Revision> CreateSubscription(const authz::Principal& caller,
                                                                   const v1::CreateSubscriptionRequest& request,
                                                                   v1::CreateSubscriptionResponse& response);
  [[nodiscard]] absl::Status ListSubscriptions(const v1::ListSubscriptionsRequest& request,
                                               v1::ListSubscriptionsResponse& response);
  // Ending a subscription keeps the habilitations and delegations; checks answer NOT_SUBSCRIBED until the
  // structure subscribes again.
  [[nodiscard]] absl::StatusOr<store::Revision> DeleteSubscription(const authz::Principal& caller,
                                                                   const v1::DeleteSubscriptionRequest& request,
                                                                   v1::DeleteSubscriptionResponse& response);

  // HAB-GRANT: one account, one profile; replaces the account's profile of that application.
  [[nodiscard]] absl::StatusOr<store::Revision> GrantHabilitation(const authz::Principal& caller,
                                                                  const v1::GrantHabilitationRequest& request,
                                                                  v1::GrantHabilitationResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> RevokeHabilitation(const authz::Principal& caller,
                                                                   const v1::RevokeHabilitationRequest& request,
                                                                   v1::RevokeHabilitationResponse& response);
  // A responsable gets his own service's members' habilitations only.
  [[nodiscard]] absl::Status ListHabilitations(const authz::Principal& caller,
                                               const v1::ListHabilitationsRequest& request,
                                               v1::ListHabilitationsResponse& response);

  // DLG-GRANT: profiles of one application, to a responsable, who gains no access from them.
  [[nodiscard]] absl::StatusOr<store::Revision> GrantDelegations(const authz::Principal& caller,
                                                                 const v1::GrantDelegationsRequest& request,
                                                                 v1::GrantDelegationsResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> RevokeDelegations(const authz::Principal& caller,
                                                                  const v1::RevokeDelegationsRequest& request,
                                                                  v1::RevokeDelegationsResponse& response);
  [[nodiscard]] absl::Status ListDelegations(const v1::ListDelegationsRequest& request,
                                             v1::ListDelegationsResponse& response);

 private:
  store::Store& store_;
  const Clock& clock_;
};

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

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ENTITLEMENTS_ENTITLEMENTS_H_
