#include "server/domain/access/access.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/structures.pb.h"
#include "server/common/call_deadline.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/status_macros.h"
#include "server/domain/access/access_index.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

using v1::AccessReason;

// What a request asks about: a profile, or a permission, of the caller's application.
struct Object {
  bool by_profile = false;
  std::optional<AccessIndex::ProfileId> profile;  // by_profile, and the profile is known
  absl::string_view permission;
};

absl::StatusOr<Object> ObjectOf(const AccessIndex::View& index, std::optional<AccessIndex::ApplicationId> application,
                                absl::string_view application_id, const v1::CheckAccessRequest& request) {
  Object object;
  switch (request.object_case()) {
    case v1::CheckAccessRequest::kProfile: {
      object.by_profile = true;
      // The common case first: a known profile of the caller's application, found by its name alone.
      std::optional<AccessIndex::ProfileId> known = index.FindProfile(request.profile());
      if (known && application && index.ProfileOf(*known).application == *application) {
        object.profile = known;
        return object;
      }
      std::optional<ProfileNameParts> parts = ParseProfileName(request.profile());
      if (!parts) {
        return InvalidField("profile", "NAME_FORMAT", "must be applications/{application}/profiles/{profile}");
      }
      if (parts->application_id != application_id) {
        return Error(absl::StatusCode::kPermissionDenied, "PROFILE_OF_ANOTHER_APPLICATION",
                     "an application asks only about its own profiles");
      }
      return object;  // a profile the catalog does not hold: nobody has it
    }
    case v1::CheckAccessRequest::kPermission:
      if (request.permission().empty() || request.permission().size() > 100) {
        return InvalidField("permission", "PERMISSION_FORMAT", "name one permission of your application");
      }
      object.permission = request.permission();
      return object;
    case v1::CheckAccessRequest::OBJECT_NOT_SET:
      break;
  }
  return InvalidField("profile", "REQUIRED", "ask about a profile or a permission");
}

// The account a request names, or nullptr when no account answers to it.
template <typename Request>
absl::StatusOr<const AccessIndex::Account*> SubjectOf(const AccessIndex::View& index, const Request& request) {
  if (!request.account().empty()) {
    std::optional<absl::string_view> id = AccountIdIn(request.account());
    if (!id) return InvalidField("account", "NAME_FORMAT", "must be accounts/{account}");
    return index.FindAccount(*id);
  }
  if (!request.login_email().empty()) return index.FindLogin(FoldEmail(request.login_email()));
  return InvalidField("account", "REQUIRED", "name the account, or give its login e-mail");
}

// Why the account itself cannot use anything now; GRANTED when it can.
AccessReason AccountReason(const AccessIndex::Account& account, int64_t now_micros) {
  if (account.state() != v1::Account::ACTIVE) return v1::ACCOUNT_INACTIVE;
  if (account.locked_until_micros != AccessIndex::kNoTime && account.locked_until_micros > now_micros) {
    return v1::ACCOUNT_LOCKED;
  }
  if (account.password_expire_micros != AccessIndex::kNoTime && account.password_expire_micros <= now_micros) {
    return v1::PASSWORD_EXPIRED;
  }
  if (!account.privacy_consent) return v1::CONSENT_MISSING;
  return v1::GRANTED;
}

// MEMBERSHIP-END: whether the account's membership of `siret` lets it use anything there; GRANTED when it does.
AccessReason StandingReason(const AccessIndex::Account& account, AccessIndex::SiretId siret) {
  switch (account.StandingIn(siret)) {
    case AccessIndex::Standing::kMember:
      return v1::GRANTED;
    case AccessIndex::Standing::kSuspended:
      return v1::MEMBERSHIP_SUSPENDED;
    case AccessIndex::Standing::kNone:
      break;
  }
  return v1::MEMBERSHIP_ENDED;
}

// Whether a habilitation gives access now, whatever it is asked about.
absl::StatusOr<AccessReason> Judge(const AccessIndex::View& index, const AccessIndex::Grant& grant,
                                   int64_t now_micros) {
  const AccessIndex::Profile& profile = index.ProfileOf(grant.profile);
  if (!profile.exists) return absl::DataLossError("a habilitation names a missing profile");
  if (!index.Subscribed(grant.siret, index.ApplicationOf(grant))) return v1::NOT_SUBSCRIBED;
  if (profile.retired) return v1::PROFILE_RETIRED;
  if (grant.expire_micros != AccessIndex::kNoTime && grant.expire_micros <= now_micros) return v1::HABILITATION_EXPIRED;
  return v1::GRANTED;
}

