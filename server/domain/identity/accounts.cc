#include "server/domain/identity/accounts.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "habilis/v1/org_chart.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/commands/mutation.h"
#include "server/domain/entitlements/grant_records.h"
#include "server/domain/entitlements/profile_grants.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/identity/account_search.h"
#include "server/domain/identity/link_tokens.h"
#include "server/domain/identity/member_in_structure.h"
#include "server/domain/identity/new_members.h"
#include "server/domain/kernel/existence.h"
#include "server/domain/kernel/passwords.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "server/mail/outbox.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

using internal::AccountRecord;

bool IsRole(v1::Role role) { return role == v1::ADMINISTRATOR || role == v1::RESPONSABLE || role == v1::COLLABORATOR; }

// Checks a requested role and service of `siret`; returns the service id ("" for the root level).
std::string CheckMembership(FieldViolations& violations, absl::string_view field, const v1::Membership& membership,
                            absl::string_view siret) {
  if (!IsRole(membership.role())) {
    violations.Add(absl::StrCat(field, ".role"), "ROLE_REQUIRED", "must be ADMINISTRATOR, RESPONSABLE or COLLABORATOR");
  }
  return ServiceOfStructure(violations, absl::StrCat(field, ".service"), membership.service(), siret).value_or("");
}

void CopyField(absl::string_view field, const v1::Account& from, v1::Account& to) {
  const auto* descriptor = v1::Account::descriptor()->FindFieldByName(std::string(field));
  const auto* reflection = v1::Account::GetReflection();
  if (descriptor->number() == v1::Account::kMutedNoticesFieldNumber) {
    *to.mutable_muted_notices() = from.muted_notices();
  } else if (descriptor->type() == google::protobuf::FieldDescriptor::TYPE_BOOL) {
    reflection->SetBool(&to, descriptor, reflection->GetBool(from, descriptor));
  } else {
    reflection->SetString(&to, descriptor, reflection->GetString(from, descriptor));
  }
}

// SECRETS: an address is in effect only once proven: mails `requested` a single-use link of `kind`, opened on
// the portal page `action`, that confirms it for `account` (ConfirmNotificationEmail, ConfirmLoginEmail).
absl::Status MailAddressConfirmation(store::Transaction& txn, absl::Time now, const IdentityPolicy& policy,
                                     const v1::Account& account, internal::LinkTokenRecord::Kind kind,
                                     const std::string& requested, mail::MailKind mail_kind, absl::string_view action) {
  internal::LinkTokenRecord link;
  link.set_kind(kind);
  link.set_subject(ParseAccountName(account.name()).value_or(""));
  link.set_email(requested);
  ASSIGN_OR_RETURN(std::string token, IssueLinkToken(txn, now, policy.notification_email_ttl, link));
  return mail::Enqueue(txn, now, requested, mail_kind, account.language(),
                       {{"name", absl::StrCat(account.given_name(), " ", account.family_name())},
                        {"login", account.login_email()},
                        {"link", LinkUrl(policy.link_base_url, action, token)},
                        {"expires", FormatDeadline(now + policy.notification_email_ttl)}});
}

// The link of `kind` that `token` is, with the account it confirms an address for; LINK_SUPERSEDED when the
// address the account waits for (`pending` of its record) is no longer the link's. Spend `link_id` once used.
struct AddressLink {
  internal::LinkTokenRecord link;
  std::string link_id;
  internal::AccountRecord record;
};
absl::StatusOr<AddressLink> ReadAddressLink(store::Transaction& txn, absl::Time now, const std::string& token,
                                            internal::LinkTokenRecord::Kind kind,
                                            const std::string& (internal::AccountRecord::*pending)() const) {
  AddressLink found;
  ASSIGN_OR_RETURN(found.link, ReadLinkToken(txn, now, token, {kind}, "link_token", &found.link_id));
  ASSIGN_OR_RETURN(found.record, LoadAccount(txn, found.link.subject()));
  if ((found.record.*pending)() != found.link.email()) {
    return Error(absl::StatusCode::kFailedPrecondition, "LINK_SUPERSEDED",
                 "another address was asked for since, or the change was withdrawn; follow the latest link");
  }
  return found;
}

