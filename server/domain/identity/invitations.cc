#include "server/domain/identity/invitations.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "habilis/v1/applications.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/commands/audit_log.h"
#include "server/domain/commands/mutation.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/identity/link_tokens.h"
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
using internal::InvitationRecord;
using internal::LinkTokenRecord;

// Whom the invitee is to the people who decide: "Jeanne Martin <jeanne@example.fr>".
std::string Who(const v1::Invitation& invitation) {
  return absl::StrCat(invitation.form().given_name(), " ", invitation.form().family_name(), " <", invitation.email(),
                      ">");
}

// INV-DECIDE, accepting: the account the invitee becomes. An invitee who proved an existing account at INV-FILL
// (no password of his own in the request) is attached to it; anyone else is placed like every new person
// (PlaceNewPerson, NEW-CREATE): an account that appeared for the address since the form was filled becomes a
// joining account, so the answer tells the administrator nothing of it.
absl::StatusOr<std::string> AcceptInto(store::Transaction& txn, const authz::Principal& caller, absl::string_view siret,
                                       const InvitationRecord& record, const v1::Membership& membership, absl::Time now,
                                       const IdentityPolicy& policy) {
  const v1::Invitation& invitation = record.invitation();
  if (record.password_hash().empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> existing, AccountIdByLogin(txn, invitation.email()));
    if (existing) {
      ASSIGN_OR_RETURN(std::optional<v1::Membership> current, MembershipIn(txn, siret, *existing));
      if (current) {
        return Error(absl::StatusCode::kAlreadyExists, "ACCOUNT_ALREADY_MEMBER",
                     absl::StrCat(invitation.email(), " already belongs to the structure"));
      }
      RETURN_IF_ERROR(PutMembership(txn, *existing, membership, nullptr));
      return *existing;
    }
  }
  ASSIGN_OR_RETURN(PlacedPerson placed,
                   PlaceNewPerson(txn, caller, siret, invitation.form(), membership, now, RandomHex(8)));
  if (placed.how == PlacedPerson::How::kCreated && !record.password_hash().empty()) {
    placed.record.mutable_account()->set_state(v1::Account::ACTIVE);
    SetPassword(placed.record, record.password_hash(), now, policy.passwords);
    RETURN_IF_ERROR(SaveAccount(txn, placed.record, now));
  } else if (placed.how != PlacedPerson::How::kAttached) {
    RETURN_IF_ERROR(ActivateAccount(txn, placed.record, now, policy, siret));
  }
  return placed.account_id;
}

// The checks of a DecideInvitationsRequest that need no store: each invitation of the structure, decided
// once, and a refusal with a comment.
absl::Status CheckDecisions(const v1::DecideInvitationsRequest& request, absl::string_view siret) {
  FieldViolations violations;
  std::set<std::string> seen;
  for (int i = 0; i < request.decisions_size(); ++i) {
    const v1::InvitationDecision& d = request.decisions(i);
    std::string field = absl::StrCat("decisions[", i, "]");
    std::optional<InvitationNameParts> name = ParseInvitationName(d.invitation());
    if (!name || name->siret != siret) {
      violations.Add(field + ".invitation", "NAME_FORMAT", "must be an invitation of the structure");
    } else if (!seen.insert(name->invitation_id).second) {
      violations.Add(field + ".invitation", "DUPLICATE", "is decided twice");
    }
    if (!d.accept() && NormalizeSpaces(d.comment()).empty()) {
      violations.Add(field + ".comment", "COMMENT_REQUIRED_TO_REFUSE", "a refusal needs a comment for the invitee");
    }
    CheckText(violations, field + ".comment", d.comment(), 2000, false);
  }
  if (request.decisions().empty()) violations.Add("decisions", "REQUIRED", "give at least one decision");
  return violations.ToStatus();
}

