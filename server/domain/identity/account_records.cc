#include "server/domain/identity/account_records.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "habilis/v1/structures.pb.h"
#include "server/common/clock.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/entitlements/grant_records.h"
#include "server/domain/identity/link_tokens.h"
#include "server/domain/identity/new_members.h"
#include "server/domain/kernel/identifiers.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "server/mail/outbox.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

void CheckEmail(FieldViolations& violations, const std::string& field, absl::string_view email, bool required) {
  if (email.empty()) {
    if (required) violations.Add(field, "REQUIRED", "is required");
    return;
  }
  if (!IsEmail(email)) violations.Add(field, "EMAIL_FORMAT", "must be an e-mail address such as name@example.fr");
  absl::StatusOr<std::string> normalized = NormalizeIdentifier(email, field);
  if (!normalized.ok()) violations.Add(field, ErrorReason(normalized.status()), normalized.status().message());
}

// An e-mail as stored: NFKC (fullwidth letters become plain ones), then folded.
std::string StoredEmail(absl::string_view email) {
  absl::StatusOr<std::string> normalized = NormalizeIdentifier(email, "");
  return FoldEmail(normalized.ok() ? *normalized : email);
}

}  // namespace

const std::set<std::string, std::less<>>& PersonalFields() {
  static const std::set<std::string, std::less<>> fields = {
      "notification_email", "civility", "given_name",   "family_name", "mobile_phone",       "phone",        "fax",
      "job_function",       "quality",  "technical_id", "elected",     "language",           "certificate",  "address",
      "postal_code",        "city",     "country",      "canton",      "mute_notifications", "muted_notices"};
  return fields;
}

bool IsPhone(absl::string_view phone) {
  if (phone.size() > 30) return false;
  for (char c : phone) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '+' && c != ' ' && c != '.' && c != '-' &&
        c != '(' && c != ')') {
      return false;
    }
  }
  return true;
}

bool IsEmail(absl::string_view email) {
  if (email.size() > 254) return false;
  size_t at = email.find('@');
  if (at == absl::string_view::npos || at == 0 || at > 64 || email.find('@', at + 1) != absl::string_view::npos) {
    return false;
  }
  absl::string_view domain = email.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == absl::string_view::npos || domain.front() == '.' ||
      domain.back() == '.') {
    return false;
  }
  for (char c : email) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') return false;
  }
  return true;
}

std::string FoldEmail(absl::string_view email) { return absl::AsciiStrToLower(absl::StripAsciiWhitespace(email)); }

