// The e-mails habilis sends (NOTIFY), in French and English.
#ifndef HABILIS_SERVER_MAIL_TEMPLATES_H_
#define HABILIS_SERVER_MAIL_TEMPLATES_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace habilis::mail {

enum class MailKind {
  kInvitation,          // INV-SEND: link to the pre-creation form
  kInvitationPending,   // INV-FILL: to the structure's administrators
  kInvitationAccepted,  // INV-DECIDE
  kInvitationRefused,   // INV-DECIDE, with the comment
  kActivation,          // NEW-ACTIVATE: link to set the password
  kPasswordReset,       // PWD: "forgot password" link
  kIdentifier,          // RESEND-ID
  kTransfer,            // SVC-TRANSFER: to a transferred responsable
  kLoginCode,           // LOGIN-CODE
  kHabilitationGranted,
  kHabilitationRevoked,
  kDelegationGranted,
  kDelegationRevoked,
  kNotificationEmailConfirmation,  // SECRETS: link to the new notification e-mail, to confirm it
  kNotificationEmailChanged,       // SECRETS: notice to the address used until now
  kUnlock,                         // PWD: the account is locked; a link lifts the lock at once
  kJoinStructure,                  // NEW-CREATE: a structure added a person who has an account; a link to join
  kHabilitationExpiring,           // a habilitation ends within a week: to its holder and his administrators
  kDeletionApproved,               // DEL-REQUEST: an operator approved it; to whoever asked
  kDeletionRefused,                // DEL-REQUEST: an operator refused it, with the comment; to whoever asked
  kLoginEmailConfirmation,         // «Modifier l'utilisateur»: link to the new login e-mail, to confirm it
  kLoginEmailChange,               // «Modifier l'utilisateur»: notice to the login used until now
};

absl::string_view MailKindName(MailKind kind);

// SECRETS: whether a message of `kind` carries something that proves identity (a link that sets a password,
// a login code). Such a message goes to the login e-mail only, never to the notification e-mail, which
// anyone holding a session may change.
bool ProvesIdentity(MailKind kind);

struct RenderedMail {
  std::string subject;
  std::string body;
};

// Renders `kind` in `language` ("en", otherwise French) with `params`: each "{key}" of the template is
// replaced by params[key]. Keys used: name, structure, link, code, comment, login, service, expires,
// application, profile.
RenderedMail Render(MailKind kind, absl::string_view language, const std::map<std::string, std::string>& params);

}  // namespace habilis::mail

#endif  // HABILIS_SERVER_MAIL_TEMPLATES_H_