// SECRETS: `requested` replaces the notification e-mail of `record` only once confirmed from that address. A
// link goes to the new address; the address used until now is told at once, so that its owner can react.
// Clearing it, or giving the login e-mail itself (proven by the login), takes effect at once.
absl::Status ChangeNotificationEmail(store::Transaction& txn, internal::AccountRecord& record,
                                     const std::string& requested, absl::Time now, const IdentityPolicy& policy) {
  v1::Account& account = *record.mutable_account();
  RETURN_IF_ERROR(NotifyAccount(txn, now, account, mail::MailKind::kNotificationEmailChanged,
                                {{"email", requested.empty() ? account.login_email() : requested}}));
  if (requested.empty() || FoldEmail(requested) == FoldEmail(account.login_email())) {
    account.set_notification_email(requested);
    record.clear_pending_notification_email();
    return absl::OkStatus();
  }
  record.set_pending_notification_email(requested);
  return MailAddressConfirmation(txn, now, policy, account, internal::LinkTokenRecord::NOTIFICATION_EMAIL, requested,
                                 mail::MailKind::kNotificationEmailConfirmation, "confirm-email");
}

absl::Status JoinFirst() {
  return Error(absl::StatusCode::kFailedPrecondition, "ACCOUNT_JOINING",
               "this person has not yet joined with the account he already has; his login changes there");
}

// «Modifier l'utilisateur»: `requested` becomes the login of `record` once confirmed from that address
// (ConfirmLoginEmail), which proves it is his and checks then, atomically with the change, that no other
// account has it or one that looks like it. The login used until now is told at once. Asking for the login in
// use (logins are stored folded: a change of case is no change) withdraws a pending change.
absl::Status ChangeLoginEmail(store::Transaction& txn, internal::AccountRecord& record, const std::string& requested,
                              absl::Time now, const IdentityPolicy& policy) {
  if (record.has_joining()) return JoinFirst();
  v1::Account& account = *record.mutable_account();
  if (requested == account.login_email()) {
    record.clear_pending_login_email();
    return absl::OkStatus();
  }
  record.set_pending_login_email(requested);
  RETURN_IF_ERROR(mail::Enqueue(txn, now, account.login_email(), mail::MailKind::kLoginEmailChange, account.language(),
                                {{"name", absl::StrCat(account.given_name(), " ", account.family_name())},
                                 {"login", account.login_email()},
                                 {"email", requested}}));
  return MailAddressConfirmation(txn, now, policy, account, internal::LinkTokenRecord::LOGIN_EMAIL, requested,
                                 mail::MailKind::kLoginEmailConfirmation, "confirm-login");
}

// NEW-CREATE step 2: the profiles a new account is created with, at most one per application.
std::vector<ProfileNameParts> ProfilesToGive(FieldViolations& violations,
                                             const google::protobuf::RepeatedPtrField<std::string>& names) {
  constexpr int kMaxProfiles = 100;
  if (names.size() > kMaxProfiles) {
    violations.Add("profiles", "TOO_MANY", absl::StrCat("at most ", kMaxProfiles, " profiles"));
    return {};
  }
  std::vector<ProfileNameParts> profiles;
  std::set<std::string> applications;
  for (int i = 0; i < names.size(); ++i) {
    const std::string field = absl::StrCat("profiles[", i, "]");
    std::optional<ProfileNameParts> profile = ParseProfileName(names[i]);
    if (!profile) {
      violations.Add(field, "NAME_FORMAT", "must be applications/{application}/profiles/{profile}");
    } else if (!applications.insert(profile->application_id).second) {
      violations.Add(field, "ONE_PROFILE_PER_APPLICATION", "an account holds one profile of each application");
    } else {
      profiles.push_back(*profile);
    }
  }
  return profiles;
}

