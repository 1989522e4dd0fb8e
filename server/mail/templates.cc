#include "server/mail/templates.h"

#include "absl/strings/str_replace.h"

namespace habilis::mail {
namespace {

struct Template {
  absl::string_view subject_fr, body_fr, subject_en, body_en;
};

// A table written as a switch, so that the compiler checks that every value has its entry: long, not
// complex.
Template TemplateOf(MailKind kind) {  // NOLINT(readability-function-size)
  switch (kind) {
    case MailKind::kInvitation:
      return {"Invitation à créer votre compte pour {structure}",
              "Bonjour,\n\nVous êtes invité(e) à créer votre compte pour {structure}.\n"
              "Remplissez le formulaire de pré-création en suivant ce lien, valable jusqu'au {expires} :\n\n"
              "{link}\n\nCe lien ne peut servir qu'une fois.\n",
              "Invitation to create your account for {structure}",
              "Hello,\n\nYou are invited to create your account for {structure}.\n"
              "Fill in the pre-registration form at this link, valid until {expires}:\n\n"
              "{link}\n\nThe link works once.\n"};
    case MailKind::kInvitationPending:
      return {"Une demande de création de compte attend votre validation",
              "Bonjour {name},\n\n{login} a rempli le formulaire de pré-création pour {structure}.\n"
              "Acceptez ou refusez la demande dans la validation des créations en attente.\n",
              "An account request awaits your decision",
              "Hello {name},\n\n{login} filled in the pre-registration form for {structure}.\n"
              "Accept or refuse the request among the pending account creations.\n"};
    case MailKind::kInvitationAccepted:
      return {"Votre compte est créé",
              "Bonjour {name},\n\nVotre demande de compte pour {structure} est acceptée.\n"
              "Votre identifiant de connexion : {login}\n",
              "Your account is created",
              "Hello {name},\n\nYour account request for {structure} is accepted.\nYour login: {login}\n"};
    case MailKind::kInvitationRefused:
      return {"Votre demande de compte est refusée",
              "Bonjour {name},\n\nVotre demande de compte pour {structure} est refusée.\nMotif : {comment}\n",
              "Your account request is refused",
              "Hello {name},\n\nYour account request for {structure} is refused.\nReason: {comment}\n"};
    case MailKind::kActivation:
      return {"Activez votre compte",
              "Bonjour {name},\n\nVotre compte pour {structure} est activé. Choisissez votre mot de passe en "
              "suivant ce lien, valable jusqu'au {expires} :\n\n{link}\n\nVotre identifiant : {login}\n",
              "Activate your account",
              "Hello {name},\n\nYour account for {structure} is activated. Choose your password at this link, "
              "valid until {expires}:\n\n{link}\n\nYour login: {login}\n"};
    case MailKind::kPasswordReset:
      return {"Réinitialisation de votre mot de passe",
              "Bonjour {name},\n\nPour choisir un nouveau mot de passe, suivez ce lien, valable jusqu'au "
              "{expires} :\n\n{link}\n\nSi vous n'avez rien demandé, ignorez ce message.\n",
              "Reset your password",
              "Hello {name},\n\nTo choose a new password, follow this link, valid until {expires}:\n\n{link}\n\n"
              "If you did not ask for it, ignore this message.\n"};
    case MailKind::kIdentifier:
      return {"Votre identifiant de connexion", "Bonjour {name},\n\nVotre identifiant de connexion : {login}\n",
              "Your login", "Hello {name},\n\nYour login: {login}\n"};
    case MailKind::kTransfer:
      return {"Votre compte a changé de service",
              "Bonjour {name},\n\nVotre compte a été transféré dans le service {service} de {structure}.\n",
              "Your account moved to another service",
              "Hello {name},\n\nYour account was transferred to the service {service} of {structure}.\n"};
    case MailKind::kHabilitationGranted:
      return {"Nouvel accès : {application}",
              "Bonjour {name},\n\nLe profil « {profile} » de l'application {application} vous est attribué pour "
              "{structure}.\n",
              "New access: {application}",
              "Hello {name},\n\nYou were given the profile \"{profile}\" of the application {application} for "
              "{structure}.\n"};
    case MailKind::kHabilitationExpiring:
      return {"Accès bientôt expiré : {application}",
              "Bonjour {name},\n\nLe profil « {profile} » de l'application {application} détenu par {login} pour "
              "{structure} expire le {expires}. Son administrateur peut le prolonger.\n",
              "Access ending soon: {application}",
              "Hello {name},\n\nThe profile \"{profile}\" of the application {application} held by {login} for "
              "{structure} ends on {expires}. An administrator can extend it.\n"};
    case MailKind::kHabilitationRevoked:
      return {"Accès retiré : {application}",
              "Bonjour {name},\n\nVotre profil « {profile} » de l'application {application} pour {structure} vous "
              "a été retiré.\n",
              "Access removed: {application}",
              "Hello {name},\n\nYour profile \"{profile}\" of the application {application} for {structure} was "
              "removed.\n"};
    case MailKind::kDelegationGranted:
      return {"Délégation reçue : {application}",
              "Bonjour {name},\n\nVous pouvez désormais attribuer les profils {profile} de l'application "
              "{application} aux collaborateurs de votre service ({structure}).\n",
              "Delegation received: {application}",
              "Hello {name},\n\nYou may now give the profiles {profile} of the application {application} to the "
              "collaborators of your service ({structure}).\n"};
    case MailKind::kDelegationRevoked:
      return {"Délégation retirée : {application}",
              "Bonjour {name},\n\nLa délégation des profils {profile} de l'application {application} pour "
              "{structure} vous a été retirée.\n",
              "Delegation removed: {application}",
              "Hello {name},\n\nThe delegation of the profiles {profile} of the application {application} for "
              "{structure} was removed.\n"};
    case MailKind::kLoginCode:
      return {"Votre code de connexion",
              "Bonjour {name},\n\nVotre code de connexion : {code}\nIl est valable jusqu'au {expires}.\n",
              "Your login code", "Hello {name},\n\nYour login code: {code}\nIt is valid until {expires}.\n"};
    case MailKind::kNotificationEmailConfirmation:
      return {"Confirmez votre adresse de notification",
              "Bonjour {name},\n\nCette adresse a été indiquée pour recevoir les notifications du compte {login}.\n"
              "Pour la confirmer, suivez ce lien, valable jusqu'au {expires} :\n\n{link}\n\n"
              "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien ne change.\n",
              "Confirm your notification address",
              "Hello {name},\n\nThis address was given to receive the notifications of the account {login}.\n"
              "To confirm it, follow this link, valid until {expires}:\n\n{link}\n\n"
              "If you did not ask for this, ignore this message: nothing changes.\n"};
    case MailKind::kUnlock:
      return {"Votre compte est verrouillé",
              "Bonjour {name},\n\nTrop d'essais de mot de passe ont échoué : le compte {login} est verrouillé "
              "jusqu'au {until}.\nSi c'était vous, débloquez-le tout de suite en suivant ce lien, valable jusqu'au "
              "{expires} :\n\n{link}\n\nSi ce n'était pas vous, quelqu'un essaie votre mot de passe : "
              "choisissez-en un long, et prévenez votre administrateur.\n",
              "Your account is locked",
              "Hello {name},\n\nToo many password attempts failed: the account {login} is locked until "
              "{until}.\nIf it was you, unlock it at once with this link, valid until {expires}:\n\n{link}\n\n"
              "If it was not you, someone is trying your password: choose a long one, and tell your "
              "administrator.\n"};
    case MailKind::kDeletionApproved:
      return {"Compte {login} supprimé",
              "Bonjour {name},\n\nVotre demande de suppression du compte {login}, faite pour {structure}, est "
              "acceptée : le compte est supprimé de toutes ses structures.\n",
              "Account {login} deleted",
              "Hello {name},\n\nYour request to delete the account {login}, made for {structure}, was approved: "
              "the account is deleted from all its structures.\n"};
    case MailKind::kDeletionRefused:
      return {"Suppression du compte {login} refusée",
              "Bonjour {name},\n\nVotre demande de suppression du compte {login}, faite pour {structure}, est "
              "refusée :\n\n{comment}\n\nPour le retirer de {structure} seulement, retirez-le de vos "
              "utilisateurs.\n",
              "Deletion of account {login} refused",
              "Hello {name},\n\nYour request to delete the account {login}, made for {structure}, was refused:"
              "\n\n{comment}\n\nTo take it out of {structure} only, remove it from your users.\n"};
    case MailKind::kJoinStructure:
      return {"{structure} vous ajoute à ses utilisateurs",
              "Bonjour {name},\n\n{structure} vous a ajouté(e) à ses utilisateurs. Vous avez déjà un compte "
              "({login}) : pour rejoindre {structure} avec ce compte, suivez ce lien, valable jusqu'au "
              "{expires}, et confirmez avec votre mot de passe :\n\n{link}\n\nLes administrateurs de "
              "{structure} verront alors votre compte (hors numéros de téléphone) et pourront vous habiliter. "
              "Si vous ne connaissez pas cette structure, ignorez ce message : rien ne change.\n",
              "{structure} adds you to its users",
              "Hello {name},\n\n{structure} added you to its users. You already have an account ({login}): to "
              "join {structure} with it, follow this link, valid until {expires}, and confirm with your "
              "password:\n\n{link}\n\nThe administrators of {structure} will then see your account (phone "
              "numbers aside) and may give you profiles. If you do not know this structure, ignore this "
              "message: nothing changes.\n"};
    case MailKind::kLoginEmailConfirmation:
      return {"Confirmez votre nouvel identifiant de connexion",
              "Bonjour {name},\n\nCette adresse a été indiquée comme nouvel identifiant de connexion du compte "
              "{login}.\nPour la confirmer, suivez ce lien, valable jusqu'au {expires} :\n\n{link}\n\n"
              "Vous vous connecterez ensuite avec cette adresse. Si vous n'êtes pas à l'origine de cette demande, "
              "ignorez ce message : rien ne change.\n",
              "Confirm your new login",
              "Hello {name},\n\nThis address was given as the new login of the account {login}.\n"
              "To confirm it, follow this link, valid until {expires}:\n\n{link}\n\n"
              "You will then log in with this address. If you did not ask for this, ignore this message: nothing "
              "changes.\n"};
    case MailKind::kLoginEmailChange:
      return {"Changement de votre identifiant de connexion",
              "Bonjour {name},\n\nL'identifiant de connexion du compte {login} doit devenir : {email}\n"
              "Le changement prendra effet quand le lien envoyé à cette adresse sera suivi. Si vous n'êtes pas à "
              "l'origine de cette demande, changez votre mot de passe et prévenez votre administrateur.\n",
              "Your login is to change",
              "Hello {name},\n\nThe login of the account {login} is to become: {email}\n"
              "It changes once the link sent to that address is followed. If you did not ask for this, change "
              "your password and tell your administrator.\n"};
    case MailKind::kNotificationEmailChanged:
      return {"Changement de votre adresse de notification",
              "Bonjour {name},\n\nL'adresse de notification du compte {login} change pour : {email}\n"
              "Si vous n'êtes pas à l'origine de ce changement, changez votre mot de passe et prévenez votre "
              "administrateur.\n",
              "Your notification address changes",
              "Hello {name},\n\nThe notification address of the account {login} changes to: {email}\n"
              "If you did not ask for this, change your password and tell your administrator.\n"};
  }
  return {};
}

}  // namespace

absl::string_view MailKindName(MailKind kind) {
  switch (kind) {
    case MailKind::kInvitation:
      return "INVITATION";
    case MailKind::kInvitationPending:
      return "INVITATION_PENDING";
    case MailKind::kInvitationAccepted:
      return "INVITATION_ACCEPTED";
    case MailKind::kInvitationRefused:
      return "INVITATION_REFUSED";
    case MailKind::kActivation:
      return "ACTIVATION";
    case MailKind::kPasswordReset:
      return "PASSWORD_RESET";
    case MailKind::kIdentifier:
      return "IDENTIFIER";
    case MailKind::kTransfer:
      return "TRANSFER";
    case MailKind::kLoginCode:
      return "LOGIN_CODE";
    case MailKind::kHabilitationGranted:
      return "HABILITATION_GRANTED";
    case MailKind::kHabilitationRevoked:
      return "HABILITATION_REVOKED";
    case MailKind::kHabilitationExpiring:
      return "HABILITATION_EXPIRING";
    case MailKind::kDelegationGranted:
      return "DELEGATION_GRANTED";
    case MailKind::kDelegationRevoked:
      return "DELEGATION_REVOKED";
    case MailKind::kNotificationEmailConfirmation:
      return "NOTIFICATION_EMAIL_CONFIRMATION";
    case MailKind::kNotificationEmailChanged:
      return "NOTIFICATION_EMAIL_CHANGED";
    case MailKind::kUnlock:
      return "UNLOCK";
    case MailKind::kJoinStructure:
      return "JOIN_STRUCTURE";
    case MailKind::kDeletionApproved:
      return "DELETION_APPROVED";
    case MailKind::kDeletionRefused:
      return "DELETION_REFUSED";
    case MailKind::kLoginEmailConfirmation:
      return "LOGIN_EMAIL_CONFIRMATION";
    case MailKind::kLoginEmailChange:
      return "LOGIN_EMAIL_CHANGE";
  }
  return "MAIL";
}

bool ProvesIdentity(MailKind kind) {
  return kind == MailKind::kActivation || kind == MailKind::kPasswordReset || kind == MailKind::kLoginCode ||
         kind == MailKind::kUnlock || kind == MailKind::kJoinStructure;
}

RenderedMail Render(MailKind kind, absl::string_view language, const std::map<std::string, std::string>& params) {
  Template t = TemplateOf(kind);
  bool english = language == "en";
  std::vector<std::pair<std::string, std::string>> replacements;
  for (const auto& [key, value] : params) replacements.emplace_back("{" + key + "}", value);
  return {absl::StrReplaceAll(english ? t.subject_en : t.subject_fr, replacements),
          absl::StrReplaceAll(english ? t.body_en : t.body_fr, replacements)};
}

}  // namespace habilis::mail
