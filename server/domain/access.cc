#include "server/domain/access.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/account_records.h"
#include "server/domain/memberships.h"
#include "server/domain/mutation.h"
#include "server/domain/resource_names.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

using v1::AccessReason;

// What a request asks about: the profile, or a permission, of the caller's application.
struct Object {
  std::optional<ProfileNameParts> profile;
  std::string permission;
};

absl::StatusOr<Object> ObjectOf(absl::string_view application_id, const v1::CheckAccessRequest& request) {
  Object object;
  switch (request.object_case()) {
    case v1::CheckAccessRequest::kProfile:
      object.profile = ParseProfileName(request.profile());
      if (!object.profile) {
        return InvalidField("profile", "NAME_FORMAT", "must be applications/{application}/profiles/{profile}");
      }
      if (object.profile->application_id != application_id) {
        return Error(absl::StatusCode::kPermissionDenied, "PROFILE_OF_ANOTHER_APPLICATION",
                     "an application asks only about its own profiles");
      }
      return object;
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

// The account id a request names, or nullopt when no account answers to it.
template <typename Request>
absl::StatusOr<std::optional<std::string>> SubjectOf(store::Reader& reader, const Request& request) {
  if (!request.account().empty()) {
    std::optional<std::string> id = ParseAccountName(request.account());
    if (!id) return InvalidField("account", "NAME_FORMAT", "must be accounts/{account}");
    return id;
  }
  if (!request.login_email().empty()) return AccountIdByLogin(reader, request.login_email());
  return InvalidField("account", "REQUIRED", "name the account, or give its login e-mail");
}

// Why the account itself cannot use anything now; GRANTED when it can.
AccessReason AccountReason(const v1::Account& account, absl::Time now) {
  if (account.state() != v1::Account::ACTIVE) return v1::ACCOUNT_INACTIVE;
  if (account.has_locked_until() && FromTimestamp(account.locked_until()) > now) return v1::ACCOUNT_LOCKED;
  if (account.has_password_expire_time() && FromTimestamp(account.password_expire_time()) <= now) {
    return v1::PASSWORD_EXPIRED;
  }
  if (!account.has_privacy_consent_time()) return v1::CONSENT_MISSING;
  return v1::GRANTED;
}

// The structures where the account holds a profile of the application.
absl::StatusOr<std::vector<std::string>> StructuresWithProfile(store::Reader& reader, absl::string_view account_id,
                                                               absl::string_view application_id) {
  std::vector<std::string> sirets;
  const std::string prefix = store::AccountHabilitationPrefix(account_id, application_id);
  RETURN_IF_ERROR(store::ScanPrefix(reader, prefix, [&](absl::string_view key, absl::string_view) {
    sirets.push_back(store::LastComponent(key, prefix));
    return true;
  }));
  return sirets;
}

// The habilitation of the account in `siret`, judged: GRANTED with its profile when it gives access now.
struct Judged {
  AccessReason reason = v1::NO_HABILITATION;
  v1::Profile profile;
};

absl::StatusOr<Judged> Judge(store::Reader& reader, absl::string_view siret, absl::string_view account_id,
                             absl::string_view application_id) {
  Judged judged;
  v1::Habilitation habilitation;
  absl::Status loaded =
      LoadRecord(reader, store::HabilitationKey(siret, account_id, application_id), habilitation, "", "");
  if (absl::IsNotFound(loaded)) return judged;
  RETURN_IF_ERROR(loaded);
  std::optional<ProfileNameParts> profile = ParseProfileName(habilitation.profile());
  if (!profile) return absl::DataLossError("a habilitation names no profile");
  RETURN_IF_ERROR(LoadRecord(reader, store::ProfileKey(profile->application_id, profile->profile_id), judged.profile,
                             "PROFILE_NOT_FOUND", "a habilitation names a missing profile"));
  ASSIGN_OR_RETURN(bool subscribed, Exists(reader, store::SubscriptionKey(siret, application_id)));
  if (!subscribed) {
    judged.reason = v1::NOT_SUBSCRIBED;
  } else if (judged.profile.state() == v1::Profile::RETIRED) {
    judged.reason = v1::PROFILE_RETIRED;
  } else {
    judged.reason = v1::GRANTED;
  }
  return judged;
}

bool Matches(const Object& object, const v1::Profile& profile) {
  if (object.profile) return profile.name() == ProfileName(object.profile->application_id, object.profile->profile_id);
  return std::find(profile.permissions().begin(), profile.permissions().end(), object.permission) !=
         profile.permissions().end();
}

absl::Status CheckOne(store::Reader& reader, absl::Time now, absl::string_view application_id,
                      const v1::CheckAccessRequest& request, v1::CheckAccessResponse& response) {
  ASSIGN_OR_RETURN(Object object, ObjectOf(application_id, request));
  std::optional<std::string> siret;
  if (!request.structure().empty()) {
    siret = ParseStructureName(request.structure());
    if (!siret) return InvalidField("structure", "NAME_FORMAT", "must be structures/{siret}");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> account_id, SubjectOf(reader, request));
  response.set_allowed(false);
  response.set_reason(v1::ACCOUNT_UNKNOWN);
  if (!account_id) return absl::OkStatus();
  internal::AccountRecord account;
  absl::Status loaded = LoadRecord(reader, store::AccountKey(*account_id), account, "", "");
  if (absl::IsNotFound(loaded)) return absl::OkStatus();
  RETURN_IF_ERROR(loaded);
  AccessReason reason = AccountReason(account.account(), now);
  response.set_reason(reason);
  if (reason != v1::GRANTED) return absl::OkStatus();

  std::vector<std::string> candidates;
  if (siret) {
    ASSIGN_OR_RETURN(bool member, Exists(reader, store::MembershipKey(*siret, *account_id)));
    if (!member) {
      response.set_reason(v1::MEMBERSHIP_ENDED);
      return absl::OkStatus();
    }
    candidates.push_back(*siret);
  } else {
    ASSIGN_OR_RETURN(candidates, StructuresWithProfile(reader, *account_id, application_id));
  }
  // Among the structures, the most telling refusal: a subscription ended or a profile retired says more
  // than no habilitation at all.
  AccessReason best = v1::NO_HABILITATION;
  for (const std::string& candidate : candidates) {
    ASSIGN_OR_RETURN(Judged judged, Judge(reader, candidate, *account_id, application_id));
    if (judged.reason == v1::GRANTED && Matches(object, judged.profile)) {
      response.set_allowed(true);
      response.set_reason(v1::GRANTED);
      response.set_structure(StructureName(candidate));
      response.set_profile(judged.profile.name());
      return absl::OkStatus();
    }
    if (judged.reason != v1::GRANTED && judged.reason != v1::NO_HABILITATION && Matches(object, judged.profile)) {
      best = judged.reason;
    }
  }
  response.set_reason(best);
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckConsistencyToken(const store::Store& store, absl::string_view token) {
  if (token.empty()) return absl::OkStatus();
  std::string raw;
  absl::string_view in;
  if (absl::WebSafeBase64Unescape(token, &raw)) in = raw;
  std::optional<uint64_t> revision = store::ConsumeUint64(&in);
  if (!revision || !in.empty()) {
    return InvalidField("consistency_token", "CONSISTENCY_TOKEN_INVALID", "is not a token this server returned");
  }
  if (*revision > store.LatestRevision()) {
    return InvalidField("consistency_token", "CONSISTENCY_TOKEN_UNKNOWN",
                        "names a state this server has not reached; it comes from another store");
  }
  return absl::OkStatus();
}

absl::Status Access::Check(absl::string_view application_id, const v1::CheckAccessRequest& request,
                           v1::CheckAccessResponse& response) const {
  RETURN_IF_ERROR(CheckConsistencyToken(store_, request.consistency_token()));
  absl::Time now = clock_.Now();
  return store_.Read([&](store::Reader& reader) { return CheckOne(reader, now, application_id, request, response); })
      .status();
}

absl::Status Access::BatchCheck(absl::string_view application_id, const v1::BatchCheckRequest& request,
                                v1::BatchCheckResponse& response) const {
  if (request.checks_size() > 1000) return InvalidField("checks", "TOO_MANY", "at most 1000 checks per call");
  RETURN_IF_ERROR(CheckConsistencyToken(store_, request.consistency_token()));
  absl::Time now = clock_.Now();
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        for (int i = 0; i < request.checks_size(); ++i) {
          absl::Status status = CheckOne(reader, now, application_id, request.checks(i), *response.add_results());
          if (!status.ok()) {
            return absl::Status(status.code(), absl::StrCat("checks[", i, "]: ", status.message()));
          }
        }
        return absl::OkStatus();
      })
      .status();
}

absl::Status Access::ListEntitlements(absl::string_view application_id, const v1::ListEntitlementsRequest& request,
                                      v1::ListEntitlementsResponse& response) const {
  RETURN_IF_ERROR(CheckConsistencyToken(store_, request.consistency_token()));
  absl::Time now = clock_.Now();
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<std::string> account_id, SubjectOf(reader, request));
        if (!account_id) return Error(absl::StatusCode::kNotFound, "ACCOUNT_NOT_FOUND", "no such account");
        ASSIGN_OR_RETURN(internal::AccountRecord account, LoadAccount(reader, *account_id));
        AccessReason account_reason = AccountReason(account.account(), now);
        ASSIGN_OR_RETURN(std::vector<std::string> sirets, StructuresWithProfile(reader, *account_id, application_id));
        for (const std::string& siret : sirets) {
          ASSIGN_OR_RETURN(Judged judged, Judge(reader, siret, *account_id, application_id));
          v1::Entitlement* entitlement = response.add_entitlements();
          entitlement->set_structure(StructureName(siret));
          entitlement->set_profile(judged.profile.name());
          *entitlement->mutable_permissions() = judged.profile.permissions();
          AccessReason reason = account_reason != v1::GRANTED ? account_reason : judged.reason;
          entitlement->set_effective(reason == v1::GRANTED);
          entitlement->set_reason(reason);
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
