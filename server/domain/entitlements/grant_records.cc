#include "server/domain/entitlements/grant_records.h"

#include <optional>
#include <string>
#include <vector>

#include "server/common/clock.h"
#include "server/common/status_macros.h"
#include "server/domain/kernel/records.h"
#include "store/keyspace.h"

namespace habilis::domain {

namespace {

// Writes (`present`) or deletes the expiry index entry of `habilitation`: only while it has an end date whose
// expiry is not yet recorded.
absl::Status SetExpiryIndex(store::Transaction& txn, absl::string_view siret, absl::string_view account_id,
                            absl::string_view application_id, const v1::Habilitation& habilitation, bool present) {
  if (!habilitation.has_expire_time() || habilitation.has_expiry_recorded_time()) return absl::OkStatus();
  const std::string key =
      store::HabilitationExpiryKey(static_cast<uint64_t>(absl::ToUnixMicros(FromTimestamp(habilitation.expire_time()))),
                                   siret, account_id, application_id);
  return present ? txn.Put(key, "") : txn.Delete(key);
}

}  // namespace

absl::Status PutHabilitation(store::Transaction& txn, absl::string_view siret, absl::string_view account_id,
                             const ProfileNameParts& profile, const v1::Habilitation& habilitation) {
  RETURN_IF_ERROR(txn.ProtectRange(store::AccountGuardKey(account_id)));
  RETURN_IF_ERROR(StoreRecord(txn, store::HabilitationKey(siret, account_id, profile.application_id), habilitation));
  RETURN_IF_ERROR(txn.Put(store::AccountHabilitationKey(account_id, profile.application_id, siret), ""));
  RETURN_IF_ERROR(SetExpiryIndex(txn, siret, account_id, profile.application_id, habilitation, true));
  return txn.Put(store::ProfileHolderKey(profile.application_id, profile.profile_id, account_id, siret), "");
}

absl::Status DeleteHabilitation(store::Transaction& txn, absl::string_view siret, absl::string_view account_id,
                                const v1::Habilitation& habilitation) {
  std::optional<ProfileNameParts> profile = ParseProfileName(habilitation.profile());
  if (!profile) return absl::DataLossError("a habilitation names no profile");
  RETURN_IF_ERROR(txn.ProtectRange(store::AccountGuardKey(account_id)));
  RETURN_IF_ERROR(txn.Delete(store::HabilitationKey(siret, account_id, profile->application_id)));
  RETURN_IF_ERROR(txn.Delete(store::AccountHabilitationKey(account_id, profile->application_id, siret)));
  RETURN_IF_ERROR(SetExpiryIndex(txn, siret, account_id, profile->application_id, habilitation, false));
  return txn.Delete(store::ProfileHolderKey(profile->application_id, profile->profile_id, account_id, siret));
}

absl::Status PutDelegation(store::Transaction& txn, absl::string_view siret, absl::string_view account_id,
                           const ProfileNameParts& profile, const v1::Delegation& delegation) {
  RETURN_IF_ERROR(txn.ProtectRange(store::AccountGuardKey(account_id)));
  return StoreRecord(txn, store::DelegationKey(siret, account_id, profile.application_id, profile.profile_id),
                     delegation);
}

absl::Status DeleteDelegation(store::Transaction& txn, absl::string_view siret, absl::string_view account_id,
                              const ProfileNameParts& profile) {
  RETURN_IF_ERROR(txn.ProtectRange(store::AccountGuardKey(account_id)));
  return txn.Delete(store::DelegationKey(siret, account_id, profile.application_id, profile.profile_id));
}

absl::Status RemoveGrants(store::Transaction& txn, absl::string_view siret, absl::string_view account_id) {
  RETURN_IF_ERROR(TouchGuard(txn, store::AccountGuardKey(account_id)));
  std::vector<v1::Habilitation> habilitations;
  std::vector<ProfileNameParts> delegations;
  RETURN_IF_ERROR(store::ScanPrefix(txn, store::MemberHabilitationPrefix(siret, account_id),
                                    [&](absl::string_view, absl::string_view value) {
                                      habilitations.emplace_back().ParseFromString(std::string(value));
                                      return true;
                                    }));
  RETURN_IF_ERROR(store::ScanPrefix(txn, store::MemberDelegationPrefix(siret, account_id),
                                    [&](absl::string_view, absl::string_view value) {
                                      v1::Delegation delegation;
                                      delegation.ParseFromString(std::string(value));
                                      std::optional<ProfileNameParts> profile = ParseProfileName(delegation.profile());
                                      if (profile) delegations.push_back(*profile);
                                      return true;
                                    }));
  for (const v1::Habilitation& habilitation : habilitations) {
    RETURN_IF_ERROR(DeleteHabilitation(txn, siret, account_id, habilitation));
  }
  for (const ProfileNameParts& profile : delegations) {
    RETURN_IF_ERROR(DeleteDelegation(txn, siret, account_id, profile));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> HoldsHabilitations(store::Transaction& txn, absl::string_view siret,
                                        absl::string_view account_id) {
  RETURN_IF_ERROR(TouchGuard(txn, store::AccountGuardKey(account_id)));
  bool found = false;
  RETURN_IF_ERROR(store::ScanPrefix(txn, store::MemberHabilitationPrefix(siret, account_id),
                                    [&](absl::string_view, absl::string_view) {
                                      found = true;
                                      return false;
                                    }));
  return found;
}

}  // namespace habilis::domain