void CheckAccountFields(FieldViolations& violations, absl::string_view prefix, const v1::Account& a) {
  auto f = [&](absl::string_view name) { return absl::StrCat(prefix, ".", name); };
  CheckEmail(violations, f("login_email"), a.login_email(), true);
  CheckEmail(violations, f("notification_email"), a.notification_email(), false);
  if (!a.civility().empty() && a.civility() != "M." && a.civility() != "Mme") {
    violations.Add(f("civility"), "CIVILITY", "must be \"M.\" or \"Mme\"");
  }
  CheckText(violations, f("given_name"), a.given_name(), 100, true);
  CheckText(violations, f("family_name"), a.family_name(), 100, true);
  for (auto [name, value] : {std::pair<absl::string_view, const std::string*>{"mobile_phone", &a.mobile_phone()},
                             {"phone", &a.phone()},
                             {"fax", &a.fax()}}) {
    if (!IsPhone(*value)) violations.Add(f(name), "PHONE_FORMAT", "must be digits, spaces and + . - ( )");
  }
  CheckText(violations, f("job_function"), a.job_function(), 200, false);
  CheckText(violations, f("quality"), a.quality(), 100, false);
  CheckText(violations, f("technical_id"), a.technical_id(), 100, false);
  if (!a.language().empty() && a.language() != "fr" && a.language() != "en") {
    violations.Add(f("language"), "LANGUAGE", "must be fr or en");
  }
  if (!a.certificate().empty() &&
      (a.certificate().size() > 16384 || !absl::StartsWith(a.certificate(), "-----BEGIN "))) {
    violations.Add(f("certificate"), "CERTIFICATE_FORMAT", "must be a PEM certificate or public key, at most 16 KiB");
  }
  CheckText(violations, f("address"), a.address(), 300, true);
  CheckText(violations, f("city"), a.city(), 100, true);
  CheckText(violations, f("canton"), a.canton(), 100, false);
  if (a.postal_code().empty()) {
    violations.Add(f("postal_code"), "REQUIRED", "is required");
  } else if (a.postal_code().size() > 16) {
    violations.Add(f("postal_code"), "POSTAL_CODE_FORMAT", "must be at most 16 characters");
  } else if ((a.country().empty() || a.country() == "FR") &&
             (a.postal_code().size() != 5 || !std::all_of(a.postal_code().begin(), a.postal_code().end(), [](char c) {
                return absl::ascii_isdigit(static_cast<unsigned char>(c));
              }))) {
    violations.Add(f("postal_code"), "POSTAL_CODE_FORMAT", "must be 5 digits in France");
  }
  std::set<int> muted;
  for (int i = 0; i < a.muted_notices_size(); ++i) {
    const int kind = a.muted_notices(i);
    if (kind == v1::NOTICE_KIND_UNSPECIFIED || !v1::NoticeKind_IsValid(kind)) {
      violations.Add(absl::StrCat(f("muted_notices"), "[", i, "]"), "NOTICE_KIND", "must be a kind of notice");
    } else if (!muted.insert(kind).second) {
      violations.Add(absl::StrCat(f("muted_notices"), "[", i, "]"), "DUPLICATE", "is listed twice");
    }
  }
  if (!a.country().empty() &&
      (a.country().size() != 2 || !absl::ascii_isupper(a.country()[0]) || !absl::ascii_isupper(a.country()[1]))) {
    violations.Add(f("country"), "COUNTRY_CODE", "must be an ISO 3166-1 alpha-2 code such as FR");
  }
}

void NormalizeAccount(v1::Account& a) {
  a.set_login_email(StoredEmail(a.login_email()));
  a.set_notification_email(StoredEmail(a.notification_email()));
  for (std::string* text :
       {a.mutable_given_name(), a.mutable_family_name(), a.mutable_job_function(), a.mutable_quality(),
        a.mutable_address(), a.mutable_city(), a.mutable_canton(), a.mutable_postal_code(), a.mutable_technical_id()}) {
    *text = NormalizeSpaces(*text);
  }
  if (a.language().empty()) a.set_language("fr");
  if (a.country().empty()) a.set_country("FR");
  std::sort(a.mutable_muted_notices()->begin(), a.mutable_muted_notices()->end());
}

absl::StatusOr<internal::AccountRecord> LoadAccount(store::Reader& reader, absl::string_view account_id) {
  internal::AccountRecord record;
  RETURN_IF_ERROR(LoadRecord(reader, store::AccountKey(account_id), record, "ACCOUNT_NOT_FOUND",
                             absl::StrCat("account ", account_id, " does not exist")));
  return record;
}

absl::Status SaveAccount(store::Transaction& txn, internal::AccountRecord& record, absl::Time now) {
  v1::Account& account = *record.mutable_account();
  account.clear_memberships();
  SetTimestamp(now, account.mutable_update_time());
  account.set_etag(ComputeEtag(account));
  std::optional<std::string> id = ParseAccountName(account.name());
  if (!id) return absl::InternalError("an account without a name");
  return StoreRecord(txn, store::AccountKey(*id), record);
}