// INV-DECIDE for one pending invitation: accepted (the account is made or attached) or refused with its
// comment; the invitee hears of it either way. Returns the invitation as decided.
absl::StatusOr<v1::Invitation> DecideOne(store::Transaction& txn, const authz::Principal& caller,
                                         absl::string_view siret, const v1::InvitationDecision& d,
                                         absl::string_view structure, absl::Time now, const IdentityPolicy& policy) {
  std::optional<InvitationNameParts> name = ParseInvitationName(d.invitation());
  const std::string key = store::InvitationKey(siret, name->invitation_id);
  InvitationRecord record;
  RETURN_IF_ERROR(LoadRecord(txn, key, record, "INVITATION_NOT_FOUND",
                             absl::StrCat("invitation ", d.invitation(), " does not exist")));
  v1::Invitation& invitation = *record.mutable_invitation();
  if (invitation.state() != v1::Invitation::PENDING) {
    return Error(absl::StatusCode::kFailedPrecondition, "INVITATION_NOT_PENDING",
                 absl::StrCat("invitation ", d.invitation(), " is not waiting for a decision"));
  }
  const v1::Account invitee = invitation.form();
  const std::string structure_name(structure);
  if (d.accept()) {
    v1::Membership membership;
    membership.set_structure(StructureName(siret));
    membership.set_role(invitation.role());
    membership.set_service(invitation.service());
    ASSIGN_OR_RETURN(std::string account_id, AcceptInto(txn, caller, siret, record, membership, now, policy));
    invitation.set_state(v1::Invitation::ACCEPTED);
    invitation.set_account(AccountName(account_id));
    RETURN_IF_ERROR(
        NotifyAccount(txn, now, invitee, mail::MailKind::kInvitationAccepted, {{"structure", structure_name}}));
  } else {
    invitation.set_state(v1::Invitation::REFUSED);
    invitation.set_comment(NormalizeSpaces(d.comment()));
    RETURN_IF_ERROR(NotifyAccount(txn, now, invitee, mail::MailKind::kInvitationRefused,
                                  {{"structure", structure_name}, {"comment", invitation.comment()}}));
  }
  record.clear_password_hash();  // no longer needed once decided
  SetTimestamp(now, invitation.mutable_update_time());
  RETURN_IF_ERROR(StoreRecord(txn, key, record));
  return invitation;
}

// The structure's active administrators learn that a request waits for them.
absl::Status NotifyAdministrators(store::Transaction& txn, absl::string_view siret, absl::Time now,
                                  const v1::Invitation& invitation) {
  const std::string prefix = store::StructureAdminPrefix(siret);
  std::vector<std::string> administrators;
  RETURN_IF_ERROR(store::ScanPrefix(txn, prefix, [&](absl::string_view k, absl::string_view) {
    administrators.push_back(store::LastComponent(k, prefix));
    return true;
  }));
  ASSIGN_OR_RETURN(const std::string structure, StructureDisplayName(txn, siret));
  for (const std::string& admin_id : administrators) {
    ASSIGN_OR_RETURN(AccountRecord admin, LoadAccount(txn, admin_id));
    if (admin.account().state() != v1::Account::ACTIVE) continue;
    RETURN_IF_ERROR(NotifyAccount(txn, now, admin.account(), mail::MailKind::kInvitationPending,
                                  {{"structure", structure}, {"login", Who(invitation)}}));
  }
  return absl::OkStatus();
}