// Whether `grant` of `account` gives access now: the account itself (`account_reason`), its membership of
// the grant's structure, then the habilitation (Judge).
absl::StatusOr<AccessReason> GrantReason(const AccessIndex::View& index, const AccessIndex::Account& account,
                                         AccessReason account_reason, const AccessIndex::Grant& grant,
                                         int64_t now_micros) {
  if (account_reason != v1::GRANTED) return account_reason;
  AccessReason standing = StandingReason(account, grant.siret);
  if (standing != v1::GRANTED) return standing;
  return Judge(index, grant, now_micros);
}

bool Matches(const Object& object, const AccessIndex::Grant& grant, const AccessIndex::Profile& profile) {
  if (object.by_profile) return object.profile == grant.profile;
  return std::binary_search(profile.permissions.begin(), profile.permissions.end(), object.permission);
}

absl::Status CheckOne(const AccessIndex::View& index, int64_t now_micros, absl::string_view application_id,
                      const v1::CheckAccessRequest& request, v1::CheckAccessResponse& response) {
  const std::optional<AccessIndex::ApplicationId> application = index.FindApplication(application_id);
  ASSIGN_OR_RETURN(Object object, ObjectOf(index, application, application_id, request));
  std::optional<std::string> siret;
  if (!request.structure().empty()) {
    siret = ParseStructureName(request.structure());
    if (!siret) return InvalidField("structure", "NAME_FORMAT", "must be structures/{siret}");
  }
  ASSIGN_OR_RETURN(const AccessIndex::Account* account, SubjectOf(index, request));
  response.set_allowed(false);
  response.set_reason(v1::ACCOUNT_UNKNOWN);
  if (account == nullptr) return absl::OkStatus();
  AccessReason reason = AccountReason(*account, now_micros);
  response.set_reason(reason);
  if (reason != v1::GRANTED) return absl::OkStatus();

  std::optional<AccessIndex::SiretId> only;
  if (siret) {
    only = index.FindSiret(*siret);
    const AccessReason standing = only ? StandingReason(*account, *only) : v1::MEMBERSHIP_ENDED;
    if (standing != v1::GRANTED) {
      response.set_reason(standing);
      return absl::OkStatus();
    }
  }
  // Among the structures, the most telling refusal: a subscription ended or a profile retired says more
  // than no habilitation at all.
  AccessReason best = v1::NO_HABILITATION;
  for (const AccessIndex::Grant& grant : account->grants()) {
    if (!application || index.ApplicationOf(grant) != *application || (only && grant.siret != *only)) continue;
    // Without a structure, each grant's own membership decides (a suspension there).
    ASSIGN_OR_RETURN(AccessReason judged, GrantReason(index, *account, v1::GRANTED, grant, now_micros));
    const AccessIndex::Profile& profile = index.ProfileOf(grant.profile);
    if (!Matches(object, grant, profile)) continue;
    if (judged == v1::GRANTED) {
      response.set_allowed(true);
      response.set_reason(v1::GRANTED);
      response.set_structure(StructureName(index.Siret(grant.siret)));
      response.set_profile(profile.name);
      return absl::OkStatus();
    }
    best = judged;
  }
  response.set_reason(best);
  return absl::OkStatus();
}

int64_t NowMicros(const Clock& clock) { return absl::ToUnixMicros(clock.Now()); }

}  // namespace

absl::Status CheckConsistencyToken(store::Store& store, absl::string_view token) {
  if (token.empty()) return absl::OkStatus();
  return ConsistencyTokenRevision(store, token).status();
}

absl::StatusOr<store::Revision> ConsistencyTokenRevision(store::Store& store, absl::string_view token) {
  std::optional<store::Revision> revision = DecodeConsistencyToken(token);
  if (!revision) {
    return InvalidField("consistency_token", "CONSISTENCY_TOKEN_INVALID", "is not a token this server returned");
  }
  if (*revision <= store.ObservedRevision()) return *revision;
  // A token from another node's commit that this node has not applied yet: wait for it, never answer from
  // before it (docs/SCALE-OUT.md "Consistency tokens").
  const absl::Time deadline = std::min(CallDeadline(), absl::Now() + kConsistencyTokenWait);
  absl::Status observed = store.WaitObserved(*revision, deadline);
  if (observed.ok()) return *revision;
  if (absl::IsInvalidArgument(observed)) {
    return InvalidField("consistency_token", "CONSISTENCY_TOKEN_UNKNOWN",
                        "names a state this server has not reached; it comes from another store");
  }
  return Error(absl::StatusCode::kUnavailable, "NODE_BEHIND_CONSISTENCY_TOKEN",
               absl::StrCat("this node has not yet applied the changes the consistency token names (",
                            observed.message(), "); retry, on this node or another"));
}