absl::Status PutLogin(store::Transaction& txn, absl::string_view login_email, absl::string_view account_id) {
  const std::string lookalike = store::LoginLookalikeKey(ConfusableSkeleton(FoldEmail(login_email)));
  absl::StatusOr<std::string> other = txn.Get(lookalike);
  if (other.ok() && *other != account_id) {
    return Error(absl::StatusCode::kAlreadyExists, "LOGIN_CONFUSABLE",
                 "this login looks like another account's login; check it, or use another address");
  }
  if (!other.ok() && !absl::IsNotFound(other.status())) return other.status();
  RETURN_IF_ERROR(txn.Put(lookalike, account_id));
  return txn.Put(store::LoginKey(FoldEmail(login_email)), account_id);
}

absl::Status DeleteLogin(store::Transaction& txn, absl::string_view login_email) {
  RETURN_IF_ERROR(txn.Delete(store::LoginLookalikeKey(ConfusableSkeleton(FoldEmail(login_email)))));
  return txn.Delete(store::LoginKey(FoldEmail(login_email)));
}

absl::Status ReplaceLogin(store::Transaction& txn, absl::string_view account_id, absl::string_view from,
                          absl::string_view to) {
  absl::StatusOr<std::string> holder = txn.Get(store::LoginKey(FoldEmail(to)));
  if (holder.ok() && *holder != account_id) {
    return Error(absl::StatusCode::kAlreadyExists, "LOGIN_TAKEN", "another account already has this login");
  }
  if (!holder.ok() && !absl::IsNotFound(holder.status())) return holder.status();
  // The look-alike key of the old login goes only if it is this account's (two old logins alike: the first
  // kept it, BuildLoginLookalikeIndex).
  const std::string lookalike = store::LoginLookalikeKey(ConfusableSkeleton(FoldEmail(from)));
  absl::StatusOr<std::string> owner = txn.Get(lookalike);
  if (owner.ok() && *owner == account_id) RETURN_IF_ERROR(txn.Delete(lookalike));
  if (!owner.ok() && !absl::IsNotFound(owner.status())) return owner.status();
  RETURN_IF_ERROR(txn.Delete(store::LoginKey(FoldEmail(from))));
  return PutLogin(txn, to, account_id);
}

absl::Status PutJoiningLogin(store::Transaction& txn, absl::string_view siret, absl::string_view login_email,
                             absl::string_view account_id) {
  return txn.Put(store::JoiningLoginKey(siret, ConfusableSkeleton(FoldEmail(login_email))), account_id);
}