bool FieldIsSet(absl::string_view field, const v1::Account& account) {
  const auto* descriptor = v1::Account::descriptor()->FindFieldByName(std::string(field));
  const auto* reflection = v1::Account::GetReflection();
  if (descriptor->is_repeated()) return reflection->FieldSize(account, descriptor) > 0;
  if (descriptor->type() == google::protobuf::FieldDescriptor::TYPE_BOOL) {
    return reflection->GetBool(account, descriptor);
  }
  return !reflection->GetString(account, descriptor).empty();
}

// The personal fields an UpdateAccount mask names ("*" for all), or without a mask those the request sets;
// `login_change` when it names the login (asked for, not set: ChangeLoginEmail).
absl::Status ReadAccountMask(const v1::UpdateAccountRequest& request, std::vector<std::string>& paths,
                             bool& login_change) {
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "*") {
      paths.assign(PersonalFields().begin(), PersonalFields().end());
      break;
    }
    if (path == "login_email") {
      login_change = true;
      continue;
    }
    if (!PersonalFields().contains(path)) {
      return InvalidField("update_mask", "FIELD_NOT_UPDATABLE",
                          absl::StrCat("'", path,
                                       "' cannot be updated here (the state and output fields cannot; "
                                       "roles change with UpdateMembership)"));
    }
    paths.push_back(path);
  }
  if (paths.empty() && !login_change) {
    for (const std::string& field : PersonalFields()) {
      if (FieldIsSet(field, request.account())) paths.push_back(field);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<store::Revision> Accounts::Create(const authz::Principal& caller,
                                                 const v1::CreateAccountRequest& request,
                                                 v1::CreateAccountResponse& response) {
  FieldViolations violations;
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) violations.Add("parent", "NAME_FORMAT", "must be structures/{siret}");
  CheckAccountFields(violations, "account", request.account());
  std::string service_id = CheckMembership(violations, "membership", request.membership(), siret.value_or(""));
  const std::vector<ProfileNameParts> profiles = ProfilesToGive(violations, request.profiles());
  RETURN_IF_ERROR(violations.ToStatus());

  const std::string id = RandomHex(8);
  absl::Time now = clock_.Now();
  v1::Account account = request.account();
  for (const char* output_only :
       {"memberships", "create_time", "update_time", "password_change_time", "password_expire_time",
        "privacy_consent_time", "failed_login_attempts", "locked_until", "etag", "state", "last_login_time",
        "pending_notification_email", "pending_login_email", "privacy_policy_version"}) {
    account.GetReflection()->ClearField(&account, v1::Account::descriptor()->FindFieldByName(output_only));
  }
  NormalizeAccount(account);
  v1::Membership membership;
  membership.set_structure(StructureName(*siret));
  membership.set_role(request.membership().role());
  if (!service_id.empty()) membership.set_service(ServiceResourceName(*siret, service_id));

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(StructureMustExist(txn, *siret));
                       RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(*siret)));
                       RETURN_IF_ERROR(ServiceMustExist(txn, *siret, service_id));
                       ASSIGN_OR_RETURN(PlacedPerson placed,
                                        PlaceNewPerson(txn, caller, *siret, account, membership, now, id));
                       // A new account is told by its activation mail; an existing one attached is told now.
                       GrantFacts facts;
                       for (const ProfileNameParts& profile : profiles) {
                         RETURN_IF_ERROR(GiveProfile(txn, facts, caller, *siret, placed.account_id, membership, profile,
                                                     now, placed.how == PlacedPerson::How::kAttached)
                                             .status());
                       }
                       ASSIGN_OR_RETURN(*response.mutable_account(), AccountViewFor(txn, caller, placed.record));
                       return absl::OkStatus();
                     });
}

