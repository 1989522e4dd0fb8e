#include "server/domain/identity/sessions.h"

#include <openssl/crypto.h>

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/commands/audit_log.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/identity/link_tokens.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

using internal::AccountRecord;
using internal::LinkTokenRecord;
using internal::SessionRecord;

constexpr absl::string_view kSessionPrefix = "hbs_";
constexpr size_t kSessionIdHex = 16;

absl::Status LoginFailed() {
  return Error(absl::StatusCode::kUnauthenticated, "LOGIN_FAILED",
               "wrong login or password, or the account cannot log in now; after several failures the account "
               "locks for a while; use 'forgot password' if needed");
}

absl::Status SessionInvalid() {
  return Error(absl::StatusCode::kUnauthenticated, "CREDENTIALS_INVALID",
               "the session is not valid (ended, expired or unknown); log in again");
}

bool SameDigest(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool IsAdministratorAnywhere(const std::vector<v1::Membership>& memberships) {
  for (const v1::Membership& m : memberships) {
    if (m.role() == v1::ADMINISTRATOR) return true;
  }
  return false;
}

bool PasswordExpired(const v1::Account& account, absl::Time now) {
  return account.has_password_expire_time() && FromTimestamp(account.password_expire_time()) <= now;
}

absl::Status NeedsAccountSession(const authz::Principal& caller) {
  if (caller.kind == authz::PrincipalKind::kAccount && !caller.session_id.empty()) return absl::OkStatus();
  return Error(absl::StatusCode::kFailedPrecondition, "NOT_A_SESSION",
               "this call is for a person logged in with a session token");
}

}  // namespace

bool Sessions::LooksLikeSessionToken(absl::string_view bearer) { return absl::StartsWith(bearer, kSessionPrefix); }

absl::Status Sessions::OpenSession(store::Transaction& txn, absl::string_view account_id,
                                   absl::string_view device_label, v1::DeviceKind device_kind,
                                   v1::LoginResponse& response) {
  absl::Time now = clock_.Now();
  const std::string session_id = RandomHex(kSessionIdHex / 2);
  const std::string secret = RandomBase64Url(32);
  SessionRecord record;
  record.set_account_id(std::string(account_id));
  record.mutable_session()->set_name(SessionName(account_id, session_id));
  record.mutable_session()->set_device_label(NormalizeSpaces(device_label));
  record.mutable_session()->set_device_kind(device_kind == v1::DEVICE_KIND_UNSPECIFIED ? v1::BROWSER : device_kind);
  SetTimestamp(now, record.mutable_session()->mutable_create_time());
  SetTimestamp(now, record.mutable_session()->mutable_last_use_time());
  record.set_secret_sha256(Sha256(secret));
  SetTimestamp(now + policy_.session_lifetime, record.mutable_expire_time());
  // The account's guard: a deactivation or a password change that ends the account's sessions meanwhile
  // runs again and ends this one too.
  RETURN_IF_ERROR(txn.ProtectRange(store::AccountGuardKey(account_id)));
  RETURN_IF_ERROR(StoreRecord(txn, store::SessionKey(session_id), record));
  RETURN_IF_ERROR(txn.Put(store::AccountSessionKey(account_id, session_id), ""));

  ASSIGN_OR_RETURN(AccountRecord account, LoadAccount(txn, account_id));
  SetTimestamp(now, account.mutable_account()->mutable_last_login_time());  // seed 003 «Dernière connexion»
  RETURN_IF_ERROR(SaveAccount(txn, account, now));
  ASSIGN_OR_RETURN(*response.mutable_account(), AccountView(txn, account));
  response.set_session_token(absl::StrCat(kSessionPrefix, session_id, "_", secret));
  *response.mutable_session() = record.session();
  response.mutable_session()->set_current(true);
  response.set_privacy_consent_required(!ConsentIsCurrent(account.account(), policy_.privacy_policy_version));
  response.set_privacy_policy_version(policy_.privacy_policy_version);
  response.set_password_change_required(PasswordExpired(account.account(), now));
  return absl::OkStatus();
}

