// Accounts and memberships: NEW-CREATE, NEW-ACTIVATE, RESEND-ID, SVC-TRANSFER, SVC-LIST,
// SELF (personal data), role and service changes, and deactivation.
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_ACCOUNTS_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_ACCOUNTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/accounts.pb.h"
#include "server/common/clock.h"
#include "server/domain/kernel/policy.h"
#include "store/store.h"

namespace habilis::domain {

class Accounts {
 public:
  Accounts(store::Store& store, const Clock& clock, const IdentityPolicy& policy)
      : store_(store), clock_(clock), policy_(policy) {}

  // NEW-CREATE: the account is INACTIVE until activated. The answer does not depend on accounts outside the
  // structure: a login that already has one gets a joining account (PlaceNewPerson, new_members.h).
  // LOGIN_TAKEN / LOGIN_CONFUSABLE when an account of this structure has this login or a look-alike.
  [[nodiscard]] absl::StatusOr<store::Revision> Create(const authz::Principal& caller,
                                                       const v1::CreateAccountRequest& request,
                                                       v1::CreateAccountResponse& response);
  // The account as `caller` may see it: the account himself and operators see all of it; anyone else (an
  // administrator or a responsable the gate let in) sees the memberships of the structures he belongs to
  // only, and no phone numbers (SVC-LIST, seed 000 «détail du compte (hors numéro de téléphone)»): one
  // client company of an accounting firm does not learn the firm's other clients.
  [[nodiscard]] absl::Status Get(const authz::Principal& caller, const v1::GetAccountRequest& request,
                                 v1::GetAccountResponse& response);
  // SVC-LIST: the members of a structure, by account id, without phone numbers.
  // SVC-LIST. A responsable (neither operator nor administrator of the structure) sees the members of his own
  // service only; a page may then hold fewer accounts than asked.
  [[nodiscard]] absl::Status List(const authz::Principal& caller, const v1::ListAccountsRequest& request,
                                  v1::ListAccountsResponse& response);
  // SELF, or an administrator: the personal fields.
  // NEW-CREATE: the person follows the JOIN link with his existing account's password; the joining account
  // is merged into it (new_members.h).
  [[nodiscard]] absl::StatusOr<store::Revision> AcceptJoin(const authz::Principal& caller,
                                                           const v1::AcceptJoinRequest& request,
                                                           v1::AcceptJoinResponse& response);
  // SECRETS: follows the link e-mailed to a new notification e-mail; the address takes effect. LINK_* errors as
  // for every link; FAILED_PRECONDITION LINK_SUPERSEDED when a newer address was asked for since.
  [[nodiscard]] absl::StatusOr<store::Revision> ConfirmNotificationEmail(
      const authz::Principal& caller, const v1::ConfirmNotificationEmailRequest& request,
      v1::ConfirmNotificationEmailResponse& response);
  // «Modifier l'utilisateur»: the login becomes the address the link was sent to, if no other account has it
  // or one that looks like it by then (ALREADY_EXISTS LOGIN_TAKEN / LOGIN_CONFUSABLE, told to the owner of
  // that address only). FAILED_PRECONDITION LINK_SUPERSEDED when another address was asked for since.
  [[nodiscard]] absl::StatusOr<store::Revision> ConfirmLoginEmail(const authz::Principal& caller,
                                                                  const v1::ConfirmLoginEmailRequest& request,
                                                                  v1::ConfirmLoginEmailResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> Update(const authz::Principal& caller,
                                                       const v1::UpdateAccountRequest& request,
                                                       v1::UpdateAccountResponse& response);
  // NEW-ACTIVATE: ACTIVE, and an activation link by e-mail while the account has no password.
  [[nodiscard]] absl::StatusOr<store::Revision> Activate(const authz::Principal& caller,
                                                         const v1::ActivateAccountRequest& request,
                                                         v1::ActivateAccountResponse& response);
  // PWD: an administrator lifts the lock of a member of his structure (failed attempts forgotten).
  // PWD: a reset link to a member's login, as his administrator's act.
  [[nodiscard]] absl::StatusOr<store::Revision> SendPasswordReset(const authz::Principal& caller,
                                                                  const v1::SendPasswordResetRequest& request,
                                                                  v1::SendPasswordResetResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> Unlock(const authz::Principal& caller,
                                                       const v1::UnlockAccountRequest& request,
                                                       v1::UnlockAccountResponse& response);
  // DEACTIVATED everywhere (an operator's act, MEMBERSHIP-END): its sessions end at once. `structure` is
  // ignored; NOT_FOUND when the account does not exist.
  [[nodiscard]] absl::StatusOr<store::Revision> Deactivate(const authz::Principal& caller,
                                                           const v1::DeactivateAccountRequest& request,
                                                           v1::DeactivateAccountResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> ResendIdentifier(const authz::Principal& caller,
                                                                 const v1::ResendIdentifierRequest& request,
                                                                 v1::ResendIdentifierResponse& response);
  [[nodiscard]] absl::StatusOr<store::Revision> UpdateMembership(const authz::Principal& caller,
                                                                 const v1::UpdateMembershipRequest& request,
                                                                 v1::UpdateMembershipResponse& response);
  // SVC-TRANSFER: all the accounts move, or none.
  [[nodiscard]] absl::StatusOr<store::Revision> Transfer(const authz::Principal& caller,
                                                         const v1::TransferAccountsRequest& request,
                                                         v1::TransferAccountsResponse& response);
  // The memberships of `account_name` for the engine's target; empty when the account does not exist.
  [[nodiscard]] absl::StatusOr<std::vector<authz::Membership>> MembershipsForAuthz(absl::string_view account_name);
  // The member of the structure `structure_name` whose login is `login_email`, or nullopt (also for a
  // structure name that does not parse): the login alias of account names (server/api/login_alias.h).
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> MemberIdByLogin(absl::string_view structure_name,
                                                                           absl::string_view login_email);

 private:
  store::Store& store_;
  const Clock& clock_;
  const IdentityPolicy& policy_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_ACCOUNTS_H_
