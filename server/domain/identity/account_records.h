// What accounts, sessions and invitations share about an account: its fields' rules, loading and saving
// it, e-mailing it, and removing it with everything that hangs off it.
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_ACCOUNT_RECORDS_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_ACCOUNT_RECORDS_H_

#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "authz/principal.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/accounts.pb.h"
#include "server/common/errors.h"
#include "server/domain/kernel/policy.h"
#include "server/mail/templates.h"
#include "store/store.h"

namespace habilis::domain {

// A plausible e-mail address: one '@', a dotted domain, no spaces, at most 254 characters.
bool IsEmail(absl::string_view email);
// Up to 30 digits, spaces and + . - ( ).
bool IsPhone(absl::string_view phone);
// The form under which logins are unique: trimmed, ASCII lower case.
std::string FoldEmail(absl::string_view email);

// Every rule on an account's own fields (NEW-CREATE), reported under `prefix` ("account").
void CheckAccountFields(FieldViolations& violations, absl::string_view prefix, const v1::Account& account);
// Trims the text fields, lower-cases the e-mails, fills the defaults (language fr, country FR).
void NormalizeAccount(v1::Account& account);
// The fields a person may change about himself (SELF): all but the login, the state and output-only fields.
const std::set<std::string, std::less<>>& PersonalFields();

// NOT_FOUND ACCOUNT_NOT_FOUND if absent.
[[nodiscard]] absl::StatusOr<internal::AccountRecord> LoadAccount(store::Reader& reader, absl::string_view account_id);
// Writes the record with a new update time and etag (memberships are not stored in it).
[[nodiscard]] absl::Status SaveAccount(store::Transaction& txn, internal::AccountRecord& record, absl::Time now);
// The account id owning `login_email`, or nullopt.
// Writes the login of an account: the login key (unique ignoring case) and its look-alike key (unique on the
// confusable skeleton, identifiers.h). ALREADY_EXISTS LOGIN_CONFUSABLE when another account's login looks like
// it. Every path that creates an account writes its login here.
[[nodiscard]] absl::Status PutLogin(store::Transaction& txn, absl::string_view login_email,
                                    absl::string_view account_id);
[[nodiscard]] absl::Status DeleteLogin(store::Transaction& txn, absl::string_view login_email);
// «Modifier l'utilisateur»: `account_id` logs in with `to` instead of `from`. ALREADY_EXISTS LOGIN_TAKEN when
// another account has `to`, LOGIN_CONFUSABLE when another's login looks like it.
[[nodiscard]] absl::Status ReplaceLogin(store::Transaction& txn, absl::string_view account_id, absl::string_view from,
                                        absl::string_view to);
// The login of a joining account (new_members.h), which is not in the login index: unique, among look-alikes,
// within `siret`.
[[nodiscard]] absl::Status PutJoiningLogin(store::Transaction& txn, absl::string_view siret,
                                           absl::string_view login_email, absl::string_view account_id);
// Migration 1 -> 2 (server/tools/migrations.cc): gives every login its look-alike key where it has none (stores
// written before look-alike keys existed). Idempotent; in commits of 10,000 logins.
[[nodiscard]] absl::Status BuildLoginLookalikeIndex(store::Store& store);

[[nodiscard]] absl::StatusOr<std::optional<std::string>> AccountIdByLogin(store::Reader& reader,
                                                                          absl::string_view login_email);
// The account as the API shows it: with its memberships, its password expiry computed.
[[nodiscard]] absl::StatusOr<v1::Account> AccountView(store::Reader& reader, const internal::AccountRecord& record);
// The account as `viewer` may see it (SVC-LIST, seed 000 «détail du compte (hors numéro de téléphone)»): the
// account himself and operators see all of it; anyone else sees the memberships of the structures he acts in
// only, and no phone numbers: one client company of an accounting firm does not learn the firm's other
// clients. Every answer about another person goes through it.
[[nodiscard]] absl::StatusOr<v1::Account> AccountViewFor(store::Reader& reader, const authz::Principal& viewer,
                                                         const internal::AccountRecord& record);
void ClearPhones(v1::Account& account);

// PWD: e-mails a single-use link that sets a new password to the account's login (never the notification
// e-mail: SECRETS). "Forgot password" and an administrator's reset both send it.
[[nodiscard]] absl::Status MailPasswordReset(store::Transaction& txn, absl::Time now, const IdentityPolicy& policy,
                                             absl::string_view account_id, const v1::Account& account);

// Queues `kind` for the account, to its notification e-mail if set, else its login, in its language.
// A notice (a kind NoticeKindOf names) is not sent when the account muted it, or every notice
// (mute_notifications); links, codes and identifiers always are.
[[nodiscard]] absl::Status NotifyAccount(store::Transaction& txn, absl::Time now, const v1::Account& account,
                                         mail::MailKind kind, std::map<std::string, std::string> params);

// The preference that stops mails of `kind` (seed 001 «Gérez les notifications»); UNSPECIFIED for mails
// that are no notices.
v1::NoticeKind NoticeKindOf(mail::MailKind kind);

// FIRST-LOGIN: whether the account accepted `version` of the privacy policy. Consents recorded before versions
// were (no privacy_policy_version) count as version "1".
bool ConsentIsCurrent(const v1::Account& account, absl::string_view version);

// Sets a new password hash, with its change time, and clears failures and locks.
void SetPassword(internal::AccountRecord& record, std::string password_hash, absl::Time now,
                 const PasswordPolicy& policy);

// NEW-ACTIVATE: makes the account ACTIVE and saves it; while it has no password, e-mails it a single-use
// activation link naming `siret`'s structure. A joining account's person is offered to join instead
// (OfferJoin): the answer is the same.
[[nodiscard]] absl::Status ActivateAccount(store::Transaction& txn, internal::AccountRecord& record, absl::Time now,
                                           const IdentityPolicy& policy, absl::string_view siret);

// Ends every session of the account.
// PWD: forgets the failed attempts and lifts the lock (a success, a new password, an unlock).
void ClearLock(v1::Account& account);

[[nodiscard]] absl::Status EndAllSessions(store::Transaction& txn, absl::string_view account_id);
// Removes the account, its login, memberships and sessions (DEL-REQUEST). Irreversible. A joining account's
// login key is its structure's (PutJoiningLogin); the login index is left to the account that owns it.
[[nodiscard]] absl::Status DeleteAccountEverywhere(store::Transaction& txn, absl::string_view account_id,
                                                   const internal::AccountRecord& record);

// The display name of a structure for e-mails, or its SIRET if the structure is gone; a failed read is an error.
absl::StatusOr<std::string> StructureDisplayName(store::Reader& reader, absl::string_view siret);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_ACCOUNT_RECORDS_H_