absl::Status Sessions::Login(const v1::LoginRequest& request, v1::LoginResponse& response) {
  FieldViolations violations;
  if (request.login_email().empty()) violations.Add("login_email", "REQUIRED", "is required");
  if (request.password().empty()) violations.Add("password", "REQUIRED", "is required");
  CheckText(violations, "device_label", request.device_label(), 100, true);
  RETURN_IF_ERROR(violations.ToStatus());

  // Read, then verify outside any transaction: Argon2 is slow on purpose.
  std::optional<std::string> id;
  AccountRecord seen;
  RETURN_IF_ERROR(store_
                      .Read([&](store::Reader& reader) -> absl::Status {
                        ASSIGN_OR_RETURN(id, AccountIdByLogin(reader, request.login_email()));
                        if (id) {
                          ASSIGN_OR_RETURN(seen, LoadAccount(reader, *id));
                        }
                        return absl::OkStatus();
                      })
                      .status());
  if (!id || seen.password_hash().empty()) {
    // As long as a failure for a known login: one Argon2 verification and one commit.
    VerifyAgainstNothing(request.password());
    RETURN_IF_ERROR(store_.Update([](store::Transaction&) { return absl::OkStatus(); }).status());
    return LoginFailed();
  }
  const bool password_ok = VerifyPassword(request.password(), seen.password_hash());

  bool failed = false;
  RETURN_IF_ERROR(
      AuditedUpdate(store_, {AccountName(*id), "habilis.v1.Login", ""}, [&](store::Transaction& txn) -> absl::Status {
        response.Clear();
        failed = true;
        absl::Time now = clock_.Now();
        ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, *id));
        if (record.password_hash() != seen.password_hash()) {
          return Error(absl::StatusCode::kAborted, "CONCURRENT_MODIFICATION",
                       "the password changed during the login; try again");
        }
        v1::Account& account = *record.mutable_account();
        if (account.state() != v1::Account::ACTIVE) return absl::OkStatus();
        if (account.has_locked_until() && FromTimestamp(account.locked_until()) > now) {
          return absl::OkStatus();  // refused without counting: the lock runs its course
        }
        if (!password_ok) return CountFailure(txn, *id, record, now);
        failed = false;
        if (account.failed_login_attempts() != 0 || account.has_locked_until()) {
          ClearLock(account);
          RETURN_IF_ERROR(SaveAccount(txn, record, now));
        }
        ASSIGN_OR_RETURN(std::vector<v1::Membership> memberships, MembershipsOf(txn, *id));
        if (!(policy_.login_code_for_administrators && IsAdministratorAnywhere(memberships))) {
          return OpenSession(txn, *id, request.device_label(), request.device_kind(), response);
        }
        return SendLoginCode(txn, *id, account, request, now, response);
      }).status());
  if (failed) {
    response.Clear();
    return LoginFailed();
  }
  return absl::OkStatus();
}

// LOGIN-CODE: the session opens once the e-mailed code comes back.
absl::Status Sessions::SendLoginCode(store::Transaction& txn, absl::string_view account_id, const v1::Account& account,
                                     const v1::LoginRequest& login, absl::Time now, v1::LoginResponse& response) {
  const std::string code = RandomDigits(6);
  LinkTokenRecord challenge;
  challenge.set_kind(LinkTokenRecord::LOGIN_CODE);
  challenge.set_subject(std::string(account_id));
  challenge.set_code_sha256(Sha256(code));
  challenge.set_device_label(login.device_label());
  challenge.set_device_kind(login.device_kind());
  ASSIGN_OR_RETURN(std::string token, IssueLinkToken(txn, now, policy_.login_code_ttl, challenge));
  response.set_code_challenge(token);
  return NotifyAccount(txn, now, account, mail::MailKind::kLoginCode,
                       {{"code", code}, {"expires", FormatDeadline(now + policy_.login_code_ttl)}});
}

absl::Status Sessions::CountFailure(store::Transaction& txn, absl::string_view account_id, AccountRecord& record,
                                    absl::Time now) {
  v1::Account& account = *record.mutable_account();
  account.set_failed_login_attempts(account.failed_login_attempts() + 1);
  absl::Duration lock = LockDuration(policy_.passwords, account.failed_login_attempts());
  if (lock <= absl::ZeroDuration()) return SaveAccount(txn, record, now);
  SetTimestamp(now + lock, account.mutable_locked_until());
  RETURN_IF_ERROR(SaveAccount(txn, record, now));
  // Anyone who knows a login can lock it with a few guesses: its owner lifts the lock at once with the link
  // sent to the login e-mail. One per lock, since attempts during a lock are not counted.
  LinkTokenRecord link;
  link.set_kind(LinkTokenRecord::UNLOCK);
  link.set_subject(std::string(account_id));
  ASSIGN_OR_RETURN(std::string token, IssueLinkToken(txn, now, policy_.unlock_ttl, link));
  return NotifyAccount(txn, now, account, mail::MailKind::kUnlock,
                       {{"link", LinkUrl(policy_.link_base_url, "unlock", token)},
                        {"until", FormatDeadline(now + lock)},
                        {"expires", FormatDeadline(now + policy_.unlock_ttl)}});
}