// INV-FILL in the store: the invitation behind `link_token`, still SENT, takes the form and becomes PENDING;
// the link is spent and the structure's administrators are told.
absl::StatusOr<v1::Invitation> FillForm(store::Transaction& txn, absl::Time now, absl::string_view link_token,
                                        const v1::Account& form, const std::string& password_hash) {
  std::string token_id;
  ASSIGN_OR_RETURN(LinkTokenRecord link,
                   ReadLinkToken(txn, now, link_token, {LinkTokenRecord::INVITATION}, "link_token", &token_id));
  std::optional<InvitationNameParts> name = ParseInvitationName(link.subject());
  if (!name) return absl::DataLossError("an invitation link names no invitation");
  const std::string key = store::InvitationKey(name->siret, name->invitation_id);
  InvitationRecord record;
  RETURN_IF_ERROR(LoadRecord(txn, key, record, "INVITATION_NOT_FOUND", "the invitation no longer exists"));
  if (record.invitation().state() != v1::Invitation::SENT) {
    return Error(absl::StatusCode::kFailedPrecondition, "INVITATION_ALREADY_FILLED",
                 "this invitation was already filled in");
  }
  v1::Invitation& invitation = *record.mutable_invitation();
  invitation.set_state(v1::Invitation::PENDING);
  *invitation.mutable_form() = form;
  SetTimestamp(now, invitation.mutable_update_time());
  record.set_password_hash(password_hash);
  RETURN_IF_ERROR(StoreRecord(txn, key, record));
  RETURN_IF_ERROR(SpendLinkToken(txn, now, token_id, link));
  RETURN_IF_ERROR(NotifyAdministrators(txn, name->siret, now, invitation));
  return invitation;
}

// INV-SEND's application: one the structure subscribes to (SUB); its display name.
absl::StatusOr<std::string> SubscribedApplicationName(store::Reader& reader, absl::string_view siret,
                                                      absl::string_view application_id) {
  RETURN_IF_ERROR(ApplicationMustExist(reader, application_id));
  ASSIGN_OR_RETURN(bool subscribed, Exists(reader, store::SubscriptionKey(siret, application_id)));
  if (!subscribed) {
    return Error(absl::StatusCode::kFailedPrecondition, "NOT_SUBSCRIBED",
                 "the structure does not subscribe to this application: invite to one it subscribes to");
  }
  v1::Application application;
  RETURN_IF_ERROR(LoadRecord(reader, store::ApplicationKey(application_id), application, "APPLICATION_NOT_FOUND", ""));
  return application.display_name();
}

// Issues a new link for the invitation of `record` (spending the one sent before, if any), sets its expiry
// and state SENT, and e-mails the link to the invited address.
absl::Status MailInvitation(store::Transaction& txn, absl::Time now, const std::string& structure,
                            const IdentityPolicy& policy, InvitationRecord& record) {
  if (!record.link_token_id().empty()) {
    LinkTokenRecord previous;
    absl::Status loaded = LoadRecord(txn, store::LinkTokenKey(record.link_token_id()), previous, "", "");
    if (loaded.ok()) RETURN_IF_ERROR(SpendLinkToken(txn, now, record.link_token_id(), previous));
    if (!loaded.ok() && !absl::IsNotFound(loaded)) return loaded;
  }
  v1::Invitation& invitation = *record.mutable_invitation();
  invitation.set_state(v1::Invitation::SENT);
  SetTimestamp(now + policy.invitation_ttl, invitation.mutable_expire_time());
  LinkTokenRecord link;
  link.set_kind(LinkTokenRecord::INVITATION);
  link.set_subject(invitation.name());
  ASSIGN_OR_RETURN(std::string token, IssueLinkToken(txn, now, policy.invitation_ttl, link));
  // "hbl_<id>_<secret>" (link_tokens.h)
  record.set_link_token_id(std::string(absl::string_view(token).substr(4, token.find('_', 4) - 4)));
  return mail::Enqueue(txn, now, invitation.email(), mail::MailKind::kInvitation, "fr",
                       {{"structure", structure},
                        {"application", invitation.application_display_name()},
                        {"link", LinkUrl(policy.link_base_url, "invitation", token)},
                        {"expires", FormatDeadline(now + policy.invitation_ttl)}});
}

// What reads show: a SENT invitation past its expiry is EXPIRED.
void ShowExpiry(v1::Invitation& invitation, absl::Time now) {
  if (invitation.state() == v1::Invitation::SENT && invitation.has_expire_time() &&
      FromTimestamp(invitation.expire_time()) <= now) {
    invitation.set_state(v1::Invitation::EXPIRED);
  }
}