absl::Status Access::Check(absl::string_view application_id, const v1::CheckAccessRequest& request,
                           v1::CheckAccessResponse& response) const {
  RETURN_IF_ERROR(CheckConsistencyToken(store_, request.consistency_token()));
  const int64_t now = NowMicros(clock_);
  AccessIndex::View view = index_.Read();
  RETURN_IF_ERROR(view.Healthy());
  return CheckOne(view, now, application_id, request, response);
}

absl::Status Access::BatchCheck(absl::string_view application_id, const v1::BatchCheckRequest& request,
                                v1::BatchCheckResponse& response) const {
  if (request.checks_size() > 1000) return InvalidField("checks", "TOO_MANY", "at most 1000 checks per call");
  RETURN_IF_ERROR(CheckConsistencyToken(store_, request.consistency_token()));
  const int64_t now = NowMicros(clock_);
  response.mutable_results()->Reserve(request.checks_size());
  AccessIndex::View view = index_.Read();
  RETURN_IF_ERROR(view.Healthy());
  for (int i = 0; i < request.checks_size(); ++i) {
    absl::Status status = CheckOne(view, now, application_id, request.checks(i), *response.add_results());
    if (!status.ok()) return InElement(status, absl::StrCat("checks[", i, "]"));
  }
  return absl::OkStatus();
}

absl::Status Access::ListEntitlements(absl::string_view application_id, const v1::ListEntitlementsRequest& request,
                                      v1::ListEntitlementsResponse& response) const {
  RETURN_IF_ERROR(CheckConsistencyToken(store_, request.consistency_token()));
  const int64_t now = NowMicros(clock_);
  AccessIndex::View view = index_.Read();
  RETURN_IF_ERROR(view.Healthy());
  ASSIGN_OR_RETURN(const AccessIndex::Account* account, SubjectOf(view, request));
  if (account == nullptr) return Error(absl::StatusCode::kNotFound, "ACCOUNT_NOT_FOUND", "no such account");
  const AccessReason account_reason = AccountReason(*account, now);
  const std::optional<AccessIndex::ApplicationId> application = view.FindApplication(application_id);
  std::vector<const AccessIndex::Grant*> grants;
  for (const AccessIndex::Grant& grant : account->grants()) {
    if (application && view.ApplicationOf(grant) == *application) grants.push_back(&grant);
  }
  std::sort(grants.begin(), grants.end(), [&](const AccessIndex::Grant* a, const AccessIndex::Grant* b) {
    return view.Siret(a->siret) < view.Siret(b->siret);
  });
  for (const AccessIndex::Grant* grant : grants) {
    ASSIGN_OR_RETURN(AccessReason reason, GrantReason(view, *account, account_reason, *grant, now));
    const AccessIndex::Profile& profile = view.ProfileOf(grant->profile);
    v1::Entitlement* entitlement = response.add_entitlements();
    entitlement->set_structure(StructureName(view.Siret(grant->siret)));
    entitlement->set_profile(profile.name);
    for (const std::string& permission : profile.permissions) entitlement->add_permissions(permission);
    entitlement->set_effective(reason == v1::GRANTED);
    entitlement->set_reason(reason);
  }
  return absl::OkStatus();
}

namespace {

// Fills the display names of `application` from the store.
absl::Status AddDisplayNames(store::Reader& reader, v1::AccountApplication& application) {
  std::optional<ProfileNameParts> profile = ParseProfileName(application.profile());
  if (!profile) return absl::DataLossError("the index holds a profile name that does not parse");
  v1::Structure structure;
  v1::Application app;
  v1::Profile profile_record;
  ASSIGN_OR_RETURN(*application.mutable_structure_display_name(),
                   DisplayNameAt(reader, store::StructureKey(StructureSegment(application.structure())), structure));
  ASSIGN_OR_RETURN(*application.mutable_application_display_name(),
                   DisplayNameAt(reader, store::ApplicationKey(profile->application_id), app));
  ASSIGN_OR_RETURN(
      *application.mutable_profile_display_name(),
      DisplayNameAt(reader, store::ProfileKey(profile->application_id, profile->profile_id), profile_record));
  return absl::OkStatus();
}

}  // namespace

