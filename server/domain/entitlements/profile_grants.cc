#include "server/domain/entitlements/profile_grants.h"

#include "absl/strings/str_cat.h"
#include "authz/engine.h"
#include "habilis/v1/applications.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/entitlements/grant_records.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/kernel/existence.h"
#include "server/domain/kernel/records.h"
#include "server/domain/organisation/memberships.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

// A responsable grants or revokes only for a collaborator of his own service, and only a profile he holds or
// was delegated in the structure (HAB-GRANT). The gate decided on facts read before the transaction; they are
// read again here, so a transfer of the member or a revoked delegation that commits meanwhile is seen (and
// the caller's own role is confirmed by RunMutation).
absl::Status ResponsableMayGive(store::Reader& reader, const authz::Principal& caller, absl::string_view siret,
                                const v1::Membership& member, const ProfileNameParts& profile) {
  if (caller.kind != authz::PrincipalKind::kAccount) return absl::OkStatus();
  const authz::Membership* membership = caller.MembershipIn(std::string(siret));
  if (membership == nullptr || membership->role != authz::Role::kResponsable) return absl::OkStatus();
  if (!authz::ResponsableReaches(*membership, ToAuthz(member))) {
    return Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                 "a responsable gives profiles only to the collaborators of his own service");
  }
  v1::Habilitation held;
  absl::Status loaded =
      LoadRecord(reader, store::HabilitationKey(siret, caller.id, profile.application_id), held, "", "");
  if (loaded.ok() && held.profile() == ProfileName(profile.application_id, profile.profile_id)) {
    return absl::OkStatus();
  }
  if (!loaded.ok() && !absl::IsNotFound(loaded)) return loaded;
  ASSIGN_OR_RETURN(bool delegated,
                   Exists(reader, store::DelegationKey(siret, caller.id, profile.application_id, profile.profile_id)));
  if (delegated) return absl::OkStatus();
  return Error(absl::StatusCode::kPermissionDenied, "PROFILE_NOT_HELD_OR_DELEGATED",
               "a responsable gives only the profiles he holds himself or was delegated");
}

}  // namespace

absl::Status NotifyGrant(store::Transaction& txn, absl::Time now, absl::string_view account_id, absl::string_view siret,
                         mail::MailKind kind, absl::string_view application_id, const std::string& profiles) {
  ASSIGN_OR_RETURN(internal::AccountRecord account, LoadAccount(txn, account_id));
  v1::Application application;  // the mail names it by its display name, by its id when it is gone
  ASSIGN_OR_RETURN(std::string application_name,
                   DisplayNameAt(txn, store::ApplicationKey(application_id), application, application_id));
  ASSIGN_OR_RETURN(std::string structure, StructureDisplayName(txn, siret));
  return NotifyAccount(txn, now, account.account(), kind,
                       {{"structure", structure}, {"application", application_name}, {"profile", profiles}});
}

absl::StatusOr<bool> GrantFacts::Subscribed(store::Reader& reader, absl::string_view siret,
                                            absl::string_view application_id) {
  auto [it, inserted] = subscribed_.try_emplace(absl::StrCat(siret, "/", application_id));
  if (inserted) {
    absl::StatusOr<bool> exists = Exists(reader, store::SubscriptionKey(siret, application_id));
    if (!exists.ok()) {
      subscribed_.erase(it);
      return exists.status();
    }
    it->second = *exists;
  }
  return it->second;
}

absl::StatusOr<const v1::Profile*> GrantFacts::Profile(store::Reader& reader, const ProfileNameParts& profile) {
  auto [it, inserted] = profiles_.try_emplace(ProfileName(profile.application_id, profile.profile_id));
  if (inserted) {
    absl::Status loaded = LoadRecord(reader, store::ProfileKey(profile.application_id, profile.profile_id), it->second,
                                     "PROFILE_NOT_FOUND", absl::StrCat("profile ", it->first, " does not exist"));
    if (!loaded.ok()) {
      profiles_.erase(it);
      return loaded;
    }
  }
  return &it->second;
}

absl::StatusOr<const v1::Profile*> GivableProfile(store::Reader& reader, GrantFacts& facts, absl::string_view siret,
                                                  const ProfileNameParts& profile) {
  ASSIGN_OR_RETURN(const v1::Profile* found, facts.Profile(reader, profile));
  if (found->state() == v1::Profile::RETIRED) {
    return Error(absl::StatusCode::kFailedPrecondition, "PROFILE_RETIRED",
                 absl::StrCat("profile ", found->name(), " is retired and can no longer be granted"));
  }
  ASSIGN_OR_RETURN(bool subscribed, facts.Subscribed(reader, siret, profile.application_id));
  if (!subscribed) {
    return Error(absl::StatusCode::kFailedPrecondition, "NOT_SUBSCRIBED",
                 absl::StrCat("the structure does not subscribe to application ", profile.application_id));
  }
  return found;
}