absl::Status Accounts::Get(const authz::Principal& caller, const v1::GetAccountRequest& request,
                           v1::GetAccountResponse& response) {
  std::optional<std::string> id = ParseAccountName(request.name());
  if (!id) return InvalidField("name", "NAME_FORMAT", "must be accounts/{account}");
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(reader, *id));
        ASSIGN_OR_RETURN(*response.mutable_account(), AccountViewFor(reader, caller, record));
        return absl::OkStatus();
      })
      .status();
}

namespace {

// ListAccounts' login_email filter: the one member of `siret` with that login, if any, into `page`.
}  // namespace

absl::Status Accounts::List(const authz::Principal& caller, const v1::ListAccountsRequest& request,
                            v1::ListAccountsResponse& response) {
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", "must be structures/{siret}");
  ASSIGN_OR_RETURN(const MemberFilter filter, ParseMemberFilter(request, *siret));
  // The service a responsable is confined to; none for operators and administrators.
  const authz::Membership* own = caller.MembershipIn(*siret);
  const std::optional<std::string> only_service =
      caller.kind != authz::PrincipalKind::kOperator && own != nullptr && own->role == authz::Role::kResponsable
          ? std::optional<std::string>(own->service)
          : std::nullopt;
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        RETURN_IF_ERROR(StructureMustExist(reader, *siret));
        return SearchMembers(reader, filter, only_service, request.page_size(), request.page_token(), response);
      })
      .status();
}

absl::StatusOr<store::Revision> Accounts::Update(const authz::Principal& caller,
                                                 const v1::UpdateAccountRequest& request,
                                                 v1::UpdateAccountResponse& response) {
  const v1::Account& in = request.account();
  std::optional<std::string> id = ParseAccountName(in.name());
  if (!id) return InvalidField("account.name", "NAME_FORMAT", "must be accounts/{account}");
  std::vector<std::string> paths;
  bool login_change = false;
  RETURN_IF_ERROR(ReadAccountMask(request, paths, login_change));
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, *id));
                       v1::Account& account = *record.mutable_account();
                       if (!in.etag().empty() && in.etag() != account.etag()) {
                         return Error(absl::StatusCode::kAborted, "ETAG_MISMATCH",
                                      "the account changed since it was read; read it again and retry");
                       }
                       const std::string notification_email = account.notification_email();
                       const std::string login_email = account.login_email();
                       for (const std::string& path : paths) CopyField(path, in, account);
                       if (login_change) account.set_login_email(in.login_email());
                       FieldViolations violations;
                       CheckAccountFields(violations, "account", account);
                       RETURN_IF_ERROR(violations.ToStatus());
                       NormalizeAccount(account);
                       const absl::Time now = clock_.Now();
                       if (account.notification_email() != notification_email) {
                         const std::string requested = account.notification_email();
                         account.set_notification_email(notification_email);
                         RETURN_IF_ERROR(ChangeNotificationEmail(txn, record, requested, now, policy_));
                       }
                       if (login_change) {
                         const std::string requested = account.login_email();
                         account.set_login_email(login_email);
                         RETURN_IF_ERROR(ChangeLoginEmail(txn, record, requested, now, policy_));
                       }
                       RETURN_IF_ERROR(SaveAccount(txn, record, now));
                       ASSIGN_OR_RETURN(*response.mutable_account(), AccountViewFor(txn, caller, record));
                       return absl::OkStatus();
                     });
}