// The password hash an invitation keeps: none for an address that has an account (which proves itself with
// its own password), else the hash of a strong enough new password.
absl::StatusOr<std::string> FormPasswordHash(const PasswordPolicy& policy, absl::string_view password,
                                             absl::string_view login, const AccountRecord* existing) {
  if (existing == nullptr) {
    RETURN_IF_ERROR(CheckPasswordStrength(policy, "password", password, login));
    return HashPassword(password);
  }
  if (!VerifyPassword(password, existing->password_hash())) {
    return InvalidField("password", "EXISTING_ACCOUNT_PASSWORD",
                        "this address already has an account: enter that account's password");
  }
  return std::string();
}

}  // namespace

absl::StatusOr<store::Revision> Invitations::Send(const authz::Principal& caller,
                                                  const v1::SendInvitationsRequest& request,
                                                  v1::SendInvitationsResponse& response) {
  FieldViolations violations;
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", "must be structures/{siret}");
  std::optional<std::string> application = ParseApplicationName(request.application());
  if (!application) violations.Add("application", "NAME_FORMAT", "must be applications/{application}");
  std::set<std::string> emails;
  for (int i = 0; i < request.emails_size(); ++i) {
    std::string field = absl::StrCat("emails[", i, "]");
    if (!IsEmail(request.emails(i))) {
      violations.Add(field, "EMAIL_FORMAT", "must be an e-mail address");
    } else if (!emails.insert(FoldEmail(request.emails(i))).second) {
      violations.Add(field, "DUPLICATE", "is listed twice");
    }
  }
  if (request.emails().empty()) violations.Add("emails", "REQUIRED", "give at least one address");
  if (request.emails_size() > 100) violations.Add("emails", "TOO_MANY", "at most 100 addresses per call");
  if (request.role() != v1::RESPONSABLE && request.role() != v1::COLLABORATOR) {
    violations.Add("role", "ROLE_NOT_INVITABLE", "invitations are for RESPONSABLE or COLLABORATOR accounts");
  }
  std::string service_id = ServiceOfStructure(violations, "service", request.service(), *siret).value_or("");
  RETURN_IF_ERROR(violations.ToStatus());

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(StructureMustExist(txn, *siret));
                       ASSIGN_OR_RETURN(const std::string application_name,
                                        SubscribedApplicationName(txn, *siret, *application));
                       RETURN_IF_ERROR(ServiceMustExist(txn, *siret, service_id));
                       absl::Time now = clock_.Now();
                       ASSIGN_OR_RETURN(const std::string structure, StructureDisplayName(txn, *siret));
                       for (const std::string& email : emails) {
                         const std::string id = RandomHex(8);
                         InvitationRecord record;
                         v1::Invitation& invitation = *record.mutable_invitation();
                         invitation.set_name(InvitationName(*siret, id));
                         invitation.set_email(email);
                         invitation.set_application(request.application());
                         invitation.set_role(request.role());
                         if (!service_id.empty()) invitation.set_service(ServiceResourceName(*siret, service_id));
                         invitation.set_state(v1::Invitation::SENT);
                         invitation.set_inviter(caller.ResourceName());
                         SetTimestamp(now, invitation.mutable_create_time());
                         SetTimestamp(now, invitation.mutable_update_time());
                         invitation.set_application_display_name(application_name);
                         RETURN_IF_ERROR(MailInvitation(txn, now, structure, policy_, record));
                         RETURN_IF_ERROR(StoreRecord(txn, store::InvitationKey(*siret, id), record));
                         *response.add_invitations() = invitation;
                       }
                       return absl::OkStatus();
                     });
}