absl::Status BuildLoginLookalikeIndex(store::Store& store) {
  std::vector<std::pair<std::string, std::string>> logins;
  RETURN_IF_ERROR(store
                      .Read([&](store::Reader& reader) {
                        return store::ScanPrefix(
                            reader, store::LoginPrefix(), [&](absl::string_view key, absl::string_view value) {
                              logins.emplace_back(store::LastComponent(key, store::LoginPrefix()), std::string(value));
                              return true;
                            });
                      })
                      .status());
  constexpr size_t kBatch = 10000;
  for (size_t begin = 0; begin <= logins.size(); begin += kBatch) {
    RETURN_IF_ERROR(store
                        .Update([&](store::Transaction& txn) -> absl::Status {
                          for (size_t i = begin; i < std::min(logins.size(), begin + kBatch); ++i) {
                            const std::string key = store::LoginLookalikeKey(ConfusableSkeleton(logins[i].first));
                            absl::StatusOr<std::string> held = txn.Get(key);
                            if (held.ok()) continue;  // two old logins alike: the first keeps the key
                            RETURN_IF_ERROR(txn.Put(key, logins[i].second));
                          }
                          // Format 1 servers marked the index built with this key; the format version says it now.
                          return txn.Delete(store::MetaKey("login_lookalikes_indexed"));
                        })
                        .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> AccountIdByLogin(store::Reader& reader, absl::string_view login_email) {
  absl::StatusOr<std::string> id = reader.Get(store::LoginKey(FoldEmail(login_email)));
  if (absl::IsNotFound(id.status())) return std::nullopt;
  RETURN_IF_ERROR(id.status());
  return *id;
}

absl::StatusOr<v1::Account> AccountView(store::Reader& reader, const internal::AccountRecord& record) {
  v1::Account account = record.account();
  account.set_pending_notification_email(record.pending_notification_email());
  account.set_pending_login_email(record.pending_login_email());
  std::optional<std::string> id = ParseAccountName(account.name());
  if (!id) return absl::InternalError("an account without a name");
  ASSIGN_OR_RETURN(std::vector<v1::Membership> memberships, MembershipsOf(reader, *id));
  for (v1::Membership& m : memberships) *account.add_memberships() = std::move(m);
  return account;
}

void ClearPhones(v1::Account& account) {
  account.clear_mobile_phone();
  account.clear_phone();
  account.clear_fax();
}

absl::StatusOr<v1::Account> AccountViewFor(store::Reader& reader, const authz::Principal& viewer,
                                           const internal::AccountRecord& record) {
  ASSIGN_OR_RETURN(v1::Account account, AccountView(reader, record));
  const bool sees_all = viewer.kind == authz::PrincipalKind::kOperator ||
                        (viewer.kind == authz::PrincipalKind::kAccount && AccountName(viewer.id) == account.name());
  if (sees_all) return account;
  ClearPhones(account);
  auto* memberships = account.mutable_memberships();
  memberships->erase(
      std::remove_if(memberships->begin(), memberships->end(),
                     [&](const v1::Membership& m) { return viewer.MembershipIn(SiretOf(m)) == nullptr; }),
      memberships->end());
  return account;
}

absl::Status MailPasswordReset(store::Transaction& txn, absl::Time now, const IdentityPolicy& policy,
                               absl::string_view account_id, const v1::Account& account) {
  internal::LinkTokenRecord link;
  link.set_kind(internal::LinkTokenRecord::PASSWORD_RESET);
  link.set_subject(std::string(account_id));
  ASSIGN_OR_RETURN(std::string token, IssueLinkToken(txn, now, policy.reset_ttl, link));
  return NotifyAccount(txn, now, account, mail::MailKind::kPasswordReset,
                       {{"link", LinkUrl(policy.link_base_url, "reset-password", token)},
                        {"expires", FormatDeadline(now + policy.reset_ttl)}});
}

v1::NoticeKind NoticeKindOf(mail::MailKind kind) {
  switch (kind) {
    case mail::MailKind::kHabilitationGranted:
    case mail::MailKind::kHabilitationRevoked:
    case mail::MailKind::kHabilitationExpiring:
      return v1::HABILITATION_NOTICES;
    case mail::MailKind::kDelegationGranted:
    case mail::MailKind::kDelegationRevoked:
      return v1::DELEGATION_NOTICES;
    case mail::MailKind::kTransfer:
      return v1::TRANSFER_NOTICES;
    case mail::MailKind::kDeletionApproved:
    case mail::MailKind::kDeletionRefused:
      return v1::DELETION_REQUEST_NOTICES;
    default:
      return v1::NOTICE_KIND_UNSPECIFIED;
  }
}

absl::Status NotifyAccount(store::Transaction& txn, absl::Time now, const v1::Account& account, mail::MailKind kind,
                           std::map<std::string, std::string> params) {
  const v1::NoticeKind notice = NoticeKindOf(kind);
  if (notice != v1::NOTICE_KIND_UNSPECIFIED &&
      (account.mute_notifications() || absl::c_linear_search(account.muted_notices(), notice))) {
    return absl::OkStatus();
  }
  params.emplace("name", absl::StrCat(account.given_name(), " ", account.family_name()));
  params.emplace("login", account.login_email());
  const std::string& to = mail::ProvesIdentity(kind) || account.notification_email().empty()
                              ? account.login_email()
                              : account.notification_email();
  return mail::Enqueue(txn, now, to, kind, account.language(), params);
}

absl::Status ActivateAccount(store::Transaction& txn, internal::AccountRecord& record, absl::Time now,
                             const IdentityPolicy& policy, absl::string_view siret) {
  v1::Account& account = *record.mutable_account();
  account.set_state(v1::Account::ACTIVE);
  RETURN_IF_ERROR(SaveAccount(txn, record, now));
  if (record.has_joining()) return OfferJoin(txn, record, now, policy, siret);
  if (!record.password_hash().empty()) return absl::OkStatus();
  std::optional<std::string> id = ParseAccountName(account.name());
  if (!id) return absl::InternalError("an account without a name");
  internal::LinkTokenRecord link;
  link.set_kind(internal::LinkTokenRecord::ACTIVATION);
  link.set_subject(*id);
  ASSIGN_OR_RETURN(std::string token, IssueLinkToken(txn, now, policy.activation_ttl, link));
  ASSIGN_OR_RETURN(std::string structure, StructureDisplayName(txn, siret));
  return NotifyAccount(txn, now, account, mail::MailKind::kActivation,
                       {{"link", LinkUrl(policy.link_base_url, "activate", token)},
                        {"structure", structure},
                        {"expires", FormatDeadline(now + policy.activation_ttl)}});
}

bool ConsentIsCurrent(const v1::Account& account, absl::string_view version) {
  if (!account.has_privacy_consent_time()) return false;
  absl::string_view accepted = account.privacy_policy_version();
  return (accepted.empty() ? absl::string_view("1") : accepted) == version;
}

void SetPassword(internal::AccountRecord& record, std::string password_hash, absl::Time now,
                 const PasswordPolicy& policy) {
  record.set_password_hash(std::move(password_hash));
  v1::Account& account = *record.mutable_account();
  SetTimestamp(now, account.mutable_password_change_time());
  if (policy.max_age > absl::ZeroDuration()) {
    SetTimestamp(now + policy.max_age, account.mutable_password_expire_time());
  } else {
    account.clear_password_expire_time();
  }
  ClearLock(account);
}

void ClearLock(v1::Account& account) {
  account.set_failed_login_attempts(0);
  account.clear_locked_until();
}

absl::Status EndAllSessions(store::Transaction& txn, absl::string_view account_id) {
  RETURN_IF_ERROR(TouchGuard(txn, store::AccountGuardKey(account_id)));
  std::vector<std::string> sessions;
  const std::string prefix = store::AccountSessionPrefix(account_id);
  RETURN_IF_ERROR(store::ScanPrefix(txn, prefix, [&](absl::string_view key, absl::string_view) {
    sessions.push_back(store::LastComponent(key, prefix));
    return true;
  }));
  for (const std::string& session : sessions) {
    RETURN_IF_ERROR(txn.Delete(store::SessionKey(session)));
    RETURN_IF_ERROR(txn.Delete(store::AccountSessionKey(account_id, session)));
  }
  return absl::OkStatus();
}

absl::Status DeleteAccountEverywhere(store::Transaction& txn, absl::string_view account_id,
                                     const internal::AccountRecord& record) {
  RETURN_IF_ERROR(TouchGuard(txn, store::AccountGuardKey(account_id)));
  ASSIGN_OR_RETURN(std::vector<v1::Membership> memberships, MembershipsOf(txn, account_id));
  const std::string& login = record.account().login_email();
  for (const v1::Membership& m : memberships) {
    RETURN_IF_ERROR(RemoveGrants(txn, SiretOf(m), account_id));
    RETURN_IF_ERROR(DeleteMembership(txn, account_id, m));
    if (record.has_joining()) {
      RETURN_IF_ERROR(txn.Delete(store::JoiningLoginKey(SiretOf(m), ConfusableSkeleton(FoldEmail(login)))));
    }
  }
  RETURN_IF_ERROR(EndAllSessions(txn, account_id));
  if (!record.has_joining()) RETURN_IF_ERROR(DeleteLogin(txn, login));
  return txn.Delete(store::AccountKey(account_id));
}

absl::StatusOr<std::string> StructureDisplayName(store::Reader& reader, absl::string_view siret) {
  v1::Structure structure;
  return DisplayNameAt(reader, store::StructureKey(siret), structure, siret);
}

}  // namespace habilis::domain