absl::StatusOr<store::Revision> Accounts::AcceptJoin(const authz::Principal& caller,
                                                     const v1::AcceptJoinRequest& request,
                                                     v1::AcceptJoinResponse& response) {
  // The password is verified outside the transaction (Argon2 is slow); the transaction checks that the hash
  // it was verified against is still the account's.
  absl::StatusOr<std::string> hash;
  RETURN_IF_ERROR(store_
                      .Read([&](store::Reader& reader) -> absl::Status {
                        hash = JoiningAccountPasswordHash(reader, clock_.Now(), request.link_token());
                        return hash.status();
                      })
                      .status());
  if (!hash->empty() && !VerifyPassword(request.password(), *hash)) {
    return InvalidField("password", "EXISTING_ACCOUNT_PASSWORD", "enter the password of your account");
  }
  return RunMutation(
      store_, caller, request, {"", request.validate_only()}, response, [&](store::Transaction& txn) -> absl::Status {
        std::string siret, account_id;
        RETURN_IF_ERROR(domain::AcceptJoin(txn, clock_.Now(), request.link_token(), *hash, &siret, &account_id));
        response.set_structure(StructureName(siret));
        response.set_account(AccountName(account_id));
        return absl::OkStatus();
      });
}

absl::StatusOr<store::Revision> Accounts::ConfirmNotificationEmail(const authz::Principal& caller,
                                                                   const v1::ConfirmNotificationEmailRequest& request,
                                                                   v1::ConfirmNotificationEmailResponse& response) {
  return RunMutation(
      store_, caller, request, {"", request.validate_only()}, response, [&](store::Transaction& txn) -> absl::Status {
        const absl::Time now = clock_.Now();
        ASSIGN_OR_RETURN(AddressLink found,
                         ReadAddressLink(txn, now, request.link_token(), internal::LinkTokenRecord::NOTIFICATION_EMAIL,
                                         &AccountRecord::pending_notification_email));
        found.record.mutable_account()->set_notification_email(found.link.email());
        found.record.clear_pending_notification_email();
        RETURN_IF_ERROR(SaveAccount(txn, found.record, now));
        RETURN_IF_ERROR(SpendLinkToken(txn, now, found.link_id, found.link));
        response.set_notification_email(found.link.email());
        return absl::OkStatus();
      });
}

absl::StatusOr<store::Revision> Accounts::ConfirmLoginEmail(const authz::Principal& caller,
                                                            const v1::ConfirmLoginEmailRequest& request,
                                                            v1::ConfirmLoginEmailResponse& response) {
  return RunMutation(
      store_, caller, request, {"", request.validate_only()}, response, [&](store::Transaction& txn) -> absl::Status {
        const absl::Time now = clock_.Now();
        ASSIGN_OR_RETURN(AddressLink found,
                         ReadAddressLink(txn, now, request.link_token(), internal::LinkTokenRecord::LOGIN_EMAIL,
                                         &AccountRecord::pending_login_email));
        if (found.record.has_joining()) return JoinFirst();
        RETURN_IF_ERROR(
            ReplaceLogin(txn, found.link.subject(), found.record.account().login_email(), found.link.email()));
        found.record.mutable_account()->set_login_email(found.link.email());
        found.record.clear_pending_login_email();
        RETURN_IF_ERROR(SaveAccount(txn, found.record, now));
        RETURN_IF_ERROR(SpendLinkToken(txn, now, found.link_id, found.link));
        response.set_login_email(found.link.email());
        return absl::OkStatus();
      });
}

absl::StatusOr<store::Revision> Accounts::Activate(const authz::Principal& caller,
                                                   const v1::ActivateAccountRequest& request,
                                                   v1::ActivateAccountResponse& response) {
  ASSIGN_OR_RETURN(AccountInStructure target, ParseAccountInStructure(request.name(), request.structure()));
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(GuardMembership(txn, target).status());
                       ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, target.account_id));
                       v1::Account& account = *record.mutable_account();
                       if (account.state() == v1::Account::ACTIVE && !record.password_hash().empty()) {
                         return Error(absl::StatusCode::kFailedPrecondition, "ACCOUNT_ALREADY_ACTIVE",
                                      "the account is active and has a password; it can log in");
                       }
                       RETURN_IF_ERROR(ActivateAccount(txn, record, clock_.Now(), policy_, target.siret));
                       ASSIGN_OR_RETURN(*response.mutable_account(), AccountViewFor(txn, caller, record));
                       return absl::OkStatus();
                     });
}