namespace {

// Whether `habilitation` ends at `expire_time` (both without an end included).
bool SameEnd(const v1::Habilitation& habilitation, std::optional<absl::Time> expire_time) {
  if (!habilitation.has_expire_time() || !expire_time) return !habilitation.has_expire_time() && !expire_time;
  return FromTimestamp(habilitation.expire_time()) == *expire_time;
}

}  // namespace

absl::StatusOr<GivenProfile> GiveProfile(store::Transaction& txn, GrantFacts& facts, const authz::Principal& caller,
                                         absl::string_view siret, absl::string_view account_id,
                                         const v1::Membership& member, const ProfileNameParts& profile, absl::Time now,
                                         bool notify, std::optional<absl::Time> expire_time) {
  ASSIGN_OR_RETURN(const v1::Profile* granted, GivableProfile(txn, facts, siret, profile));
  RETURN_IF_ERROR(ResponsableMayGive(txn, caller, siret, member, profile));
  GivenProfile given;
  given.profile_display_name = granted->display_name();
  const std::string profile_name = ProfileName(profile.application_id, profile.profile_id);
  v1::Habilitation existing;
  absl::Status loaded =
      LoadRecord(txn, store::HabilitationKey(siret, account_id, profile.application_id), existing, "", "");
  if (loaded.ok()) {
    if (existing.profile() == profile_name && SameEnd(existing, expire_time)) {
      given.habilitation = std::move(existing);
      return given;
    }
    // Replacing is revoking the profile held: the caller must be able to revoke it too.
    std::optional<ProfileNameParts> replaced = ParseProfileName(existing.profile());
    if (!replaced) return absl::DataLossError("a habilitation names no profile");
    RETURN_IF_ERROR(ResponsableMayGive(txn, caller, siret, member, *replaced));
    if (existing.profile() != profile_name) given.replaced_profile = existing.profile();
    RETURN_IF_ERROR(DeleteHabilitation(txn, siret, account_id, existing));
  } else if (!absl::IsNotFound(loaded)) {
    return loaded;
  }
  v1::Habilitation& habilitation = given.habilitation;
  habilitation.set_name(HabilitationName(siret, account_id, profile.application_id));
  habilitation.set_account(AccountName(account_id));
  habilitation.set_profile(profile_name);
  habilitation.set_granted_by(caller.ResourceName());
  SetTimestamp(now, habilitation.mutable_grant_time());
  if (expire_time) SetTimestamp(*expire_time, habilitation.mutable_expire_time());
  RETURN_IF_ERROR(PutHabilitation(txn, siret, account_id, profile, habilitation));
  if (notify) {
    RETURN_IF_ERROR(NotifyGrant(txn, now, account_id, siret, mail::MailKind::kHabilitationGranted,
                                profile.application_id, granted->display_name()));
  }
  given.changed = true;
  return given;
}

absl::StatusOr<v1::Habilitation> TakeProfile(store::Transaction& txn, GrantFacts& facts, const authz::Principal& caller,
                                             absl::string_view siret, absl::string_view account_id,
                                             const v1::Membership& member, absl::string_view application_id,
                                             absl::Time now, bool notify) {
  v1::Habilitation habilitation;
  RETURN_IF_ERROR(LoadRecord(txn, store::HabilitationKey(siret, account_id, application_id), habilitation,
                             "HABILITATION_NOT_FOUND",
                             "the account holds no profile of this application in this structure"));
  std::optional<ProfileNameParts> profile = ParseProfileName(habilitation.profile());
  if (!profile) return absl::DataLossError("a habilitation names no profile");
  RETURN_IF_ERROR(ResponsableMayGive(txn, caller, siret, member, *profile));
  RETURN_IF_ERROR(DeleteHabilitation(txn, siret, account_id, habilitation));
  if (notify) {
    ASSIGN_OR_RETURN(const v1::Profile* revoked, facts.Profile(txn, *profile));
    RETURN_IF_ERROR(NotifyGrant(txn, now, account_id, siret, mail::MailKind::kHabilitationRevoked, application_id,
                                revoked->display_name()));
  }
  return habilitation;
}

}  // namespace habilis::domain