absl::Status Invitations::Fill(const v1::FillInvitationRequest& request, v1::FillInvitationResponse& response) {
  // First find the invitation, to check the form against the invited address.
  InvitationRecord seen;
  std::optional<std::string> existing_account;
  AccountRecord existing;
  RETURN_IF_ERROR(store_
                      .Read([&](store::Reader& reader) -> absl::Status {
                        std::string id;
                        ASSIGN_OR_RETURN(LinkTokenRecord link,
                                         ReadLinkToken(reader, clock_.Now(), request.link_token(),
                                                       {LinkTokenRecord::INVITATION}, "link_token", &id));
                        std::optional<InvitationNameParts> name = ParseInvitationName(link.subject());
                        if (!name) return absl::DataLossError("an invitation link names no invitation");
                        RETURN_IF_ERROR(LoadRecord(reader, store::InvitationKey(name->siret, name->invitation_id), seen,
                                                   "INVITATION_NOT_FOUND", "the invitation no longer exists"));
                        ASSIGN_OR_RETURN(existing_account, AccountIdByLogin(reader, seen.invitation().email()));
                        if (existing_account) {
                          ASSIGN_OR_RETURN(existing, LoadAccount(reader, *existing_account));
                        }
                        return absl::OkStatus();
                      })
                      .status());
  v1::Account form = request.account();
  form.set_login_email(seen.invitation().email());
  FieldViolations violations;
  CheckAccountFields(violations, "account", form);
  RETURN_IF_ERROR(violations.ToStatus());
  NormalizeAccount(form);
  ASSIGN_OR_RETURN(const std::string password_hash,
                   FormPasswordHash(policy_.passwords, request.password(), form.login_email(),
                                    existing_account ? &existing : nullptr));

  v1::ChangeSummary summary;
  absl::StatusOr<store::Revision> revision = AuditedUpdate(
      store_, {"anonymous", "habilis.v1.FillInvitation", "", seen.invitation().name()},
      [&](store::Transaction& txn) -> absl::Status {
        response.Clear();
        absl::Time now = clock_.Now();
        ASSIGN_OR_RETURN(v1::Invitation invitation, FillForm(txn, now, request.link_token(), form, password_hash));
        *response.mutable_invitation() = invitation;
        return absl::OkStatus();
      },
      {.dry_run = request.validate_only()}, &summary);
  if (revision.ok() && request.validate_only()) *response.mutable_change_summary() = std::move(summary);
  return revision.status();
}

absl::Status Invitations::GetByLink(const v1::GetInvitationByLinkRequest& request,
                                    v1::GetInvitationByLinkResponse& response) {
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        std::string token_id;
        ASSIGN_OR_RETURN(LinkTokenRecord link, ReadLinkToken(reader, clock_.Now(), request.link_token(),
                                                             {LinkTokenRecord::INVITATION}, "link_token", &token_id));
        std::optional<InvitationNameParts> name = ParseInvitationName(link.subject());
        if (!name) return absl::DataLossError("an invitation link names no invitation");
        InvitationRecord record;
        RETURN_IF_ERROR(LoadRecord(reader, store::InvitationKey(name->siret, name->invitation_id), record,
                                   "INVITATION_NOT_FOUND", "the invitation no longer exists"));
        v1::Invitation& invitation = *response.mutable_invitation();
        invitation = std::move(*record.mutable_invitation());
        invitation.clear_form();
        invitation.clear_comment();
        invitation.clear_inviter();
        ShowExpiry(invitation, clock_.Now());
        response.set_structure(StructureName(name->siret));
        ASSIGN_OR_RETURN(*response.mutable_structure_display_name(), StructureDisplayName(reader, name->siret));
        return absl::OkStatus();
      })
      .status();
}