absl::Status Sessions::UnlockWithLink(const v1::UnlockWithLinkRequest& request, v1::UnlockWithLinkResponse& response) {
  v1::ChangeSummary summary;
  absl::StatusOr<store::Revision> revision = AuditedUpdate(
      store_, {"anonymous", "habilis.v1.UnlockWithLink", ""},
      [&](store::Transaction& txn) -> absl::Status {
        response.Clear();
        absl::Time now = clock_.Now();
        std::string id;
        ASSIGN_OR_RETURN(LinkTokenRecord link,
                         ReadLinkToken(txn, now, request.link_token(), {LinkTokenRecord::UNLOCK}, "link_token", &id));
        ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, link.subject()));
        ClearLock(*record.mutable_account());
        RETURN_IF_ERROR(SaveAccount(txn, record, now));
        RETURN_IF_ERROR(SpendLinkToken(txn, now, id, link));
        response.set_login_email(record.account().login_email());
        return absl::OkStatus();
      },
      {.dry_run = request.validate_only()}, &summary);
  if (revision.ok() && request.validate_only()) *response.mutable_change_summary() = std::move(summary);
  return revision.status();
}

absl::Status Sessions::ConfirmLoginCode(const v1::ConfirmLoginCodeRequest& request,
                                        v1::ConfirmLoginCodeResponse& response) {
  if (request.code().size() != 6) return InvalidField("code", "CODE_FORMAT", "is the 6-digit code sent by e-mail");
  bool wrong_code = false;
  int tries_left = 0;
  RETURN_IF_ERROR(AuditedUpdate(store_, {"anonymous", "habilis.v1.ConfirmLoginCode", ""},
                                [&](store::Transaction& txn) -> absl::Status {
                                  response.Clear();
                                  wrong_code = false;
                                  absl::Time now = clock_.Now();
                                  std::string id;
                                  ASSIGN_OR_RETURN(LinkTokenRecord challenge,
                                                   ReadLinkToken(txn, now, request.code_challenge(),
                                                                 {LinkTokenRecord::LOGIN_CODE}, "code_challenge", &id));
                                  if (!SameDigest(Sha256(request.code()), challenge.code_sha256())) {
                                    wrong_code = true;
                                    challenge.set_failed_tries(challenge.failed_tries() + 1);
                                    tries_left = policy_.login_code_max_tries - challenge.failed_tries();
                                    if (tries_left <= 0) return SpendLinkToken(txn, now, id, challenge);
                                    return StoreRecord(txn, store::LinkTokenKey(id), challenge);
                                  }
                                  RETURN_IF_ERROR(SpendLinkToken(txn, now, id, challenge));
                                  ASSIGN_OR_RETURN(AccountRecord account, LoadAccount(txn, challenge.subject()));
                                  if (account.account().state() != v1::Account::ACTIVE) return LoginFailed();
                                  return OpenSession(txn, challenge.subject(), challenge.device_label(),
                                                     challenge.device_kind(), *response.mutable_login());
                                })
                      .status());
  if (wrong_code) {
    response.Clear();
    return Error(absl::StatusCode::kUnauthenticated, "LOGIN_CODE_INVALID",
                 tries_left > 0 ? absl::StrCat("wrong code; ", tries_left, " tries left")
                                : std::string("wrong code; this login attempt is over: log in again"));
  }
  return absl::OkStatus();
}

absl::StatusOr<store::Revision> Sessions::Logout(const authz::Principal& caller, const v1::LogoutRequest& request,
                                                 v1::LogoutResponse& response) {
  RETURN_IF_ERROR(NeedsAccountSession(caller));
  return AuditedUpdate(
      store_, AuditContextOf(caller, request, ""),
      [&](store::Transaction& txn) -> absl::Status {
        RETURN_IF_ERROR(txn.Delete(store::SessionKey(caller.session_id)));
        return txn.Delete(store::AccountSessionKey(caller.id, caller.session_id));
      },
      {.dry_run = request.validate_only()}, request.validate_only() ? response.mutable_change_summary() : nullptr);
}