absl::Status Access::ListAccountApplications(const authz::Principal& caller,
                                             const v1::ListAccountApplicationsRequest& request,
                                             v1::ListAccountApplicationsResponse& response) const {
  std::optional<absl::string_view> id = AccountIdIn(request.account());
  if (!id)
    return InvalidField("account", request.account().empty() ? "REQUIRED" : "NAME_FORMAT",
                        "must be accounts/{account}");
  std::optional<std::string> only;
  if (!request.structure().empty()) {
    only = ParseStructureName(request.structure());
    if (!only) return InvalidField("structure", "NAME_FORMAT", "must be structures/{siret}");
  } else if (caller.kind != authz::PrincipalKind::kOperator &&
             !(caller.kind == authz::PrincipalKind::kAccount && caller.id == *id)) {
    return InvalidField("structure", "REQUIRED", "name the structure in which you see this member");
  }
  {
    const int64_t now = NowMicros(clock_);
    AccessIndex::View view = index_.Read();
    RETURN_IF_ERROR(view.Healthy());
    const AccessIndex::Account* account = view.FindAccount(*id);
    if (account == nullptr) return Error(absl::StatusCode::kNotFound, "ACCOUNT_NOT_FOUND", "no such account");
    const AccessReason account_reason = AccountReason(*account, now);
    for (const AccessIndex::Grant& grant : account->grants()) {
      if (only && view.Siret(grant.siret) != *only) continue;
      ASSIGN_OR_RETURN(AccessReason reason, GrantReason(view, *account, account_reason, grant, now));
      const AccessIndex::Profile& profile = view.ProfileOf(grant.profile);
      v1::AccountApplication* application = response.add_applications();
      application->set_structure(StructureName(view.Siret(grant.siret)));
      application->set_profile(profile.name);
      application->set_application(ApplicationName(ParseProfileName(profile.name)->application_id));
      for (const std::string& permission : profile.permissions) application->add_permissions(permission);
      application->set_effective(reason == v1::GRANTED);
      application->set_reason(reason);
    }
  }
  std::sort(response.mutable_applications()->begin(), response.mutable_applications()->end(),
            [](const v1::AccountApplication& a, const v1::AccountApplication& b) {
              return std::tie(a.structure(), a.application()) < std::tie(b.structure(), b.application());
            });
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        for (v1::AccountApplication& application : *response.mutable_applications()) {
          RETURN_IF_ERROR(AddDisplayNames(reader, application));
        }
        return absl::OkStatus();
      })
      .status();
}

absl::Status Access::LookupAccounts(absl::string_view application_id, const v1::LookupAccountsRequest& request,
                                    v1::LookupAccountsResponse& response) const {
  std::optional<ProfileNameParts> profile = ParseProfileName(request.profile());
  if (!profile) return InvalidField("profile", "NAME_FORMAT", "must be applications/{application}/profiles/{profile}");
  if (profile->application_id != application_id) {
    return Error(absl::StatusCode::kPermissionDenied, "PROFILE_OF_ANOTHER_APPLICATION",
                 "an application asks only about its own profiles");
  }
  std::optional<std::string> siret;
  if (!request.structure().empty()) {
    siret = ParseStructureName(request.structure());
    if (!siret) return InvalidField("structure", "NAME_FORMAT", "must be structures/{siret}");
  }
  ASSIGN_OR_RETURN(int page_size, PageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(request.page_token()));
  RETURN_IF_ERROR(CheckConsistencyToken(store_, request.consistency_token()));
  const std::string prefix = store::ProfileHolderPrefix(profile->application_id, profile->profile_id);
  std::string begin = prefix;
  if (!after.empty()) {
    std::string last = prefix;
    store::AppendString(&last, after);
    begin = store::PrefixEnd(last);  // past every entry of the last account returned
  }
  return store_
      .Read([&](store::Reader& reader) {
        std::string last_account;
        return reader.Scan(begin, store::PrefixEnd(prefix), [&](absl::string_view key, absl::string_view) {
          std::vector<std::string> parts = store::ComponentsAfter(key, prefix);
          if (parts.size() != 2) return true;
          const std::string& account_id = parts[0];
          if ((siret && parts[1] != *siret) || account_id == last_account) return true;
          if (response.accounts_size() == page_size) {
            response.set_next_page_token(EncodePageToken(last_account));
            return false;
          }
          response.add_accounts(AccountName(account_id));
          last_account = account_id;
          return true;
        });
      })
      .status();
}

}  // namespace habilis::domain
