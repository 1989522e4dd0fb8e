// Human login and sessions: LOGIN-CODE, FIRST-LOGIN, PWD, DEVICES.
//
// A session token reads "hbs_<session id>_<secret>" (64 + 256 random bits); only the SHA-256 of the secret is
// stored. Every call re-reads the session and its account, so a logout, an ended session, a deactivation or
// a deletion takes effect on the very next call.
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_SESSIONS_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_SESSIONS_H_

#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/sessions.pb.h"
#include "server/common/clock.h"
#include "server/domain/kernel/policy.h"
#include "store/store.h"

namespace habilis::domain {

class Sessions {
 public:
  Sessions(store::Store& store, const Clock& clock, const IdentityPolicy& policy)
      : store_(store), clock_(clock), policy_(policy) {}

  // UNAUTHENTICATED LOGIN_FAILED for a wrong password, an unknown login, an account that is not active
  // or locked: the answer never tells which. Failures count and lock the account (PasswordPolicy).
  [[nodiscard]] absl::Status Login(const v1::LoginRequest& request, v1::LoginResponse& response);
  [[nodiscard]] absl::Status ConfirmLoginCode(const v1::ConfirmLoginCodeRequest& request,
                                              v1::ConfirmLoginCodeResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> Logout(const authz::Principal& caller, const v1::LogoutRequest& request,
                                                       v1::LogoutResponse& response);
  [[nodiscard]] absl::Status ListSessions(const authz::Principal& caller, const v1::ListSessionsRequest& request,
                                          v1::ListSessionsResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> EndSession(const authz::Principal& caller,
                                                           const v1::EndSessionRequest& request,
                                                           v1::EndSessionResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> AcceptPrivacyPolicy(const authz::Principal& caller,
                                                                    const v1::AcceptPrivacyPolicyRequest& request,
                                                                    v1::AcceptPrivacyPolicyResponse& response);
  // Ends the account's other sessions.
  [[nodiscard]] absl::StatusOr<store::Revision> ChangePassword(const authz::Principal& caller,
                                                               const v1::ChangePasswordRequest& request,
                                                               v1::ChangePasswordResponse& response);
  // Always answers OK; e-mails a reset link when the login belongs to an active account.
  [[nodiscard]] absl::Status RequestPasswordReset(const v1::RequestPasswordResetRequest& request);
  // Activation and reset links: sets the password, spends the link, ends the account's sessions.
  // PWD: lifts the lock of the account whose UNLOCK link this is (e-mailed to its login when the lock began).
  [[nodiscard]] absl::Status UnlockWithLink(const v1::UnlockWithLinkRequest& request,
                                            v1::UnlockWithLinkResponse& response);
  [[nodiscard]] absl::Status SetPasswordWithLink(const v1::SetPasswordWithLinkRequest& request,
                                                 v1::SetPasswordWithLinkResponse& response);

  // The account principal a session token authenticates, with its memberships and restriction;
  // UNAUTHENTICATED (CREDENTIALS_INVALID, SESSION_ENDED) otherwise.
  [[nodiscard]] absl::StatusOr<authz::Principal> Authenticate(absl::string_view bearer) const;
  static bool LooksLikeSessionToken(absl::string_view bearer);

 private:
  // DEVICES: writes `now` as the session's last use (Authenticate does, at most every session_last_use_step).
  void RecordUse(const std::string& session_id, absl::Time now) const;
  // Creates a session for `account_id` and fills `response`.
  [[nodiscard]] absl::Status OpenSession(store::Transaction& txn, absl::string_view account_id,
                                         absl::string_view device_label, v1::DeviceKind device_kind,
                                         v1::LoginResponse& response);
  // PWD: counts a wrong password; past the threshold locks the account and mails its login an UNLOCK link.
  // LOGIN-CODE: mails a one-time code to the account and answers the challenge that ConfirmLoginCode takes.
  [[nodiscard]] absl::Status SendLoginCode(store::Transaction& txn, absl::string_view account_id,
                                           const v1::Account& account, const v1::LoginRequest& login, absl::Time now,
                                           v1::LoginResponse& response);
  [[nodiscard]] absl::Status CountFailure(store::Transaction& txn, absl::string_view account_id,
                                          internal::AccountRecord& record, absl::Time now);

  store::Store& store_;
  const Clock& clock_;
  const IdentityPolicy& policy_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_SESSIONS_H_