absl::StatusOr<store::Revision> Invitations::Resend(const authz::Principal& caller,
                                                    const v1::ResendInvitationsRequest& request,
                                                    v1::ResendInvitationsResponse& response) {
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", "must be structures/{siret}");
  FieldViolations violations;
  if (request.invitations().empty()) violations.Add("invitations", "REQUIRED", "name at least one invitation");
  if (request.invitations_size() > 100) violations.Add("invitations", "TOO_MANY", "at most 100 per call");
  std::vector<std::string> ids;
  for (int i = 0; i < request.invitations_size(); ++i) {
    std::optional<InvitationNameParts> name = ParseInvitationName(request.invitations(i));
    if (!name || name->siret != *siret) {
      violations.Add(absl::StrCat("invitations[", i, "]"), "NAME_FORMAT",
                     "must be an invitation of the parent, structures/{siret}/invitations/{invitation}");
    } else {
      ids.push_back(name->invitation_id);
    }
  }
  RETURN_IF_ERROR(violations.ToStatus());
  return RunMutation(
      store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
      [&](store::Transaction& txn) -> absl::Status {
        response.clear_invitations();
        const absl::Time now = clock_.Now();
        ASSIGN_OR_RETURN(const std::string structure, StructureDisplayName(txn, *siret));
        for (size_t i = 0; i < ids.size(); ++i) {
          const std::string key = store::InvitationKey(*siret, ids[i]);
          InvitationRecord record;
          RETURN_IF_ERROR(LoadRecord(txn, key, record, "INVITATION_NOT_FOUND", "no such invitation in this structure"));
          if (record.invitation().state() != v1::Invitation::SENT) {
            return InElement(Error(absl::StatusCode::kFailedPrecondition, "INVITATION_ALREADY_FILLED",
                                   "only an invitation not yet filled in is sent again"),
                             absl::StrCat("invitations[", i, "]"));
          }
          SetTimestamp(now, record.mutable_invitation()->mutable_update_time());
          RETURN_IF_ERROR(MailInvitation(txn, now, structure, policy_, record));
          RETURN_IF_ERROR(StoreRecord(txn, key, record));
          *response.add_invitations() = record.invitation();
        }
        return absl::OkStatus();
      });
}

absl::Status Invitations::List(const authz::Principal& caller, const v1::ListInvitationsRequest& request,
                               v1::ListInvitationsResponse& response) {
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", "must be structures/{siret}");
  // A responsable sees the invitations he sent; administrators and operators, all of them.
  const authz::Membership* own = caller.MembershipIn(*siret);
  const std::optional<std::string> only_inviter =
      caller.kind == authz::PrincipalKind::kAccount && own != nullptr && own->role == authz::Role::kResponsable
          ? std::optional<std::string>(caller.ResourceName())
          : std::nullopt;
  const absl::Time now = clock_.Now();
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        std::vector<InvitationRecord> page;
        RETURN_IF_ERROR(ReadPage(
            reader, store::InvitationPrefix(*siret), request.page_size(), request.page_token(),
            [&](absl::string_view) { return &page.emplace_back(); }, response.mutable_next_page_token()));
        for (InvitationRecord& record : page) {
          if (only_inviter && record.invitation().inviter() != *only_inviter) continue;
          ShowExpiry(*record.mutable_invitation(), now);
          if (request.state() == v1::Invitation::STATE_UNSPECIFIED || record.invitation().state() == request.state()) {
            *response.add_invitations() = std::move(*record.mutable_invitation());
          }
        }
        return absl::OkStatus();
      })
      .status();
}

absl::StatusOr<store::Revision> Invitations::Decide(const authz::Principal& caller,
                                                    const v1::DecideInvitationsRequest& request,
                                                    v1::DecideInvitationsResponse& response) {
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", "must be structures/{siret}");
  RETURN_IF_ERROR(CheckDecisions(request, *siret));
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(*siret)));
                       const absl::Time now = clock_.Now();
                       ASSIGN_OR_RETURN(const std::string structure, StructureDisplayName(txn, *siret));
                       for (const v1::InvitationDecision& d : request.decisions()) {
                         ASSIGN_OR_RETURN(*response.add_invitations(),
                                          DecideOne(txn, caller, *siret, d, structure, now, policy_));
                       }
                       return absl::OkStatus();
                     });
}

}  // namespace habilis::domain