absl::StatusOr<store::Revision> Accounts::Unlock(const authz::Principal& caller,
                                                 const v1::UnlockAccountRequest& request,
                                                 v1::UnlockAccountResponse& response) {
  ASSIGN_OR_RETURN(AccountInStructure target, ParseAccountInStructure(request.name(), request.structure()));
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(MemberOf(txn, target.siret, target.account_id).status());
                       ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, target.account_id));
                       ClearLock(*record.mutable_account());
                       RETURN_IF_ERROR(SaveAccount(txn, record, clock_.Now()));
                       ASSIGN_OR_RETURN(*response.mutable_account(), AccountViewFor(txn, caller, record));
                       return absl::OkStatus();
                     });
}

absl::StatusOr<store::Revision> Accounts::SendPasswordReset(const authz::Principal& caller,
                                                            const v1::SendPasswordResetRequest& request,
                                                            v1::SendPasswordResetResponse& response) {
  ASSIGN_OR_RETURN(AccountInStructure target, ParseAccountInStructure(request.name(), request.structure()));
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(MemberOf(txn, target.siret, target.account_id).status());
                       ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, target.account_id));
                       if (record.account().state() != v1::Account::ACTIVE) {
                         return Error(absl::StatusCode::kFailedPrecondition, "ACCOUNT_NOT_ACTIVE",
                                      "the account is not active: activate it, and its e-mail sets a first password");
                       }
                       return MailPasswordReset(txn, clock_.Now(), policy_, target.account_id, record.account());
                     });
}

absl::StatusOr<store::Revision> Accounts::Deactivate(const authz::Principal& caller,
                                                     const v1::DeactivateAccountRequest& request,
                                                     v1::DeactivateAccountResponse& response) {
  std::optional<std::string> id = ParseAccountName(request.name());
  if (!id) {
    return InvalidField("name", request.name().empty() ? "REQUIRED" : "NAME_FORMAT", "must be accounts/{account}");
  }
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       ASSIGN_OR_RETURN(auto before, AdministratorsAround(txn, *id));
                       ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, *id));
                       if (record.account().state() == v1::Account::DEACTIVATED) {
                         return Error(absl::StatusCode::kFailedPrecondition, "ACCOUNT_ALREADY_DEACTIVATED",
                                      "the account is already deactivated");
                       }
                       record.mutable_account()->set_state(v1::Account::DEACTIVATED);
                       RETURN_IF_ERROR(SaveAccount(txn, record, clock_.Now()));
                       RETURN_IF_ERROR(EndAllSessions(txn, *id));
                       RETURN_IF_ERROR(StillAdministered(txn, before));
                       ASSIGN_OR_RETURN(*response.mutable_account(), AccountViewFor(txn, caller, record));
                       return absl::OkStatus();
                     });
}

