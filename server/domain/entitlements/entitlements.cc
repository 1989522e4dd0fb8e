#include "server/domain/entitlements/entitlements.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "authz/engine.h"
#include "habilis/v1/applications.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/status_macros.h"
#include "server/domain/commands/mutation.h"
#include "server/domain/entitlements/grant_records.h"
#include "server/domain/entitlements/profile_grants.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/kernel/existence.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

struct MemberTarget {
  std::string siret;
  std::string account_id;
};

void ParseMember(FieldViolations& violations, const std::string& structure, const std::string& account,
                 MemberTarget& out) {
  std::optional<std::string> siret = ParseStructureName(structure);
  if (!siret) violations.Add("structure", "NAME_FORMAT", "must be structures/{siret}");
  std::optional<std::string> id = ParseAccountName(account);
  if (!id) violations.Add("account", "NAME_FORMAT", "must be accounts/{account}");
  out = {siret.value_or(""), id.value_or("")};
}

absl::StatusOr<v1::Membership> MemberOf(store::Reader& reader, const MemberTarget& target) {
  ASSIGN_OR_RETURN(std::optional<v1::Membership> membership, MembershipIn(reader, target.siret, target.account_id));
  if (!membership) {
    return Error(absl::StatusCode::kNotFound, "ACCOUNT_NOT_FOUND",
                 absl::StrCat(AccountName(target.account_id), " is not an account of this structure"));
  }
  return *membership;
}

// The profiles a delegation request names: distinct, of one application (DLG-GRANT, DLG-REVOKE).
std::vector<ProfileNameParts> ProfilesOfOneApplication(FieldViolations& violations,
                                                       const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::vector<ProfileNameParts> profiles;
  std::set<std::string> seen;
  for (int i = 0; i < names.size(); ++i) {
    std::string field = absl::StrCat("profiles[", i, "]");
    std::optional<ProfileNameParts> profile = ParseProfileName(names[i]);
    if (!profile) {
      violations.Add(field, "NAME_FORMAT", "must be applications/{application}/profiles/{profile}");
    } else if (!profiles.empty() && profile->application_id != profiles.front().application_id) {
      violations.Add(field, "PROFILES_OF_SEVERAL_APPLICATIONS", "name the profiles of one application at a time");
    } else if (!seen.insert(profile->profile_id).second) {
      violations.Add(field, "DUPLICATE", "is listed twice");
    } else {
      profiles.push_back(*profile);
    }
  }
  if (names.empty()) violations.Add("profiles", "REQUIRED", "name at least one profile");
  return profiles;
}

}  // namespace

absl::StatusOr<store::Revision> Entitlements::CreateSubscription(const authz::Principal& caller,
                                                                 const v1::CreateSubscriptionRequest& request,
                                                                 v1::CreateSubscriptionResponse& response) {
  FieldViolations violations;
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) violations.Add("parent", "NAME_FORMAT", "must be structures/{siret}");
  std::optional<std::string> application = ParseApplicationName(request.application());
  if (!application) violations.Add("application", "NAME_FORMAT", "must be applications/{application}");
  RETURN_IF_ERROR(violations.ToStatus());
  v1::Subscription subscription;
  subscription.set_name(SubscriptionName(*siret, *application));
  subscription.set_application(request.application());
  SetTimestamp(clock_.Now(), subscription.mutable_create_time());
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(StructureMustExist(txn, *siret));
                       RETURN_IF_ERROR(ApplicationMustExist(txn, *application));
                       const std::string key = store::SubscriptionKey(*siret, *application);
                       ASSIGN_OR_RETURN(bool exists, Exists(txn, key));
                       if (exists) {
                         return Error(absl::StatusCode::kAlreadyExists, "SUBSCRIPTION_EXISTS",
                                      "the structure already subscribes to this application");
                       }
                       RETURN_IF_ERROR(StoreRecord(txn, key, subscription));
                       *response.mutable_subscription() = subscription;
                       return absl::OkStatus();
                     });
}

absl::Status Entitlements::ListSubscriptions(const v1::ListSubscriptionsRequest& request,
                                             v1::ListSubscriptionsResponse& response) {
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", "must be structures/{siret}");
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        RETURN_IF_ERROR(StructureMustExist(reader, *siret));
        return ReadPage(
            reader, store::SubscriptionPrefix(*siret), request.page_size(), request.page_token(),
            [&](absl::string_view) { return response.add_subscriptions(); }, response.mutable_next_page_token());
      })
      .status();
}

