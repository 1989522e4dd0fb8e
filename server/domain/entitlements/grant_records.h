// What an account holds, as records: habilitations and delegations with their indexes. Every command that
// gives, takes or sweeps away a grant writes through here, so the indexes the access decision reads and the
// account's guard key never drift from the records (store/KEYSPACE.md).
#ifndef HABILIS_SERVER_DOMAIN_ENTITLEMENTS_GRANT_RECORDS_H_
#define HABILIS_SERVER_DOMAIN_ENTITLEMENTS_GRANT_RECORDS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "habilis/v1/entitlements.pb.h"
#include "server/domain/kernel/resource_names.h"
#include "store/store.h"

namespace habilis::domain {

// Writes a habilitation of `account_id` in `siret` with its indexes (the member's previous one of that
// application must have been deleted). Like every writer of what an account holds, it bumps the account's
// guard (store/keyspace.h).
[[nodiscard]] absl::Status PutHabilitation(store::Transaction& txn, absl::string_view siret,
                                           absl::string_view account_id, const ProfileNameParts& profile,
                                           const v1::Habilitation& habilitation);
// Deletes a habilitation and its indexes.
[[nodiscard]] absl::Status DeleteHabilitation(store::Transaction& txn, absl::string_view siret,
                                              absl::string_view account_id, const v1::Habilitation& habilitation);

// Writes or deletes a delegation, bumping the account's guard.
[[nodiscard]] absl::Status PutDelegation(store::Transaction& txn, absl::string_view siret, absl::string_view account_id,
                                         const ProfileNameParts& profile, const v1::Delegation& delegation);
[[nodiscard]] absl::Status DeleteDelegation(store::Transaction& txn, absl::string_view siret,
                                            absl::string_view account_id, const ProfileNameParts& profile);

// Removes every habilitation and delegation of `account_id` in `siret`: its membership there ends. Touches
// the account's guard, so a grant committed meanwhile makes it run again instead of being left behind.
[[nodiscard]] absl::Status RemoveGrants(store::Transaction& txn, absl::string_view siret, absl::string_view account_id);
// Whether `account_id` holds a habilitation in `siret` (DEL-REQUEST is refused then). Touches the account's
// guard: a grant that commits before this transaction does makes it run again.
[[nodiscard]] absl::StatusOr<bool> HoldsHabilitations(store::Transaction& txn, absl::string_view siret,
                                                      absl::string_view account_id);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ENTITLEMENTS_GRANT_RECORDS_H_