namespace {

constexpr int kMaxResendAddresses = 100;

// The members of `siret` whose logins `login_emails` names, in order; NOT_FOUND (MEMBER_NOT_FOUND, naming
// the address's index) for an address that is no member's, whether or not it has an account elsewhere.
absl::StatusOr<std::vector<std::string>> MembersByLogin(store::Reader& reader, absl::string_view siret,
                                                        const google::protobuf::RepeatedPtrField<std::string>& logins) {
  std::vector<std::string> ids;
  for (int i = 0; i < logins.size(); ++i) {
    ASSIGN_OR_RETURN(std::optional<std::string> id, MemberIdByLogin(reader, siret, logins[i]));
    if (!id) {
      return InElement(Error(absl::StatusCode::kNotFound, "MEMBER_NOT_FOUND",
                             "no member of this structure logs in with this address"),
                       absl::StrCat("login_emails[", i, "]"));
    }
    ids.push_back(*std::move(id));
  }
  return ids;
}

// ResendIdentifier's accounts: `name`, or the members `login_emails` names (validated here).
absl::StatusOr<std::vector<std::string>> ResendTargets(store::Reader& reader,
                                                       const v1::ResendIdentifierRequest& request,
                                                       absl::string_view siret) {
  if (request.login_emails().empty()) {
    ASSIGN_OR_RETURN(AccountInStructure target, ParseAccountInStructure(request.name(), request.structure()));
    RETURN_IF_ERROR(MemberOf(reader, siret, target.account_id).status());
    return std::vector<std::string>{target.account_id};
  }
  return MembersByLogin(reader, siret, request.login_emails());
}

absl::Status CheckResendRequest(const v1::ResendIdentifierRequest& request) {
  FieldViolations violations;
  if (!request.login_emails().empty()) {
    if (!request.name().empty()) violations.Add("name", "ONE_OF", "name the account or give login_emails, not both");
    if (request.login_emails_size() > kMaxResendAddresses) {
      violations.Add("login_emails", "TOO_MANY", absl::StrCat("at most ", kMaxResendAddresses, " addresses"));
    }
    for (int i = 0; i < request.login_emails_size(); ++i) {
      if (!IsEmail(request.login_emails(i))) {
        violations.Add(absl::StrCat("login_emails[", i, "]"), "EMAIL_FORMAT", "must be an e-mail address");
      }
    }
    if (!ParseStructureName(request.structure())) {
      violations.Add("structure", request.structure().empty() ? "REQUIRED" : "NAME_FORMAT",
                     "must be structures/{siret}");
    }
    return violations.ToStatus();
  }
  return ParseAccountInStructure(request.name(), request.structure()).status();
}

}  // namespace

absl::StatusOr<store::Revision> Accounts::ResendIdentifier(const authz::Principal& caller,
                                                           const v1::ResendIdentifierRequest& request,
                                                           v1::ResendIdentifierResponse& response) {
  RETURN_IF_ERROR(CheckResendRequest(request));
  const std::string siret = *ParseStructureName(request.structure());
  return RunMutation(
      store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
      [&](store::Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<std::string> ids, ResendTargets(txn, request, siret));
        for (const std::string& id : ids) {
          ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, id));
          RETURN_IF_ERROR(NotifyAccount(txn, clock_.Now(), record.account(), mail::MailKind::kIdentifier, {}));
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<store::Revision> Accounts::UpdateMembership(const authz::Principal& caller,
                                                           const v1::UpdateMembershipRequest& request,
                                                           v1::UpdateMembershipResponse& response) {
  FieldViolations violations;
  std::optional<std::string> id = ParseAccountName(request.account());
  if (!id) violations.Add("account", "NAME_FORMAT", "must be accounts/{account}");
  std::optional<std::string> siret = ParseStructureName(request.membership().structure());
  if (!siret) violations.Add("membership.structure", "NAME_FORMAT", "must be structures/{siret}");
  std::string service_id = CheckMembership(violations, "membership", request.membership(), siret.value_or(""));
  RETURN_IF_ERROR(violations.ToStatus());
  v1::Membership membership;
  membership.set_structure(StructureName(*siret));
  membership.set_role(request.membership().role());
  if (!service_id.empty()) membership.set_service(ServiceResourceName(*siret, service_id));

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(*siret)));
                       ASSIGN_OR_RETURN(v1::Membership current, MemberOf(txn, *siret, *id));
                       RETURN_IF_ERROR(ServiceMustExist(txn, *siret, service_id));
                       v1::Membership changed = membership;
                       KeepSuspension(current, changed);
                       ASSIGN_OR_RETURN(int before, ActiveAdministrators(txn, *siret));
                       RETURN_IF_ERROR(PutMembership(txn, *id, changed, &current));
                       RETURN_IF_ERROR(KeepsAnAdministrator(txn, *siret, before));
                       ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, *id));
                       ASSIGN_OR_RETURN(*response.mutable_account(), AccountViewFor(txn, caller, record));
                       return absl::OkStatus();
                     });
}