absl::Status Sessions::ListSessions(const authz::Principal& caller, const v1::ListSessionsRequest& request,
                                    v1::ListSessionsResponse& response) {
  std::optional<std::string> id = ParseAccountName(request.parent());
  if (!id) return InvalidField("parent", "NAME_FORMAT", "must be accounts/{account}");
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        RETURN_IF_ERROR(LoadAccount(reader, *id).status());
        std::vector<std::string> sessions;
        const std::string prefix = store::AccountSessionPrefix(*id);
        RETURN_IF_ERROR(store::ScanPrefix(reader, prefix, [&](absl::string_view key, absl::string_view) {
          sessions.push_back(store::LastComponent(key, prefix));
          return true;
        }));
        for (const std::string& session_id : sessions) {
          SessionRecord record;
          RETURN_IF_ERROR(LoadRecord(reader, store::SessionKey(session_id), record, "SESSION_NOT_FOUND", ""));
          v1::Session* session = response.add_sessions();
          *session = record.session();
          session->set_current(session_id == caller.session_id);
        }
        return absl::OkStatus();
      })
      .status();
}

absl::StatusOr<store::Revision> Sessions::EndSession(const authz::Principal& caller,
                                                     const v1::EndSessionRequest& request,
                                                     v1::EndSessionResponse& response) {
  std::optional<SessionNameParts> name = ParseSessionName(request.name());
  if (!name) return InvalidField("name", "NAME_FORMAT", "must be accounts/{account}/sessions/{session}");
  const store::UpdateOptions options{.dry_run = request.validate_only()};
  v1::ChangeSummary* summary = request.validate_only() ? response.mutable_change_summary() : nullptr;
  return AuditedUpdate(
      store_, AuditContextOf(caller, request, ""),
      [&](store::Transaction& txn) -> absl::Status {
        SessionRecord record;
        absl::Status loaded = LoadRecord(txn, store::SessionKey(name->session_id), record, "", "");
        if (absl::IsNotFound(loaded) || (loaded.ok() && record.account_id() != name->account_id)) {
          return Error(absl::StatusCode::kNotFound, "SESSION_NOT_FOUND", "this session has already ended");
        }
        RETURN_IF_ERROR(loaded);
        RETURN_IF_ERROR(txn.Delete(store::SessionKey(name->session_id)));
        return txn.Delete(store::AccountSessionKey(name->account_id, name->session_id));
      },
      options, summary);
}

absl::StatusOr<store::Revision> Sessions::AcceptPrivacyPolicy(const authz::Principal& caller,
                                                              const v1::AcceptPrivacyPolicyRequest& request,
                                                              v1::AcceptPrivacyPolicyResponse& response) {
  RETURN_IF_ERROR(NeedsAccountSession(caller));
  if (!request.version().empty() && request.version() != policy_.privacy_policy_version) {
    return Error(absl::StatusCode::kFailedPrecondition, "PRIVACY_POLICY_CHANGED",
                 absl::StrCat("the privacy policy in force is version ", policy_.privacy_policy_version,
                              "; show it and ask again"));
  }
  v1::ChangeSummary summary;
  absl::StatusOr<store::Revision> revision = AuditedUpdate(
      store_, AuditContextOf(caller, request, ""),
      [&](store::Transaction& txn) -> absl::Status {
        response.Clear();
        ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, caller.id));
        absl::Time now = clock_.Now();
        if (!ConsentIsCurrent(record.account(), policy_.privacy_policy_version)) {
          SetTimestamp(now, record.mutable_account()->mutable_privacy_consent_time());
          record.mutable_account()->set_privacy_policy_version(policy_.privacy_policy_version);
          RETURN_IF_ERROR(SaveAccount(txn, record, now));
        }
        ASSIGN_OR_RETURN(*response.mutable_account(), AccountView(txn, record));
        return absl::OkStatus();
      },
      {.dry_run = request.validate_only()}, &summary);
  if (revision.ok() && request.validate_only()) *response.mutable_change_summary() = std::move(summary);
  return revision;
}