absl::StatusOr<store::Revision> Entitlements::DeleteSubscription(const authz::Principal& caller,
                                                                 const v1::DeleteSubscriptionRequest& request,
                                                                 v1::DeleteSubscriptionResponse& response) {
  std::optional<SubscriptionNameParts> name = ParseSubscriptionName(request.name());
  if (!name) {
    return InvalidField("name", "NAME_FORMAT", "must be structures/{siret}/subscriptions/{application}");
  }
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       const std::string key = store::SubscriptionKey(name->siret, name->application_id);
                       ASSIGN_OR_RETURN(bool exists, Exists(txn, key));
                       if (!exists) {
                         return Error(absl::StatusCode::kNotFound, "SUBSCRIPTION_NOT_FOUND",
                                      "the structure does not subscribe to this application");
                       }
                       return txn.Delete(key);
                     });
}

absl::StatusOr<store::Revision> Entitlements::GrantHabilitation(const authz::Principal& caller,
                                                                const v1::GrantHabilitationRequest& request,
                                                                v1::GrantHabilitationResponse& response) {
  FieldViolations violations;
  MemberTarget target;
  ParseMember(violations, request.structure(), request.account(), target);
  std::optional<ProfileNameParts> profile = ParseProfileName(request.profile());
  if (!profile) violations.Add("profile", "NAME_FORMAT", "must be applications/{application}/profiles/{profile}");
  const absl::Time now = clock_.Now();
  std::optional<absl::Time> expire_time;
  if (request.has_expire_time()) {
    expire_time = FromTimestamp(request.expire_time());
    if (*expire_time <= now || *expire_time > now + absl::Hours(24 * 3653)) {
      violations.Add("expire_time", "EXPIRE_TIME_RANGE", "must be in the future, at most ten years ahead");
    }
  }
  RETURN_IF_ERROR(violations.ToStatus());
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(StructureMustExist(txn, target.siret));
                       ASSIGN_OR_RETURN(v1::Membership member, MemberOf(txn, target));
                       GrantFacts facts;
                       ASSIGN_OR_RETURN(GivenProfile given,
                                        GiveProfile(txn, facts, caller, target.siret, target.account_id, member,
                                                    *profile, now, /*notify=*/true, expire_time));
                       *response.mutable_habilitation() = std::move(given.habilitation);
                       if (!given.replaced_profile.empty()) response.set_replaced_profile(given.replaced_profile);
                       return absl::OkStatus();
                     });
}

absl::StatusOr<store::Revision> Entitlements::RevokeHabilitation(const authz::Principal& caller,
                                                                 const v1::RevokeHabilitationRequest& request,
                                                                 v1::RevokeHabilitationResponse& response) {
  FieldViolations violations;
  MemberTarget target;
  ParseMember(violations, request.structure(), request.account(), target);
  std::optional<std::string> application = ParseApplicationName(request.application());
  if (!application) violations.Add("application", "NAME_FORMAT", "must be applications/{application}");
  RETURN_IF_ERROR(violations.ToStatus());
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       ASSIGN_OR_RETURN(v1::Membership member, MemberOf(txn, target));
                       GrantFacts facts;
                       return TakeProfile(txn, facts, caller, target.siret, target.account_id, member, *application,
                                          clock_.Now(), /*notify=*/true)
                           .status();
                     });
}

namespace {

// Removes from `habilitations` those of accounts that are not members of `service_id` in `siret`.
absl::Status KeepServiceMembers(store::Reader& reader, absl::string_view siret, absl::string_view service_id,
                                google::protobuf::RepeatedPtrField<v1::Habilitation>& habilitations) {
  std::map<std::string, bool> in_service;  // by account name
  google::protobuf::RepeatedPtrField<v1::Habilitation> kept;
  for (v1::Habilitation& habilitation : habilitations) {
    auto [it, inserted] = in_service.emplace(habilitation.account(), false);
    if (inserted) {
      ASSIGN_OR_RETURN(std::optional<v1::Membership> membership,
                       MembershipIn(reader, siret, ParseAccountName(habilitation.account()).value_or("")));
      it->second = membership && ServiceIdOf(*membership) == service_id;
    }
    if (it->second) *kept.Add() = std::move(habilitation);
  }
  habilitations.Swap(&kept);
  return absl::OkStatus();
}

}  // namespace

absl::Status Entitlements::ListHabilitations(const authz::Principal& caller,
                                             const v1::ListHabilitationsRequest& request,
                                             v1::ListHabilitationsResponse& response) {
  std::optional<std::string> siret = ParseStructureName(request.structure());
  if (!siret) return InvalidField("structure", "NAME_FORMAT", "must be structures/{siret}");
  // A responsable reads the habilitations of his own service's members (a page may then hold fewer than
  // page_size: AIP-158 allows it); administrators and operators, the whole structure's.
  const authz::Membership* own = caller.MembershipIn(*siret);
  const std::optional<std::string> only_service =
      caller.kind == authz::PrincipalKind::kAccount && own != nullptr && own->role == authz::Role::kResponsable
          ? std::optional<std::string>(own->service)
          : std::nullopt;
  std::string prefix = store::HabilitationPrefix(*siret);
  if (!request.account().empty()) {
    std::optional<std::string> id = ParseAccountName(request.account());
    if (!id) return InvalidField("account", "NAME_FORMAT", "must be accounts/{account}");
    prefix = store::MemberHabilitationPrefix(*siret, *id);
  }
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        RETURN_IF_ERROR(StructureMustExist(reader, *siret));
        RETURN_IF_ERROR(ReadPage(
            reader, prefix, request.page_size(), request.page_token(),
            [&](absl::string_view) { return response.add_habilitations(); }, response.mutable_next_page_token()));
        if (!only_service) return absl::OkStatus();
        return KeepServiceMembers(reader, *siret, *only_service, *response.mutable_habilitations());
      })
      .status();
}

