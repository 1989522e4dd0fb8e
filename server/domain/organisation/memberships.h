// Memberships: an account's role and service in each structure it belongs to, kept with their indexes in
// one place, and the rule that a structure which has an active administrator keeps one.
//
// Every function here is called inside a transaction that also touches the structure's guard key
// (store::StructureGuardKey), so concurrent membership changes of one structure are serialized.
#ifndef HABILIS_SERVER_DOMAIN_ORGANISATION_MEMBERSHIPS_H_
#define HABILIS_SERVER_DOMAIN_ORGANISATION_MEMBERSHIPS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/accounts.pb.h"
#include "store/store.h"

namespace habilis::domain {

// The service id of a membership's service ("" for the root level).
std::string ServiceIdOf(const v1::Membership& membership);
// The SIRET of a membership's structure.
std::string SiretOf(const v1::Membership& membership);

// MEMBERSHIP-END: whether the membership is suspended (it then gives its holder no right in the structure).
bool Suspended(const v1::Membership& membership);
// A change of role or service keeps a suspension: only ResumeMembership lifts it.
void KeepSuspension(const v1::Membership& previous, v1::Membership& changed);

// Writes `membership` of `account_id` (replacing `previous`, if any) and its indexes.
[[nodiscard]] absl::Status PutMembership(store::Transaction& txn, absl::string_view account_id,
                                         const v1::Membership& membership, const v1::Membership* previous);
[[nodiscard]] absl::Status DeleteMembership(store::Transaction& txn, absl::string_view account_id,
                                            const v1::Membership& membership);

[[nodiscard]] absl::StatusOr<std::vector<v1::Membership>> MembershipsOf(store::Reader& reader,
                                                                        absl::string_view account_id);
[[nodiscard]] absl::StatusOr<std::optional<v1::Membership>> MembershipIn(store::Reader& reader, absl::string_view siret,
                                                                         absl::string_view account_id);
// The ids of the accounts attached to a service ("" for the root level), up to `limit`.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ServiceMembers(store::Reader& reader, absl::string_view siret,
                                                                      absl::string_view service_id, size_t limit);

// Administrators of `siret` whose account is ACTIVE and whose membership is not suspended.
[[nodiscard]] absl::StatusOr<int> ActiveAdministrators(store::Reader& reader, absl::string_view siret);

// FAILED_PRECONDITION LAST_ADMINISTRATOR if `siret` had active administrators (`before`) and the
// transaction's changes leave it none.
[[nodiscard]] absl::Status KeepsAnAdministrator(store::Transaction& txn, absl::string_view siret, int before);

// The engine's view of memberships.
authz::Membership ToAuthz(const v1::Membership& membership);
std::vector<authz::Membership> ToAuthz(const std::vector<v1::Membership>& memberships);
// The memberships a caller acts through: the suspended ones give him nothing.
std::vector<authz::Membership> ActingMemberships(const std::vector<v1::Membership>& memberships);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ORGANISATION_MEMBERSHIPS_H_