absl::StatusOr<store::Revision> Sessions::ChangePassword(const authz::Principal& caller,
                                                         const v1::ChangePasswordRequest& request,
                                                         v1::ChangePasswordResponse& response) {
  RETURN_IF_ERROR(NeedsAccountSession(caller));
  AccountRecord seen;
  RETURN_IF_ERROR(store_
                      .Read([&](store::Reader& reader) -> absl::Status {
                        ASSIGN_OR_RETURN(seen, LoadAccount(reader, caller.id));
                        return absl::OkStatus();
                      })
                      .status());
  if (!VerifyPassword(request.current_password(), seen.password_hash())) {
    return InvalidField("current_password", "PASSWORD_MISMATCH", "is not the current password");
  }
  if (request.new_password() == request.current_password()) {
    return InvalidField("new_password", "PASSWORD_UNCHANGED", "must differ from the current password");
  }
  RETURN_IF_ERROR(
      CheckPasswordStrength(policy_.passwords, "new_password", request.new_password(), seen.account().login_email()));
  const std::string hash = HashPassword(request.new_password());
  return AuditedUpdate(
      store_, {ActorOf(caller), "habilis.v1.ChangePassword", ""}, [&](store::Transaction& txn) -> absl::Status {
        response.Clear();
        ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, caller.id));
        if (record.password_hash() != seen.password_hash()) {
          return Error(absl::StatusCode::kAborted, "CONCURRENT_MODIFICATION", "the password changed meanwhile; retry");
        }
        absl::Time now = clock_.Now();
        SetPassword(record, hash, now, policy_.passwords);
        RETURN_IF_ERROR(SaveAccount(txn, record, now));
        // The other devices log in again with the new password.
        std::vector<std::string> others;
        RETURN_IF_ERROR(TouchGuard(txn, store::AccountGuardKey(caller.id)));
        const std::string prefix = store::AccountSessionPrefix(caller.id);
        RETURN_IF_ERROR(store::ScanPrefix(txn, prefix, [&](absl::string_view key, absl::string_view) {
          std::string session = store::LastComponent(key, prefix);
          if (session != caller.session_id) others.push_back(session);
          return true;
        }));
        for (const std::string& session : others) {
          RETURN_IF_ERROR(txn.Delete(store::SessionKey(session)));
          RETURN_IF_ERROR(txn.Delete(store::AccountSessionKey(caller.id, session)));
        }
        ASSIGN_OR_RETURN(*response.mutable_account(), AccountView(txn, record));
        return absl::OkStatus();
      });
}

absl::Status Sessions::RequestPasswordReset(const v1::RequestPasswordResetRequest& request) {
  if (!IsEmail(request.login_email())) {
    return InvalidField("login_email", "EMAIL_FORMAT", "must be an e-mail address");
  }
  // Known or not, the call commits once, so that its duration tells nothing.
  return AuditedUpdate(store_, {"anonymous", "habilis.v1.RequestPasswordReset", ""},
                       [&](store::Transaction& txn) -> absl::Status {
                         ASSIGN_OR_RETURN(std::optional<std::string> id, AccountIdByLogin(txn, request.login_email()));
                         if (!id) return absl::OkStatus();
                         ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, *id));
                         if (record.account().state() != v1::Account::ACTIVE) return absl::OkStatus();
                         return MailPasswordReset(txn, clock_.Now(), policy_, *id, record.account());
                       })
      .status();
}