absl::StatusOr<store::Revision> Entitlements::GrantDelegations(const authz::Principal& caller,
                                                               const v1::GrantDelegationsRequest& request,
                                                               v1::GrantDelegationsResponse& response) {
  FieldViolations violations;
  MemberTarget target;
  ParseMember(violations, request.structure(), request.account(), target);
  std::vector<ProfileNameParts> profiles = ProfilesOfOneApplication(violations, request.profiles());
  RETURN_IF_ERROR(violations.ToStatus());
  const std::string& application_id = profiles.front().application_id;

  return RunMutation(
      store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
      [&](store::Transaction& txn) -> absl::Status {
        RETURN_IF_ERROR(StructureMustExist(txn, target.siret));
        ASSIGN_OR_RETURN(v1::Membership membership, MemberOf(txn, target));
        if (membership.role() != v1::RESPONSABLE) {
          return Error(absl::StatusCode::kFailedPrecondition, "NOT_A_RESPONSABLE",
                       "profiles are delegated to responsables only");
        }
        absl::Time now = clock_.Now();
        GrantFacts facts;
        std::vector<std::string> labels;
        for (const ProfileNameParts& profile : profiles) {
          ASSIGN_OR_RETURN(const v1::Profile* delegated, GivableProfile(txn, facts, target.siret, profile));
          labels.push_back(delegated->display_name());
          v1::Delegation delegation;
          delegation.set_name(DelegationName(target.siret, target.account_id, application_id, profile.profile_id));
          delegation.set_account(AccountName(target.account_id));
          delegation.set_profile(delegated->name());
          SetTimestamp(now, delegation.mutable_grant_time());
          RETURN_IF_ERROR(PutDelegation(txn, target.siret, target.account_id, profile, delegation));
          *response.add_delegations() = delegation;
        }
        return NotifyGrant(txn, now, target.account_id, target.siret, mail::MailKind::kDelegationGranted,
                           application_id, absl::StrJoin(labels, ", "));
      });
}

absl::StatusOr<store::Revision> Entitlements::RevokeDelegations(const authz::Principal& caller,
                                                                const v1::RevokeDelegationsRequest& request,
                                                                v1::RevokeDelegationsResponse& response) {
  FieldViolations violations;
  MemberTarget target;
  ParseMember(violations, request.structure(), request.account(), target);
  std::vector<ProfileNameParts> profiles = ProfilesOfOneApplication(violations, request.profiles());
  RETURN_IF_ERROR(violations.ToStatus());
  return RunMutation(
      store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
      [&](store::Transaction& txn) -> absl::Status {
        std::vector<std::string> names;
        for (const ProfileNameParts& profile : profiles) {
          const std::string key =
              store::DelegationKey(target.siret, target.account_id, profile.application_id, profile.profile_id);
          ASSIGN_OR_RETURN(bool exists, Exists(txn, key));
          if (!exists) {
            return Error(absl::StatusCode::kNotFound, "DELEGATION_NOT_FOUND",
                         absl::StrCat("profile ", ProfileName(profile.application_id, profile.profile_id),
                                      " is not delegated to this account"));
          }
          RETURN_IF_ERROR(DeleteDelegation(txn, target.siret, target.account_id, profile));
          names.push_back(profile.profile_id);
        }
        return NotifyGrant(txn, clock_.Now(), target.account_id, target.siret, mail::MailKind::kDelegationRevoked,
                           profiles.front().application_id, absl::StrJoin(names, ", "));
      });
}

absl::Status Entitlements::ListDelegations(const v1::ListDelegationsRequest& request,
                                           v1::ListDelegationsResponse& response) {
  FieldViolations violations;
  MemberTarget target;
  ParseMember(violations, request.structure(), request.account(), target);
  RETURN_IF_ERROR(violations.ToStatus());
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        absl::Status parse_status;
        RETURN_IF_ERROR(store::ScanPrefix(reader, store::MemberDelegationPrefix(target.siret, target.account_id),
                                          [&](absl::string_view, absl::string_view value) {
                                            if (!response.add_delegations()->ParseFromString(std::string(value))) {
                                              parse_status = absl::DataLossError("a delegation does not parse");
                                              return false;
                                            }
                                            return true;
                                          }));
        return parse_status;
      })
      .status();
}

}  // namespace habilis::domain