absl::StatusOr<store::Revision> Accounts::Transfer(const authz::Principal& caller,
                                                   const v1::TransferAccountsRequest& request,
                                                   v1::TransferAccountsResponse& response) {
  FieldViolations violations;
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", "must be structures/{siret}");
  std::set<std::string> emails;
  for (int i = 0; i < request.login_emails_size(); ++i) {
    std::string field = absl::StrCat("login_emails[", i, "]");
    if (!IsEmail(request.login_emails(i))) {
      violations.Add(field, "EMAIL_FORMAT", "must be an e-mail address");
    } else if (!emails.insert(FoldEmail(request.login_emails(i))).second) {
      violations.Add(field, "DUPLICATE", "names an account already listed");
    }
  }
  if (request.login_emails().empty()) violations.Add("login_emails", "REQUIRED", "name at least one account");
  std::string service_id = ServiceOfStructure(violations, "service", request.service(), *siret).value_or("");
  RETURN_IF_ERROR(violations.ToStatus());

  return RunMutation(
      store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
      [&](store::Transaction& txn) -> absl::Status {
        RETURN_IF_ERROR(StructureMustExist(txn, *siret));
        RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(*siret)));
        RETURN_IF_ERROR(ServiceMustExist(txn, *siret, service_id));
        absl::Time now = clock_.Now();
        std::string service_label = "";
        if (!service_id.empty()) {
          v1::Service service;
          RETURN_IF_ERROR(LoadRecord(txn, store::ServiceKey(*siret, service_id), service, "SERVICE_NOT_FOUND", ""));
          service_label = service.display_name();
        }
        for (const std::string& email : emails) {
          ASSIGN_OR_RETURN(std::optional<std::string> id, domain::MemberIdByLogin(txn, *siret, email));
          if (!id) return NotAMember(email);
          ASSIGN_OR_RETURN(std::optional<v1::Membership> current, MembershipIn(txn, *siret, *id));
          if (!current) return NotAMember(email);
          v1::Membership moved = *current;
          if (service_id.empty()) {
            moved.clear_service();
          } else {
            moved.set_service(ServiceResourceName(*siret, service_id));
          }
          RETURN_IF_ERROR(PutMembership(txn, *id, moved, &*current));
          response.add_transferred_accounts(AccountName(*id));
          if (current->role() == v1::RESPONSABLE) {
            ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, *id));
            ASSIGN_OR_RETURN(std::string structure, StructureDisplayName(txn, *siret));
            RETURN_IF_ERROR(NotifyAccount(
                txn, now, record.account(), mail::MailKind::kTransfer,
                {{"service", service_label.empty() ? "(racine)" : service_label}, {"structure", structure}}));
          }
        }
        return absl::OkStatus();
      });
}

absl::StatusOr<std::optional<std::string>> Accounts::MemberIdByLogin(absl::string_view structure_name,
                                                                     absl::string_view login_email) {
  std::optional<std::string> siret = ParseStructureName(structure_name);
  if (!siret) return std::nullopt;
  std::optional<std::string> id;
  RETURN_IF_ERROR(store_
                      .Read([&](store::Reader& reader) -> absl::Status {
                        ASSIGN_OR_RETURN(id, domain::MemberIdByLogin(reader, *siret, login_email));
                        return absl::OkStatus();
                      })
                      .status());
  return id;
}

absl::StatusOr<std::vector<authz::Membership>> Accounts::MembershipsForAuthz(absl::string_view account_name) {
  std::optional<std::string> id = ParseAccountName(account_name);
  if (!id) return std::vector<authz::Membership>();
  std::vector<authz::Membership> memberships;
  RETURN_IF_ERROR(store_
                      .Read([&](store::Reader& reader) -> absl::Status {
                        ASSIGN_OR_RETURN(std::vector<v1::Membership> found, MembershipsOf(reader, *id));
                        memberships = ToAuthz(found);
                        return absl::OkStatus();
                      })
                      .status());
  return memberships;
}

}  // namespace habilis::domain
