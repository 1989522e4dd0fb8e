// The account lifecycle: NEW-CREATE, NEW-ACTIVATE, FIRST-LOGIN, PWD, LOGIN-CODE, RESEND-ID, DEL-REQUEST,
// SELF, DEVICES, SVC-TRANSFER, SVC-LIST, NOTIFY, and one active administrator per structure.
#include <thread>

#include "server/domain/identity/account_records.h"
#include "server/domain/kernel/identifiers.h"
#include "server/domain/kernel/passwords.h"
#include "server/domain/organisation/memberships.h"
#include "store/keyspace.h"
#include "tests/testing/domain_fixture.h"

namespace habilis::domain {
namespace {

using testing::DomainTest;

class AccountsTest : public DomainTest {
 protected:
  void SetUp() override {
    DomainTest::SetUp();
    ASSERT_TRUE(CreateStructure().ok());
    ASSERT_TRUE(CreateService("finances", "Finances").ok());
    ASSERT_TRUE(CreateService("rh", "RH").ok());
  }

  absl::StatusOr<authz::Principal> PrincipalOf(const v1::LoginResponse& login) {
    return sessions_->Authenticate(login.session_token());
  }

  v1::Account GetAccount(const std::string& name) {
    v1::GetAccountRequest request;
    request.set_name(name);
    v1::GetAccountResponse response;
    EXPECT_TRUE(accounts_->Get(operator_, request, response).ok());
    return response.account();
  }
};

TEST_F(AccountsTest, NEW_CREATE_theAccountExistsButIsInactive) {
  absl::StatusOr<std::string> name = CreateAccount("jeanne@example.fr", v1::COLLABORATOR, "finances");
  ASSERT_TRUE(name.ok()) << name.status();
  v1::Account account = GetAccount(*name);
  EXPECT_EQ(account.state(), v1::Account::INACTIVE);
  EXPECT_EQ(account.language(), "fr");
  ASSERT_EQ(account.memberships_size(), 1);
  EXPECT_EQ(account.memberships(0).service(), Service("finances"));
  EXPECT_EQ(ErrorReason(Login("jeanne@example.fr").status()), "LOGIN_FAILED");
}

TEST_F(AccountsTest, NEW_CREATE_requiredFieldsAreChecked) {
  v1::CreateAccountRequest request;
  request.set_parent(StructureName(kSiret));
  request.mutable_account()->set_login_email("not an email");
  request.mutable_membership()->set_role(v1::COLLABORATOR);
  v1::CreateAccountResponse response;
  absl::Status status = accounts_->Create(operator_, request, response).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  for (const char* field : {"account.login_email", "account.given_name", "account.family_name", "account.address",
                            "account.postal_code", "account.city"}) {
    EXPECT_NE(status.message().find(field), absl::string_view::npos) << field;
  }
}

TEST_F(AccountsTest, NEW_CREATE_loginIsUniqueIgnoringCase) {
  ReadyAccount("paul@example.fr", v1::COLLABORATOR);
  absl::StatusOr<v1::LoginResponse> session = Login("paul@example.fr");
  ASSERT_TRUE(session.ok()) << session.status();
  absl::StatusOr<authz::Principal> member = PrincipalOf(*session);
  ASSERT_TRUE(member.ok()) << member.status();
  ASSERT_TRUE(CreateAccount("jeanne@example.fr", v1::COLLABORATOR).ok());
  EXPECT_EQ(ErrorReason(CreateAccount("JEANNE@Example.fr", v1::COLLABORATOR, "", &*member).status()), "LOGIN_TAKEN");
}

// Identifiers that look alike are one identifier: logins too.
TEST_F(AccountsTest, NEW_CREATE_aLoginThatLooksLikeAnExistingOneIsRefused) {
  ASSERT_TRUE(CreateAccount("jeanne@example.fr", v1::COLLABORATOR).ok());
  EXPECT_EQ(ErrorReason(CreateAccount("je\xd0\xb0nne@example.fr", v1::COLLABORATOR).status()), "LOGIN_CONFUSABLE")
      << "a Cyrillic a";
  EXPECT_EQ(ErrorReason(CreateAccount("\xef\xbd\x8a"
                                      "eanne@example.fr",
                                      v1::COLLABORATOR)
                            .status()),
            "LOGIN_TAKEN")
      << "a fullwidth j is the same login, of an account of this structure";
  EXPECT_EQ(ErrorReason(CreateAccount("jeanne\xe2\x80\x8b@example.fr", v1::COLLABORATOR).status()),
            "INVISIBLE_CHARACTER");
  EXPECT_TRUE(CreateAccount("jean@example.fr", v1::COLLABORATOR).ok());
}

// No existence oracle: for an administrator of one structure, creating a person whose login has an account in
// another structure answers as creating a new person does, and the person is asked to join (at activation).
TEST_F(AccountsTest, NEW_CREATE_aLoginOfAnotherStructureGetsAJoiningAccountNotAnError) {
  constexpr char kOther[] = "44306184100047";
  ASSERT_TRUE(CreateStructure(kOther).ok());
  absl::StatusOr<std::string> existing = CreateAccountIn(kOther, "ailleurs@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(existing.ok()) << existing.status();
  const authz::Principal admin = AdministratorOf(kSiret);

  absl::StatusOr<std::string> joining = CreateAccount("Ailleurs@example.fr", v1::COLLABORATOR, "", &admin);
  ASSERT_TRUE(joining.ok()) << joining.status();
  EXPECT_NE(*joining, *existing) << "an account of this structure, not the other one";
  v1::Account seen = GetAccount(*joining);
  EXPECT_EQ(seen.state(), v1::Account::INACTIVE);
  ASSERT_EQ(seen.memberships_size(), 1);
  EXPECT_EQ(seen.memberships(0).structure(), StructureName(kSiret));
  EXPECT_EQ(GetAccount(*existing).memberships_size(), 1) << "the other account is untouched";

  // Within the structure, the login is taken like any member's, and its look-alikes too.
  EXPECT_EQ(ErrorReason(CreateAccount("ailleurs@example.fr", v1::COLLABORATOR, "", &admin).status()), "LOGIN_TAKEN");
  EXPECT_EQ(ErrorReason(CreateAccount("\xd0\xb0illeurs@example.fr", v1::COLLABORATOR, "", &admin).status()),
            "LOGIN_CONFUSABLE");
  // A look-alike of a login of the other structure only is not refused either: nothing of it is told.
  ASSERT_TRUE(CreateAccountIn(kOther, "autre@example.fr", v1::COLLABORATOR).ok());
  EXPECT_TRUE(CreateAccount("\xd0\xb0utre@example.fr", v1::COLLABORATOR, "", &admin).ok());
}

TEST_F(AccountsTest, NEW_CREATE_aJoiningPersonIsAskedAtActivationAndJoinsWithHisOwnAccount) {
  constexpr char kOther[] = "44306184100047";
  ASSERT_TRUE(CreateStructure(kOther).ok());
  const std::string existing = ReadyAccount("ailleurs@example.fr", v1::COLLABORATOR);
  const authz::Principal admin = AdministratorOf(kOther);
  absl::StatusOr<std::string> created = CreateAccountIn(kOther, "ailleurs@example.fr", v1::RESPONSABLE, &admin);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string joining = *created;
  v1::ActivateAccountRequest activate;
  activate.set_name(joining);
  activate.set_structure(StructureName(kOther));
  v1::ActivateAccountResponse activated;
  ASSERT_TRUE(accounts_->Activate(operator_, activate, activated).ok());
  EXPECT_EQ(activated.account().state(), v1::Account::ACTIVE);
  const internal::OutboxRecord mail = LastMail("ailleurs@example.fr", "JOIN_STRUCTURE");
  int activations = 0;
  for (const internal::OutboxRecord& sent : Outbox())
    activations += sent.to() == "ailleurs@example.fr" && sent.kind() == "ACTIVATION";
  EXPECT_EQ(activations, 1) << "only the one of his own account";

  v1::AcceptJoinRequest accept;
  accept.set_link_token(TokenIn(mail.body()));
  accept.set_password("not the password");
  v1::AcceptJoinResponse accepted;
  EXPECT_EQ(ErrorReason(accounts_->AcceptJoin(authz::Principal::Anonymous(), accept, accepted).status()),
            "EXISTING_ACCOUNT_PASSWORD");
  accept.set_password(kPassword);
  ASSERT_TRUE(accounts_->AcceptJoin(authz::Principal::Anonymous(), accept, accepted).ok());
  EXPECT_EQ(accepted.account(), existing);
  EXPECT_EQ(accepted.structure(), StructureName(kOther));
  v1::Account joined = GetAccount(existing);
  ASSERT_EQ(joined.memberships_size(), 2);
  v1::GetAccountRequest get;
  get.set_name(joining);
  v1::GetAccountResponse gone;
  EXPECT_EQ(ErrorReason(accounts_->Get(operator_, get, gone)), "ACCOUNT_NOT_FOUND") << "merged into the account";
  EXPECT_TRUE(Login("ailleurs@example.fr").ok()) << "the login still leads to the person's own account";
  EXPECT_EQ(ErrorReason(accounts_->AcceptJoin(authz::Principal::Anonymous(), accept, accepted).status()),
            "LINK_ALREADY_USED");
}

TEST_F(AccountsTest, NEW_CREATE_deletingAJoiningAccountLeavesTheLoginToItsOwner) {
  constexpr char kOther[] = "44306184100047";
  ASSERT_TRUE(CreateStructure(kOther).ok());
  ReadyAccount("ailleurs@example.fr", v1::COLLABORATOR);
  const authz::Principal admin = AdministratorOf(kOther);
  absl::StatusOr<std::string> created = CreateAccountIn(kOther, "ailleurs@example.fr", v1::COLLABORATOR, &admin);
  ASSERT_TRUE(created.ok()) << created.status();
  v1::RequestAccountDeletionRequest deletion;
  deletion.set_name(*created);
  deletion.set_structure(StructureName(kOther));
  v1::RequestAccountDeletionResponse deleted;
  ASSERT_TRUE(deletions_->Request(operator_, deletion, deleted).ok());
  EXPECT_TRUE(Login("ailleurs@example.fr").ok());
  // And the structure may create the person again.
  EXPECT_TRUE(CreateAccountIn(kOther, "ailleurs@example.fr", v1::COLLABORATOR, &admin).ok());
}

TEST_F(AccountsTest, AnAccountMayBelongToSeveralStructures) {
  ASSERT_TRUE(CreateStructure("44306184100047").ok());
  absl::StatusOr<std::string> name = CreateAccount("comptable@example.fr", v1::ADMINISTRATOR);
  ASSERT_TRUE(name.ok());
  v1::CreateAccountRequest request;
  request.set_parent("structures/44306184100047");
  *request.mutable_account() = Person("Comptable@example.fr");
  request.mutable_membership()->set_role(v1::COLLABORATOR);
  v1::CreateAccountResponse response;
  ASSERT_TRUE(accounts_->Create(operator_, request, response).ok());
  EXPECT_EQ(response.account().name(), *name);
  EXPECT_EQ(GetAccount(*name).memberships_size(), 2);
}

// Seed 001: an accounting firm's person in several client companies. The administrator of one client sees
// the person as his structure knows him: not the firm's other clients, not his phone numbers.
TEST_F(AccountsTest, SVC_LIST_anAdministratorSeesOnlyHisOwnStructuresPartOfASharedAccount) {
  ASSERT_TRUE(CreateStructure("44306184100047").ok());
  v1::CreateAccountRequest request;
  request.set_parent(StructureName(kSiret));
  *request.mutable_account() = Person("comptable@example.fr");
  request.mutable_account()->set_mobile_phone("+33600000000");
  request.mutable_membership()->set_role(v1::COLLABORATOR);
  v1::CreateAccountResponse created;
  ASSERT_TRUE(accounts_->Create(operator_, request, created).ok());
  request.set_parent("structures/44306184100047");
  ASSERT_TRUE(accounts_->Create(operator_, request, created).ok());
  const std::string name = created.account().name();

  v1::GetAccountRequest get;
  get.set_name(name);
  v1::GetAccountResponse seen;
  const authz::Principal admin =
      authz::Principal::Account("0000000000000001", {{kSiret, authz::Role::kAdministrator, ""}});
  ASSERT_TRUE(accounts_->Get(admin, get, seen).ok());
  ASSERT_EQ(seen.account().memberships_size(), 1);
  EXPECT_EQ(seen.account().memberships(0).structure(), StructureName(kSiret));
  EXPECT_EQ(seen.account().mobile_phone(), "");

  const std::string id = name.substr(std::string("accounts/").size());
  const authz::Principal self = authz::Principal::Account(
      id, {{kSiret, authz::Role::kCollaborator, ""}, {"44306184100047", authz::Role::kCollaborator, ""}});
  ASSERT_TRUE(accounts_->Get(self, get, seen).ok());
  EXPECT_EQ(seen.account().memberships_size(), 2) << "the account himself sees all of his";
  EXPECT_EQ(seen.account().mobile_phone(), "+33600000000");
}

TEST_F(AccountsTest, NEW_ACTIVATE_sendsASingleUseLinkInTheAccountsLanguage) {
  absl::StatusOr<std::string> name = CreateAccount("john@example.com", v1::COLLABORATOR);
  v1::UpdateAccountRequest update;
  update.mutable_account()->set_name(*name);
  update.mutable_account()->set_language("en");
  update.mutable_update_mask()->add_paths("language");
  v1::UpdateAccountResponse updated;
  ASSERT_TRUE(accounts_->Update(operator_, update, updated).ok());
  ASSERT_TRUE(Activate(*name).ok());
  internal::OutboxRecord mail = LastMail("john@example.com", "ACTIVATION");
  EXPECT_EQ(mail.subject(), "Activate your account");
  ASSERT_FALSE(TokenIn(mail.body()).empty());

  // CONFIRM: a form checks its password with validate_only; the link stays usable.
  v1::SetPasswordWithLinkRequest check;
  check.set_link_token(TokenIn(mail.body()));
  check.set_new_password("short");
  check.set_validate_only(true);
  v1::SetPasswordWithLinkResponse checked;
  EXPECT_EQ(ErrorReason(sessions_->SetPasswordWithLink(check, checked)), "PASSWORD_TOO_SHORT");
  check.set_new_password(kPassword);
  ASSERT_TRUE(sessions_->SetPasswordWithLink(check, checked).ok());
  EXPECT_EQ(checked.login_email(), "john@example.com");
  EXPECT_GE(checked.change_summary().changes_size(), 1);
  EXPECT_FALSE(Login("john@example.com").ok()) << "no password was set";

  ASSERT_TRUE(SetPasswordFromMail("john@example.com", "ACTIVATION", kPassword).ok());
  absl::Status again = SetPasswordFromMail("john@example.com", "ACTIVATION", "another long password 42");
  EXPECT_EQ(ErrorReason(again), "LINK_ALREADY_USED");
  EXPECT_TRUE(Login("john@example.com").ok());
}

TEST_F(AccountsTest, NEW_ACTIVATE_withoutAStructureTheAnswerSaysItIsRequired) {
  absl::StatusOr<std::string> name = CreateAccount("sans.structure@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(name.ok()) << name.status();
  v1::ActivateAccountRequest request;
  request.set_name(*name);
  v1::ActivateAccountResponse response;
  absl::Status status = accounts_->Activate(operator_, request, response).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(status), "REQUIRED") << status;
  EXPECT_NE(status.message().find("structure"), absl::string_view::npos) << status;
  request.set_structure("not a structure");
  EXPECT_EQ(ErrorReason(accounts_->Activate(operator_, request, response).status()), "NAME_FORMAT");
}

TEST_F(AccountsTest, NEW_ACTIVATE_anExpiredLinkIsRefused) {
  absl::StatusOr<std::string> name = CreateAccount("late@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Activate(*name).ok());
  clock_.now += policy_.activation_ttl + absl::Seconds(1);
  EXPECT_EQ(ErrorReason(SetPasswordFromMail("late@example.fr", "ACTIVATION", kPassword)), "LINK_EXPIRED");
  EXPECT_TRUE(Activate(*name).ok()) << "an active account without password gets a new link";
  EXPECT_TRUE(SetPasswordFromMail("late@example.fr", "ACTIVATION", kPassword).ok());
}

TEST_F(AccountsTest, SECRETS_linksGoToTheLoginEmailAndNoticesToTheNotificationEmail) {
  v1::CreateAccountRequest request;
  request.set_parent(StructureName(kSiret));
  *request.mutable_account() = Person("chef@example.fr");
  request.mutable_account()->set_notification_email("secretariat@example.fr");
  request.mutable_membership()->set_role(v1::COLLABORATOR);
  v1::CreateAccountResponse response;
  ASSERT_TRUE(accounts_->Create(operator_, request, response).ok());
  ASSERT_TRUE(Activate(response.account().name()).ok());
  EXPECT_EQ(LastMail("chef@example.fr", "ACTIVATION").subject(), "Activez votre compte");
  for (const auto& mail : Outbox()) EXPECT_NE(mail.to(), "secretariat@example.fr") << mail.kind();
  v1::ResendIdentifierRequest resend;
  resend.set_name(response.account().name());
  resend.set_structure(StructureName(kSiret));
  v1::ResendIdentifierResponse resent;
  ASSERT_TRUE(accounts_->ResendIdentifier(operator_, resend, resent).ok());
  EXPECT_EQ(LastMail("secretariat@example.fr", "IDENTIFIER").kind(), "IDENTIFIER") << "a notice, not a secret";
}

TEST_F(AccountsTest, SECRETS_aNewNotificationEmailWaitsForItsLinkAndALaterRequestSupersedesIt) {
  std::string name = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  auto ask = [&](const std::string& address) {
    v1::UpdateAccountRequest update;
    update.mutable_account()->set_name(name);
    update.mutable_account()->set_notification_email(address);
    update.mutable_update_mask()->add_paths("notification_email");
    v1::UpdateAccountResponse updated;
    EXPECT_TRUE(accounts_->Update(operator_, update, updated).ok());
    return updated.account();
  };
  auto confirm = [&](const std::string& address) {
    v1::ConfirmNotificationEmailRequest request;
    request.set_link_token(TokenIn(LastMail(address, "NOTIFICATION_EMAIL_CONFIRMATION").body()));
    v1::ConfirmNotificationEmailResponse response;
    return accounts_->ConfirmNotificationEmail(authz::Principal::Anonymous(), request, response).status();
  };
  v1::Account asked = ask("premier@example.fr");
  EXPECT_EQ(asked.notification_email(), "");
  EXPECT_EQ(asked.pending_notification_email(), "premier@example.fr");
  EXPECT_EQ(LastMail("jeanne@example.fr", "NOTIFICATION_EMAIL_CHANGED").kind(), "NOTIFICATION_EMAIL_CHANGED");
  ask("second@example.fr");
  EXPECT_EQ(ErrorReason(confirm("premier@example.fr")), "LINK_SUPERSEDED");
  ASSERT_TRUE(confirm("second@example.fr").ok());
  EXPECT_EQ(GetAccount(name).notification_email(), "second@example.fr");
  EXPECT_EQ(GetAccount(name).pending_notification_email(), "");
  // Clearing it is not a new address to prove: at once, with a notice to the address it leaves.
  EXPECT_EQ(ask("").notification_email(), "");
  EXPECT_EQ(LastMail("second@example.fr", "NOTIFICATION_EMAIL_CHANGED").kind(), "NOTIFICATION_EMAIL_CHANGED");
}

TEST_F(AccountsTest, FIRST_LOGIN_nothingButConsentBeforeConsent) {
  std::string name = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  absl::StatusOr<v1::LoginResponse> session = Login("jeanne@example.fr");
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_TRUE(session->privacy_consent_required());
  absl::StatusOr<authz::Principal> principal = PrincipalOf(*session);
  ASSERT_TRUE(principal.ok());
  EXPECT_EQ(principal->restriction, authz::Restriction::kConsentRequired);

  v1::AcceptPrivacyPolicyResponse consent;
  ASSERT_TRUE(sessions_->AcceptPrivacyPolicy(*principal, {}, consent).ok());
  EXPECT_TRUE(consent.account().has_privacy_consent_time());
  EXPECT_EQ(PrincipalOf(*session)->restriction, authz::Restriction::kNone);
}

TEST_F(AccountsTest, PWD_weakPasswordsAreRefused) {
  absl::StatusOr<std::string> name = CreateAccount("weak@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Activate(*name).ok());
  EXPECT_EQ(ErrorReason(SetPasswordFromMail("weak@example.fr", "ACTIVATION", "short")), "PASSWORD_TOO_SHORT");
  EXPECT_EQ(ErrorReason(SetPasswordFromMail("weak@example.fr", "ACTIVATION", "motdepasse123")), "PASSWORD_TOO_COMMON");
  EXPECT_EQ(ErrorReason(SetPasswordFromMail("weak@example.fr", "ACTIVATION", "weakweak-2027!")), "PASSWORD_TOO_COMMON")
      << "built on the login";
  EXPECT_TRUE(SetPasswordFromMail("weak@example.fr", "ACTIVATION", std::string(64, 'x') + "y").ok())
      << "64 characters and more are accepted";
}

TEST_F(AccountsTest, PWD_failuresLockTheAccountWithGrowingDelaysAndSuccessResetsThem) {
  ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  for (int i = 0; i < policy_.passwords.lockout_threshold; ++i) {
    EXPECT_EQ(ErrorReason(Login("jeanne@example.fr", "wrong password!!").status()), "LOGIN_FAILED");
  }
  // Locked now: even the right password fails, with the same answer.
  EXPECT_EQ(ErrorReason(Login("jeanne@example.fr").status()), "LOGIN_FAILED");
  clock_.now += policy_.passwords.first_lock + absl::Seconds(1);
  EXPECT_EQ(ErrorReason(Login("jeanne@example.fr", "wrong password!!").status()), "LOGIN_FAILED");
  clock_.now += policy_.passwords.first_lock + absl::Seconds(1);
  EXPECT_EQ(ErrorReason(Login("jeanne@example.fr").status()), "LOGIN_FAILED") << "the second lock is twice as long";
  clock_.now += policy_.passwords.first_lock;
  ASSERT_TRUE(Login("jeanne@example.fr").ok());
  absl::StatusOr<std::optional<std::string>> id;
  ASSERT_TRUE(
      store_->Read([&](store::Reader& r) { return (id = AccountIdByLogin(r, "jeanne@example.fr")).status(); }).ok());
  EXPECT_EQ(GetAccount(AccountName(**id)).failed_login_attempts(), 0);
}

TEST_F(AccountsTest, PWD_aFailedLoginNeverTellsWhetherTheLoginExists) {
  ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  absl::Status unknown = Login("nobody@example.fr").status();
  absl::Status wrong = Login("jeanne@example.fr", "wrong password!!").status();
  EXPECT_EQ(unknown.code(), wrong.code());
  EXPECT_EQ(unknown.message(), wrong.message());
  EXPECT_EQ(ErrorReason(unknown), ErrorReason(wrong));
}

TEST_F(AccountsTest, PWD_anExpiredPasswordMustBeChangedFirst) {
  ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  absl::StatusOr<v1::LoginResponse> older = Login("jeanne@example.fr");
  v1::AcceptPrivacyPolicyResponse consent;
  ASSERT_TRUE(sessions_->AcceptPrivacyPolicy(*PrincipalOf(*older), {}, consent).ok());
  clock_.now += policy_.passwords.max_age + absl::Hours(1);
  absl::StatusOr<v1::LoginResponse> session = Login("jeanne@example.fr");
  ASSERT_TRUE(session.ok());
  EXPECT_TRUE(session->password_change_required());
  absl::StatusOr<authz::Principal> principal = PrincipalOf(*session);
  EXPECT_EQ(principal->restriction, authz::Restriction::kPasswordChangeRequired);
  v1::ChangePasswordRequest change;
  change.set_current_password(kPassword);
  change.set_new_password("a brand new passphrase 2028");
  v1::ChangePasswordResponse changed;
  ASSERT_TRUE(sessions_->ChangePassword(*principal, change, changed).ok());
  EXPECT_EQ(PrincipalOf(*session)->restriction, authz::Restriction::kNone);
  EXPECT_FALSE(PrincipalOf(*older).ok()) << "a password change ends the other sessions";
}

TEST_F(AccountsTest, PWD_resetSendsALinkOnlyForAKnownLoginAndAlwaysAnswersOk) {
  ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  size_t before = Outbox().size();
  v1::RequestPasswordResetRequest unknown;
  unknown.set_login_email("nobody@example.fr");
  EXPECT_TRUE(sessions_->RequestPasswordReset(unknown).ok());
  EXPECT_EQ(Outbox().size(), before);
  v1::RequestPasswordResetRequest known;
  known.set_login_email("Jeanne@example.fr");
  EXPECT_TRUE(sessions_->RequestPasswordReset(known).ok());
  ASSERT_TRUE(SetPasswordFromMail("jeanne@example.fr", "PASSWORD_RESET", "my second long passphrase").ok());
  EXPECT_FALSE(Login("jeanne@example.fr").ok());
  EXPECT_TRUE(Login("jeanne@example.fr", "my second long passphrase").ok());
}

TEST_F(AccountsTest, PWD_passwordsAreStoredAsArgon2idHashes) {
  std::string hash = HashPassword(kPassword);
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << hash;
  EXPECT_TRUE(VerifyPassword(kPassword, hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapler", hash));
  EXPECT_NE(HashPassword(kPassword), hash) << "salted";
}

TEST_F(AccountsTest, PWD_suggestedPasswordsPassThePolicy) {
  std::string suggestion = SuggestPassword();
  EXPECT_EQ(suggestion.size(), 29u);
  EXPECT_TRUE(CheckPasswordStrength(policy_.passwords, "p", suggestion, "x@example.fr").ok());
  EXPECT_NE(SuggestPassword(), suggestion);
}

TEST_F(AccountsTest, LOGIN_CODE_administratorsConfirmWithAnEmailedCode) {
  ReadyAccount("admin@example.fr", v1::ADMINISTRATOR);
  absl::StatusOr<v1::LoginResponse> first = Login("admin@example.fr");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->session_token().empty());
  ASSERT_FALSE(first->code_challenge().empty());
  std::string code = CodeIn(LastMail("admin@example.fr", "LOGIN_CODE").body());
  ASSERT_EQ(code.size(), 6u);

  v1::ConfirmLoginCodeRequest wrong;
  wrong.set_code_challenge(first->code_challenge());
  wrong.set_code(code == "000000" ? "111111" : "000000");
  v1::ConfirmLoginCodeResponse response;
  EXPECT_EQ(ErrorReason(sessions_->ConfirmLoginCode(wrong, response)), "LOGIN_CODE_INVALID");
  v1::ConfirmLoginCodeRequest right = wrong;
  right.set_code(code);
  ASSERT_TRUE(sessions_->ConfirmLoginCode(right, response).ok());
  EXPECT_TRUE(sessions_->Authenticate(response.login().session_token()).ok());
  EXPECT_EQ(ErrorReason(sessions_->ConfirmLoginCode(right, response)), "LINK_ALREADY_USED");
}

TEST_F(AccountsTest, RESEND_ID_mailsTheLogin) {
  std::string name = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  v1::ResendIdentifierRequest request;
  request.set_name(name);
  request.set_structure(StructureName(kSiret));
  v1::ResendIdentifierResponse response;
  const size_t mails = Outbox().size();
  request.set_validate_only(true);
  ASSERT_TRUE(accounts_->ResendIdentifier(operator_, request, response).ok());
  EXPECT_EQ(Outbox().size(), mails) << "a dry run mails nothing";
  request.set_validate_only(false);
  ASSERT_TRUE(accounts_->ResendIdentifier(operator_, request, response).ok());
  EXPECT_EQ(Outbox().size(), mails + 1);
  EXPECT_NE(LastMail("jeanne@example.fr", "IDENTIFIER").body().find("jeanne@example.fr"), std::string::npos);
}

TEST_F(AccountsTest, DEVICES_anEndedSessionFailsOnItsNextCall) {
  std::string name = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  absl::StatusOr<v1::LoginResponse> laptop = Login("jeanne@example.fr");
  absl::StatusOr<v1::LoginResponse> phone = Login("jeanne@example.fr");
  authz::Principal me = *PrincipalOf(*laptop);
  v1::ListSessionsRequest list;
  list.set_parent(name);
  v1::ListSessionsResponse sessions;
  ASSERT_TRUE(sessions_->ListSessions(me, list, sessions).ok());
  ASSERT_EQ(sessions.sessions_size(), 2);
  v1::EndSessionRequest end;
  end.set_name(phone->session().name());
  // CONFIRM: validate_only answers what would end and ends nothing.
  end.set_validate_only(true);
  v1::EndSessionResponse ended;
  ASSERT_TRUE(sessions_->EndSession(operator_, end, ended).ok());
  ASSERT_EQ(ended.change_summary().changes_size(), 1);
  EXPECT_EQ(ended.change_summary().changes(0).kind(), v1::RecordChange::DELETED);
  EXPECT_TRUE(sessions_->Authenticate(phone->session_token()).ok());
  end.set_validate_only(false);
  ended.Clear();
  ASSERT_TRUE(sessions_->EndSession(operator_, end, ended).ok());
  EXPECT_EQ(ended.change_summary().changes_size(), 0);
  EXPECT_EQ(ErrorReason(sessions_->Authenticate(phone->session_token()).status()), "CREDENTIALS_INVALID");
  EXPECT_TRUE(sessions_->Authenticate(laptop->session_token()).ok());
  v1::LogoutRequest logout;
  logout.set_validate_only(true);
  v1::LogoutResponse logged_out;
  ASSERT_TRUE(sessions_->Logout(me, logout, logged_out).ok());
  EXPECT_EQ(logged_out.change_summary().changes_size(), 1);
  EXPECT_TRUE(sessions_->Authenticate(laptop->session_token()).ok());
  ASSERT_TRUE(sessions_->Logout(me, {}, logged_out).ok());
  EXPECT_FALSE(sessions_->Authenticate(laptop->session_token()).ok());
}

TEST_F(AccountsTest, DeactivationEndsSessionsAtOnce) {
  std::string name = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  absl::StatusOr<v1::LoginResponse> session = Login("jeanne@example.fr");
  v1::DeactivateAccountRequest request;
  request.set_name(name);
  request.set_structure(StructureName(kSiret));
  v1::DeactivateAccountResponse response;
  ASSERT_TRUE(accounts_->Deactivate(operator_, request, response).ok());
  EXPECT_FALSE(sessions_->Authenticate(session->session_token()).ok());
  EXPECT_FALSE(Login("jeanne@example.fr").ok());
}

TEST_F(AccountsTest, TheLastActiveAdministratorStays) {
  std::string admin = ReadyAccount("admin@example.fr", v1::ADMINISTRATOR);
  v1::DeactivateAccountRequest deactivate;
  deactivate.set_name(admin);
  deactivate.set_structure(StructureName(kSiret));
  v1::DeactivateAccountResponse deactivated;
  EXPECT_EQ(ErrorReason(accounts_->Deactivate(operator_, deactivate, deactivated).status()), "LAST_ADMINISTRATOR");

  v1::UpdateMembershipRequest demote;
  demote.set_account(admin);
  demote.mutable_membership()->set_structure(StructureName(kSiret));
  demote.mutable_membership()->set_role(v1::COLLABORATOR);
  v1::UpdateMembershipResponse demoted;
  EXPECT_EQ(ErrorReason(accounts_->UpdateMembership(operator_, demote, demoted).status()), "LAST_ADMINISTRATOR");

  std::string second = ReadyAccount("admin2@example.fr", v1::ADMINISTRATOR);
  EXPECT_TRUE(accounts_->UpdateMembership(operator_, demote, demoted).ok());
}

TEST_F(AccountsTest, TheLastActiveAdministratorStaysUnderConcurrentRequests) {
  std::string a = ReadyAccount("a@example.fr", v1::ADMINISTRATOR);
  std::string b = ReadyAccount("b@example.fr", v1::ADMINISTRATOR);
  std::atomic<int> done = 0;
  std::vector<std::thread> threads;
  for (const std::string& name : {a, b}) {
    threads.emplace_back([&, name] {
      v1::DeactivateAccountRequest request;
      request.set_name(name);
      request.set_structure(StructureName(kSiret));
      v1::DeactivateAccountResponse response;
      if (accounts_->Deactivate(operator_, request, response).ok()) ++done;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(done.load(), 1);
  absl::StatusOr<int> active;
  ASSERT_TRUE(store_->Read([&](store::Reader& r) { return (active = ActiveAdministrators(r, kSiret)).status(); }).ok());
  EXPECT_EQ(*active, 1);
}

TEST_F(AccountsTest, SELF_updatesPersonalDataAndTheLoginOnlyThroughItsConfirmation) {
  std::string name = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  v1::UpdateAccountRequest request;
  request.mutable_account()->set_name(name);
  request.mutable_account()->set_mobile_phone("+33 6 12 34 56 78");
  request.mutable_account()->set_mute_notifications(true);
  request.mutable_update_mask()->add_paths("mobile_phone");
  request.mutable_update_mask()->add_paths("mute_notifications");
  v1::UpdateAccountResponse response;
  ASSERT_TRUE(accounts_->Update(operator_, request, response).ok());
  EXPECT_EQ(response.account().mobile_phone(), "+33 6 12 34 56 78");
  EXPECT_TRUE(response.account().mute_notifications());
  request.mutable_update_mask()->add_paths("state");
  EXPECT_EQ(ErrorReason(accounts_->Update(operator_, request, response).status()), "FIELD_NOT_UPDATABLE");
  request.mutable_update_mask()->Clear();
  request.mutable_update_mask()->add_paths("login_email");
  request.mutable_account()->set_login_email("jeanne.nouvelle@example.fr");
  ASSERT_TRUE(accounts_->Update(operator_, request, response).ok());
  EXPECT_EQ(response.account().login_email(), "jeanne@example.fr") << "until the new address confirms it";
  EXPECT_EQ(response.account().pending_login_email(), "jeanne.nouvelle@example.fr");
  request.mutable_account()->set_login_email("pas une adresse");
  EXPECT_EQ(ErrorReason(accounts_->Update(operator_, request, response).status()), "EMAIL_FORMAT");
}

TEST_F(AccountsTest, SVC_TRANSFER_movesAccountsAndNotifiesResponsables) {
  std::string responsable = ReadyAccount("resp@example.fr", v1::RESPONSABLE, "finances");
  std::string collaborator = ReadyAccount("collab@example.fr", v1::COLLABORATOR, "finances");
  v1::TransferAccountsRequest request;
  request.set_parent(StructureName(kSiret));
  request.add_login_emails("RESP@example.fr");
  request.add_login_emails("collab@example.fr");
  request.set_service(Service("rh"));
  v1::TransferAccountsResponse response;
  ASSERT_TRUE(accounts_->Transfer(operator_, request, response).ok());
  EXPECT_EQ(GetAccount(responsable).memberships(0).service(), Service("rh"));
  EXPECT_EQ(GetAccount(collaborator).memberships(0).service(), Service("rh"));
  EXPECT_NE(LastMail("resp@example.fr", "TRANSFER").body().find("RH"), std::string::npos);
  for (const auto& mail : Outbox()) {
    EXPECT_FALSE(mail.to() == "collab@example.fr" && mail.kind() == "TRANSFER") << "only responsables are notified";
  }
}

TEST_F(AccountsTest, SVC_TRANSFER_anUnknownAccountMovesNobody) {
  std::string collaborator = ReadyAccount("collab@example.fr", v1::COLLABORATOR, "finances");
  v1::TransferAccountsRequest request;
  request.set_parent(StructureName(kSiret));
  request.add_login_emails("collab@example.fr");
  request.add_login_emails("ghost@example.fr");
  request.set_service(Service("rh"));
  v1::TransferAccountsResponse response;
  EXPECT_EQ(ErrorReason(accounts_->Transfer(operator_, request, response).status()), "ACCOUNT_NOT_FOUND");
  EXPECT_EQ(GetAccount(collaborator).memberships(0).service(), Service("finances"));
}

TEST_F(AccountsTest, SVC_LIST_listsMembersWithoutPhones) {
  std::string name = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR, "rh");
  v1::UpdateAccountRequest update;
  update.mutable_account()->set_name(name);
  update.mutable_account()->set_phone("02 98 00 00 00");
  v1::UpdateAccountResponse updated;
  ASSERT_TRUE(accounts_->Update(operator_, update, updated).ok());
  v1::ListAccountsRequest request;
  request.set_parent(StructureName(kSiret));
  v1::ListAccountsResponse response;
  ASSERT_TRUE(accounts_->List(operator_, request, response).ok());
  ASSERT_EQ(response.accounts_size(), 1);
  EXPECT_EQ(response.accounts(0).phone(), "");
  EXPECT_EQ(response.accounts(0).memberships(0).service(), Service("rh"));
}

TEST_F(AccountsTest, SVC_LIST_aMemberIsFoundByHisLoginAndNobodyElse) {
  constexpr char kOther[] = "44306184100047";
  ASSERT_TRUE(CreateStructure(kOther).ok());
  const std::string jeanne = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR, "rh");
  ASSERT_TRUE(CreateAccountIn(kOther, "ailleurs@example.fr", v1::COLLABORATOR).ok());
  auto find = [&](const std::string& login) {
    v1::ListAccountsRequest request;
    request.set_parent(StructureName(kSiret));
    request.set_login_email(login);
    v1::ListAccountsResponse response;
    absl::Status status = accounts_->List(operator_, request, response);
    EXPECT_TRUE(status.ok()) << status;
    return response;
  };
  v1::ListAccountsResponse found = find("JEANNE@example.fr");
  ASSERT_EQ(found.accounts_size(), 1);
  EXPECT_EQ(found.accounts(0).name(), jeanne);
  EXPECT_EQ(found.accounts(0).memberships(0).service(), Service("rh"));
  // A login of another structure answers as a login of nobody.
  EXPECT_EQ(find("ailleurs@example.fr").DebugString(), find("personne@example.fr").DebugString());
  EXPECT_EQ(find("ailleurs@example.fr").accounts_size(), 0);

  v1::ListAccountsRequest bad;
  bad.set_parent(StructureName(kSiret));
  bad.set_login_email("not an address");
  v1::ListAccountsResponse response;
  EXPECT_EQ(ErrorReason(accounts_->List(operator_, bad, response)), "EMAIL_FORMAT");
}

TEST_F(AccountsTest, SVC_LIST_aResponsableListsTheMembersOfHisOwnServiceOnly) {
  ReadyAccount("chef-rh@example.fr", v1::RESPONSABLE, "rh");
  const std::string jeanne = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR, "rh");
  ReadyAccount("paul@example.fr", v1::COLLABORATOR, "finances");
  absl::StatusOr<v1::LoginResponse> login = Login("chef-rh@example.fr");
  ASSERT_TRUE(login.ok()) << login.status();
  absl::StatusOr<authz::Principal> responsable = PrincipalOf(*login);
  ASSERT_TRUE(responsable.ok());
  v1::ListAccountsRequest request;
  request.set_parent(StructureName(kSiret));
  v1::ListAccountsResponse response;
  ASSERT_TRUE(accounts_->List(*responsable, request, response).ok());
  std::set<std::string> seen;
  for (const v1::Account& account : response.accounts()) seen.insert(account.login_email());
  EXPECT_EQ(seen, (std::set<std::string>{"chef-rh@example.fr", "jeanne@example.fr"}));
  request.set_login_email("paul@example.fr");
  response.Clear();
  ASSERT_TRUE(accounts_->List(*responsable, request, response).ok());
  EXPECT_EQ(response.accounts_size(), 0) << "a member of another service is not found by his login either";
}

// habilis-migrate's step from format 1: a login stored without its look-alike key gets one.
TEST_F(AccountsTest, FORMAT_2_theMigrationGivesEveryLoginItsLookalikeKey) {
  ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(store_
                  ->Update([](store::Transaction& txn) -> absl::Status {
                    return txn.Delete(store::LoginLookalikeKey(ConfusableSkeleton("jeanne@example.fr")));
                  })
                  .ok());
  ASSERT_TRUE(domain::BuildLoginLookalikeIndex(*store_).ok());
  ASSERT_TRUE(domain::BuildLoginLookalikeIndex(*store_).ok()) << "idempotent: a cut-short migration runs again";
  EXPECT_EQ(ErrorReason(CreateAccount("j\xd0\xb5"
                                      "anne@example.fr",
                                      v1::COLLABORATOR)
                            .status()),
            "LOGIN_CONFUSABLE");
}

TEST_F(AccountsTest, SVC_DELETE_refusedWhileAnAccountIsAttached) {
  ReadyAccount("jeanne@example.fr", v1::COLLABORATOR, "rh");
  v1::BatchDeleteServicesRequest request;
  request.set_parent(StructureName(kSiret));
  request.add_names(Service("rh"));
  v1::BatchDeleteServicesResponse response;
  EXPECT_EQ(ErrorReason(org_chart_->BatchDeleteServices(operator_, request, response).status()),
            "SERVICE_HAS_ACCOUNTS");
}

TEST_F(AccountsTest, SVC_MERGE_movesTheAccountsOfTheSources) {
  ASSERT_TRUE(CreateService("accueil", "Accueil").ok());
  std::string a = ReadyAccount("a@example.fr", v1::COLLABORATOR, "finances");
  std::string b = ReadyAccount("b@example.fr", v1::RESPONSABLE, "accueil");
  v1::MergeServicesRequest request;
  request.set_parent(StructureName(kSiret));
  request.add_sources(Service("finances"));
  request.add_sources(Service("accueil"));
  request.set_target(Service("rh"));
  v1::MergeServicesResponse response;
  ASSERT_TRUE(org_chart_->MergeServices(operator_, request, response).ok());
  EXPECT_EQ(GetAccount(a).memberships(0).service(), Service("rh"));
  EXPECT_EQ(GetAccount(b).memberships(0).service(), Service("rh"));
}

TEST_F(AccountsTest, DEL_REQUEST_isImmediateForAnAccountOfOneStructure) {
  std::string name = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  v1::RequestAccountDeletionRequest request;
  request.set_name(name);
  request.set_structure(StructureName(kSiret));
  v1::RequestAccountDeletionResponse response;
  ASSERT_TRUE(deletions_->Request(operator_, request, response).ok());
  EXPECT_EQ(response.deletion_request().state(), v1::DeletionRequest::DONE);
  v1::GetAccountRequest get;
  get.set_name(name);
  v1::GetAccountResponse got;
  EXPECT_EQ(accounts_->Get(operator_, get, got).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(Login("jeanne@example.fr").ok());
  EXPECT_TRUE(CreateAccount("jeanne@example.fr", v1::COLLABORATOR).ok()) << "the login is free again";
}

TEST_F(AccountsTest, DEL_REQUEST_waitsForAnOperatorWhenTheAccountHasOtherStructures) {
  ASSERT_TRUE(CreateStructure("44306184100047").ok());
  std::string name = ReadyAccount("jeanne@example.fr", v1::COLLABORATOR);
  v1::CreateAccountRequest other;
  other.set_parent("structures/44306184100047");
  *other.mutable_account() = Person("jeanne@example.fr");
  other.mutable_membership()->set_role(v1::COLLABORATOR);
  v1::CreateAccountResponse attached;
  ASSERT_TRUE(accounts_->Create(operator_, other, attached).ok());

  v1::RequestAccountDeletionRequest request;
  request.set_name(name);
  request.set_structure(StructureName(kSiret));
  v1::RequestAccountDeletionResponse response;
  ASSERT_TRUE(deletions_->Request(operator_, request, response).ok());
  EXPECT_EQ(response.deletion_request().state(), v1::DeletionRequest::PENDING);
  EXPECT_EQ(response.deletion_request().requester(), operator_.ResourceName());
  EXPECT_TRUE(Login("jeanne@example.fr").ok());
  v1::RequestAccountDeletionResponse again;
  EXPECT_EQ(ErrorReason(deletions_->Request(operator_, request, again).status()), "DELETION_ALREADY_REQUESTED")
      << "one pending request per person";

  v1::DecideDeletionRequestRequest refuse;
  refuse.set_name(response.deletion_request().name());
  v1::DecideDeletionRequestResponse decided;
  EXPECT_EQ(ErrorReason(deletions_->Decide(operator_, refuse, decided).status()), "COMMENT_REQUIRED_TO_REFUSE");
  v1::DecideDeletionRequestRequest approve = refuse;
  approve.set_approve(true);
  // CONFIRM: the dry run shows the account's records going, and deletes nothing.
  approve.set_validate_only(true);
  ASSERT_TRUE(deletions_->Decide(operator_, approve, decided).ok());
  EXPECT_EQ(decided.deletion_request().state(), v1::DeletionRequest::DONE) << "what it would become";
  EXPECT_TRUE(std::any_of(decided.change_summary().changes().begin(), decided.change_summary().changes().end(),
                          [](const v1::RecordChange& c) { return c.kind() == v1::RecordChange::DELETED; }));
  EXPECT_TRUE(Login("jeanne@example.fr").ok());
  approve.set_validate_only(false);
  ASSERT_TRUE(deletions_->Decide(operator_, approve, decided).ok());
  EXPECT_EQ(decided.deletion_request().state(), v1::DeletionRequest::DONE);
  EXPECT_FALSE(Login("jeanne@example.fr").ok());
  EXPECT_EQ(ErrorReason(deletions_->Decide(operator_, approve, decided).status()), "DELETION_REQUEST_DECIDED");
}

// A reader whose every Get answers `answer`: a store failure that the real stores only give under a race
// (a serialization failure on PostgreSQL).
class AnsweringReader final : public store::Reader {
 public:
  explicit AnsweringReader(absl::StatusOr<std::string> answer) : answer_(std::move(answer)) {}
  absl::StatusOr<std::string> Get(absl::string_view) override { return answer_; }
  absl::Status Scan(absl::string_view, absl::string_view, store::ScanVisitor) override { return absl::OkStatus(); }
  absl::StatusOr<store::Revision> SnapshotRevision() override { return 1; }

 private:
  absl::StatusOr<std::string> answer_;
};

TEST(StructureDisplayNameTest, AGoneStructureIsNamedByItsSiretAndAFailedReadIsAnError) {
  v1::Structure structure;
  structure.set_display_name("Mairie de Brest");
  AnsweringReader found(structure.SerializeAsString());
  EXPECT_EQ(StructureDisplayName(found, "21290019600011").value_or(""), "Mairie de Brest");
  AnsweringReader gone(absl::NotFoundError("no entry"));
  EXPECT_EQ(StructureDisplayName(gone, "21290019600011").value_or(""), "21290019600011");
  // A conflict met while reading must reach the transaction (it runs again), not turn into the SIRET.
  AnsweringReader failed(store::ConflictError("could not serialize access"));
  EXPECT_TRUE(store::IsConflict(StructureDisplayName(failed, "21290019600011").status()));
}

}  // namespace
}  // namespace habilis::domain