absl::Status Sessions::SetPasswordWithLink(const v1::SetPasswordWithLinkRequest& request,
                                           v1::SetPasswordWithLinkResponse& response) {
  std::string login;
  RETURN_IF_ERROR(store_
                      .Read([&](store::Reader& reader) -> absl::Status {
                        std::string id;
                        ASSIGN_OR_RETURN(LinkTokenRecord link,
                                         ReadLinkToken(reader, clock_.Now(), request.link_token(),
                                                       {LinkTokenRecord::ACTIVATION, LinkTokenRecord::PASSWORD_RESET},
                                                       "link_token", &id));
                        ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(reader, link.subject()));
                        login = record.account().login_email();
                        return absl::OkStatus();
                      })
                      .status());
  RETURN_IF_ERROR(CheckPasswordStrength(policy_.passwords, "new_password", request.new_password(), login));
  const std::string hash = HashPassword(request.new_password());
  v1::ChangeSummary summary;
  absl::StatusOr<store::Revision> revision = AuditedUpdate(
      store_, {"anonymous", "habilis.v1.SetPasswordWithLink", ""},
      [&](store::Transaction& txn) -> absl::Status {
        absl::Time now = clock_.Now();
        std::string id;
        ASSIGN_OR_RETURN(
            LinkTokenRecord link,
            ReadLinkToken(txn, now, request.link_token(),
                          {LinkTokenRecord::ACTIVATION, LinkTokenRecord::PASSWORD_RESET}, "link_token", &id));
        ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, link.subject()));
        if (record.account().state() != v1::Account::ACTIVE) {
          return Error(absl::StatusCode::kFailedPrecondition, "ACCOUNT_NOT_ACTIVE",
                       "the account is not active; ask an administrator to activate it");
        }
        SetPassword(record, hash, now, policy_.passwords);
        RETURN_IF_ERROR(SaveAccount(txn, record, now));
        RETURN_IF_ERROR(SpendLinkToken(txn, now, id, link));
        RETURN_IF_ERROR(EndAllSessions(txn, link.subject()));
        response.set_login_email(record.account().login_email());
        return absl::OkStatus();
      },
      {.dry_run = request.validate_only()}, &summary);
  if (revision.ok() && request.validate_only()) *response.mutable_change_summary() = std::move(summary);
  return revision.status();
}

void Sessions::RecordUse(const std::string& session_id, absl::Time now) const {
  absl::Status written = store_
                             .Update([&](store::Transaction& txn) -> absl::Status {
                               SessionRecord session;
                               absl::Status loaded = LoadRecord(txn, store::SessionKey(session_id), session, "", "");
                               if (absl::IsNotFound(loaded)) return absl::OkStatus();  // ended meanwhile
                               RETURN_IF_ERROR(loaded);
                               SetTimestamp(now, session.mutable_session()->mutable_last_use_time());
                               return StoreRecord(txn, store::SessionKey(session_id), session);
                             })
                             .status();
  // The call goes on: its last use is bookkeeping, and the next call after the step tries again.
  if (!written.ok()) std::cerr << "habilisd: a session's last use was not recorded: " << written << std::endl;
}

absl::StatusOr<authz::Principal> Sessions::Authenticate(absl::string_view bearer) const {
  if (!LooksLikeSessionToken(bearer) || bearer.size() < kSessionPrefix.size() + kSessionIdHex + 2 ||
      bearer[kSessionPrefix.size() + kSessionIdHex] != '_') {
    return SessionInvalid();
  }
  const std::string session_id(bearer.substr(kSessionPrefix.size(), kSessionIdHex));
  const std::string digest = Sha256(bearer.substr(kSessionPrefix.size() + kSessionIdHex + 1));
  absl::Time now = clock_.Now();
  authz::Principal principal;
  bool stale_use = false;
  absl::Status status =
      store_
          .Read([&](store::Reader& reader) -> absl::Status {
            SessionRecord session;
            absl::Status loaded = LoadRecord(reader, store::SessionKey(session_id), session, "", "");
            if (absl::IsNotFound(loaded)) return SessionInvalid();
            RETURN_IF_ERROR(loaded);
            if (!SameDigest(digest, session.secret_sha256()) || FromTimestamp(session.expire_time()) <= now) {
              return SessionInvalid();
            }
            absl::StatusOr<AccountRecord> account = LoadAccount(reader, session.account_id());
            if (!account.ok() || account->account().state() != v1::Account::ACTIVE) {
              return SessionInvalid();
            }
            ASSIGN_OR_RETURN(std::vector<v1::Membership> memberships, MembershipsOf(reader, session.account_id()));
            authz::Restriction restriction = authz::Restriction::kNone;
            if (!ConsentIsCurrent(account->account(), policy_.privacy_policy_version)) {
              restriction = authz::Restriction::kConsentRequired;
            } else if (PasswordExpired(account->account(), now)) {
              restriction = authz::Restriction::kPasswordChangeRequired;
            }
            principal = authz::Principal::Account(session.account_id(), ActingMemberships(memberships), session_id,
                                                  restriction);
            stale_use = !session.session().has_last_use_time() ||
                        now - FromTimestamp(session.session().last_use_time()) >= policy_.session_last_use_step;
            return absl::OkStatus();
          })
          .status();
  RETURN_IF_ERROR(status);
  if (stale_use) RecordUse(session_id, now);
  return principal;
}

}  // namespace habilis::domain
