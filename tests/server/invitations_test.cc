// Account creation by invitation: INV-SEND, INV-FILL, INV-DECIDE.
#include "server/domain/entitlements/entitlements.h"
#include "tests/testing/domain_fixture.h"

namespace habilis::domain {
namespace {

using testing::DomainTest;

class InvitationsTest : public DomainTest {
 protected:
  void SetUp() override {
    DomainTest::SetUp();
    ASSERT_TRUE(CreateStructure().ok());
    ASSERT_TRUE(CreateService("finances", "Finances").ok());
    v1::CreateApplicationRequest app;
    app.set_application_id("portail");
    app.mutable_application()->set_display_name("Portail");
    v1::CreateApplicationResponse created;
    ASSERT_TRUE(Applications(*store_, clock_).Create(operator_, app, created).ok());
    ASSERT_TRUE(Subscribe(kSiret).ok());
    admin_ = ReadyAccount("admin@example.fr", v1::ADMINISTRATOR);
  }

  // SUB: invitations are for an application the structure subscribes to.
  absl::Status Subscribe(const std::string& siret) {
    v1::CreateSubscriptionRequest request;
    request.set_parent(StructureName(siret));
    request.set_application("applications/portail");
    v1::CreateSubscriptionResponse response;
    return Entitlements(*store_, clock_).CreateSubscription(operator_, request, response).status();
  }

  absl::StatusOr<v1::SendInvitationsResponse> Send(const std::vector<std::string>& emails,
                                                   v1::Role role = v1::COLLABORATOR) {
    v1::SendInvitationsRequest request;
    request.set_parent(StructureName(kSiret));
    request.set_application("applications/portail");
    for (const std::string& email : emails) request.add_emails(email);
    request.set_role(role);
    request.set_service(Service("finances"));
    v1::SendInvitationsResponse response;
    absl::StatusOr<store::Revision> revision = invitations_->Send(operator_, request, response);
    if (!revision.ok()) return revision.status();
    return response;
  }

  absl::StatusOr<v1::Invitation> Fill(const std::string& email, const std::string& password = kPassword,
                                      v1::FillInvitationResponse* dry_run = nullptr) {
    v1::FillInvitationRequest request;
    request.set_link_token(TokenIn(LastMail(email, "INVITATION").body()));
    *request.mutable_account() = Person("ignored@example.fr");
    request.set_password(password);
    request.set_validate_only(dry_run != nullptr);
    v1::FillInvitationResponse response;
    absl::Status status = invitations_->Fill(request, response);
    if (!status.ok()) return status;
    if (dry_run != nullptr) *dry_run = response;
    return response.invitation();
  }

  absl::StatusOr<v1::DecideInvitationsResponse> Decide(const std::vector<v1::InvitationDecision>& decisions) {
    v1::DecideInvitationsRequest request;
    request.set_parent(StructureName(kSiret));
    for (const auto& d : decisions) *request.add_decisions() = d;
    v1::DecideInvitationsResponse response;
    absl::StatusOr<store::Revision> revision =
        invitations_->Decide(decider_ ? *decider_ : operator_, request, response);
    if (!revision.ok()) return revision.status();
    return response;
  }

  static v1::InvitationDecision Decision(const v1::Invitation& invitation, bool accept, std::string comment = "") {
    v1::InvitationDecision d;
    d.set_invitation(invitation.name());
    d.set_accept(accept);
    d.set_comment(std::move(comment));
    return d;
  }

  std::string admin_;
  std::optional<authz::Principal> decider_;  // the operator unless set
};

// No existence oracle: when the address got an account elsewhere after the form was filled, accepting answers
// as for any invitee; the account made is a joining one and the person is asked to join with his own.
TEST_F(InvitationsTest, INV_DECIDE_anAccountMadeElsewhereSinceTheFormIsNotToldToTheAdministrator) {
  ASSERT_TRUE(Send({"tardif@example.fr"}).ok());
  absl::StatusOr<v1::Invitation> filled = Fill("tardif@example.fr");
  ASSERT_TRUE(filled.ok()) << filled.status();
  ASSERT_TRUE(CreateStructure("44306184100047").ok());
  absl::StatusOr<std::string> existing = CreateAccountIn("44306184100047", "tardif@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(existing.ok()) << existing.status();
  decider_ = AdministratorOf(kSiret);
  absl::StatusOr<v1::DecideInvitationsResponse> decided = Decide({Decision(*filled, true)});
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->invitations(0).state(), v1::Invitation::ACCEPTED);
  EXPECT_NE(decided->invitations(0).account(), *existing);
  EXPECT_FALSE(TokenIn(LastMail("tardif@example.fr", "JOIN_STRUCTURE").body()).empty());
}

// Issue 14, item 9: an invitation not filled in before its link expires reads as EXPIRED; an administrator
// sends it again with a new link, and the old link no longer works.
TEST_F(InvitationsTest, INV_SEND_anExpiredInvitationReadsExpiredAndIsResentWithANewLink) {
  absl::StatusOr<v1::SendInvitationsResponse> sent = Send({"lent@example.fr"});
  ASSERT_TRUE(sent.ok()) << sent.status();
  const std::string old_token = TokenIn(LastMail("lent@example.fr", "INVITATION").body());
  clock_.now += policy_.invitation_ttl + absl::Minutes(1);
  v1::ListInvitationsRequest list;
  list.set_parent(StructureName(kSiret));
  list.set_state(v1::Invitation::EXPIRED);
  v1::ListInvitationsResponse listed;
  ASSERT_TRUE(invitations_->List(operator_, list, listed).ok());
  ASSERT_EQ(listed.invitations_size(), 1);
  EXPECT_EQ(listed.invitations(0).state(), v1::Invitation::EXPIRED);

  v1::ResendInvitationsRequest resend;
  resend.set_parent(StructureName(kSiret));
  resend.add_invitations(sent->invitations(0).name());
  v1::ResendInvitationsResponse resent;
  ASSERT_TRUE(invitations_->Resend(operator_, resend, resent).ok());
  EXPECT_EQ(resent.invitations(0).state(), v1::Invitation::SENT);
  const std::string new_token = TokenIn(LastMail("lent@example.fr", "INVITATION").body());
  EXPECT_NE(new_token, old_token);
  v1::GetInvitationByLinkRequest by_old;
  by_old.set_link_token(old_token);
  v1::GetInvitationByLinkResponse read;
  EXPECT_FALSE(invitations_->GetByLink(by_old, read).ok()) << "the old link is spent";
  ASSERT_TRUE(Fill("lent@example.fr").ok()) << "the new link works";
  EXPECT_EQ(ErrorReason(invitations_->Resend(operator_, resend, resent).status()), "INVITATION_ALREADY_FILLED");
}

TEST_F(InvitationsTest, INV_SEND_mailsEachAddressASingleUseLink) {
  absl::StatusOr<v1::SendInvitationsResponse> sent = Send({"a@example.fr", "B@example.fr"});
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->invitations_size(), 2);
  EXPECT_EQ(sent->invitations(1).email(), "b@example.fr");
  EXPECT_EQ(sent->invitations(0).state(), v1::Invitation::SENT);
  EXPECT_FALSE(TokenIn(LastMail("a@example.fr", "INVITATION").body()).empty());
  EXPECT_FALSE(TokenIn(LastMail("b@example.fr", "INVITATION").body()).empty());
}

TEST_F(InvitationsTest, INV_SEND_checksEveryAddressAndTheRole) {
  EXPECT_EQ(ErrorReason(Send({"a@example.fr", "not-an-address"}).status()), "EMAIL_FORMAT");
  EXPECT_EQ(ErrorReason(Send({"a@example.fr"}, v1::ADMINISTRATOR).status()), "ROLE_NOT_INVITABLE");
  EXPECT_EQ(ErrorReason(Send({}).status()), "REQUIRED");
}

TEST_F(InvitationsTest, INV_FILL_makesTheRequestPendingAndNotifiesTheAdministrators) {
  ASSERT_TRUE(Send({"new@example.fr"}).ok());
  absl::StatusOr<v1::Invitation> filled = Fill("new@example.fr");
  ASSERT_TRUE(filled.ok()) << filled.status();
  EXPECT_EQ(filled->state(), v1::Invitation::PENDING);
  EXPECT_EQ(filled->form().login_email(), "new@example.fr") << "the login is the invited address";
  EXPECT_NE(LastMail("admin@example.fr", "INVITATION_PENDING").body().find("new@example.fr"), std::string::npos);
  EXPECT_EQ(ErrorReason(Fill("new@example.fr").status()), "LINK_ALREADY_USED");
}

TEST_F(InvitationsTest, CONFIRM_aFormCheckedWithValidateOnlyLeavesTheLinkToBeUsed) {
  ASSERT_TRUE(Send({"new@example.fr"}).ok());
  const size_t mails = Outbox().size();
  v1::FillInvitationResponse dry;
  EXPECT_EQ(ErrorReason(Fill("new@example.fr", "court", &dry).status()), "PASSWORD_TOO_SHORT");
  absl::StatusOr<v1::Invitation> checked = Fill("new@example.fr", kPassword, &dry);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->state(), v1::Invitation::PENDING) << "what the invitation would become";
  EXPECT_GE(dry.change_summary().changes_size(), 1);
  EXPECT_EQ(Outbox().size(), mails) << "no administrator is notified of a dry run";
  absl::StatusOr<v1::Invitation> filled = Fill("new@example.fr");
  ASSERT_TRUE(filled.ok()) << filled.status();
  EXPECT_EQ(filled->state(), v1::Invitation::PENDING);
}

TEST_F(InvitationsTest, INV_FILL_anExpiredLinkIsRefused) {
  ASSERT_TRUE(Send({"new@example.fr"}).ok());
  clock_.now += policy_.invitation_ttl + absl::Seconds(1);
  EXPECT_EQ(ErrorReason(Fill("new@example.fr").status()), "LINK_EXPIRED");
}

TEST_F(InvitationsTest, INV_DECIDE_aRefusalNeedsACommentAndNothingChangesWithout) {
  ASSERT_TRUE(Send({"a@example.fr", "b@example.fr"}).ok());
  absl::StatusOr<v1::Invitation> a = Fill("a@example.fr");
  absl::StatusOr<v1::Invitation> b = Fill("b@example.fr");
  absl::StatusOr<v1::DecideInvitationsResponse> refused = Decide({Decision(*a, true), Decision(*b, false)});
  EXPECT_EQ(ErrorReason(refused.status()), "COMMENT_REQUIRED_TO_REFUSE");
  EXPECT_FALSE(Login("a@example.fr").ok()) << "the acceptance in the same call did not happen either";

  absl::StatusOr<v1::DecideInvitationsResponse> decided =
      Decide({Decision(*a, true), Decision(*b, false, "Vous ne faites pas partie du service.")});
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->invitations(0).state(), v1::Invitation::ACCEPTED);
  EXPECT_EQ(decided->invitations(1).state(), v1::Invitation::REFUSED);
  EXPECT_NE(LastMail("b@example.fr", "INVITATION_REFUSED").body().find("Vous ne faites pas partie"), std::string::npos);
  EXPECT_EQ(LastMail("a@example.fr", "INVITATION_ACCEPTED").kind(), "INVITATION_ACCEPTED");

  absl::StatusOr<v1::LoginResponse> session = Login("a@example.fr");
  ASSERT_TRUE(session.ok()) << "the accepted invitee logs in with the password of the form";
  EXPECT_TRUE(session->privacy_consent_required());
  EXPECT_EQ(session->account().memberships(0).service(), Service("finances"));
  EXPECT_EQ(ErrorReason(Decide({Decision(*a, true)}).status()), "INVITATION_NOT_PENDING");
}

TEST_F(InvitationsTest, INV_FILL_anExistingAccountProvesItselfAndIsAttached) {
  ASSERT_TRUE(CreateStructure("44306184100047").ok());
  ASSERT_TRUE(Subscribe("44306184100047").ok());
  // The administrator of the first structure is invited into the second one.
  v1::SendInvitationsRequest request;
  request.set_parent("structures/44306184100047");
  request.set_application("applications/portail");
  request.add_emails("admin@example.fr");
  request.set_role(v1::COLLABORATOR);
  v1::SendInvitationsResponse sent;
  ASSERT_TRUE(invitations_->Send(operator_, request, sent).ok());
  EXPECT_EQ(ErrorReason(Fill("admin@example.fr", "not the right password").status()), "EXISTING_ACCOUNT_PASSWORD");
  ASSERT_TRUE(Fill("admin@example.fr").ok());

  v1::DecideInvitationsRequest decide;
  decide.set_parent("structures/44306184100047");
  decide.add_decisions()->set_invitation(sent.invitations(0).name());
  decide.mutable_decisions(0)->set_accept(true);
  v1::DecideInvitationsResponse decided;
  ASSERT_TRUE(invitations_->Decide(operator_, decide, decided).ok());
  EXPECT_EQ(decided.invitations(0).account(), admin_);
  v1::GetAccountRequest get;
  get.set_name(admin_);
  v1::GetAccountResponse account;
  ASSERT_TRUE(accounts_->Get(operator_, get, account).ok());
  EXPECT_EQ(account.account().memberships_size(), 2);
}

}  // namespace
}  // namespace habilis::domain
