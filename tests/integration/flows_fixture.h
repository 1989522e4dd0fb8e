// The fixture of the flows that people go through (issue 3's account flows, issue 14's self-service), over
// gRPC against the real habilisd and a real SMTP server: every link and code comes out of a delivered e-mail.
#ifndef HABILIS_TESTS_INTEGRATION_FLOWS_FIXTURE_H_
#define HABILIS_TESTS_INTEGRATION_FLOWS_FIXTURE_H_

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "clients/cpp/client.h"
#include "gtest/gtest.h"
#include "habilis/v1/access.grpc.pb.h"
#include "habilis/v1/accounts.grpc.pb.h"
#include "habilis/v1/applications.grpc.pb.h"
#include "habilis/v1/audit.grpc.pb.h"
#include "habilis/v1/entitlements.grpc.pb.h"
#include "habilis/v1/invitations.grpc.pb.h"
#include "habilis/v1/org_chart.grpc.pb.h"
#include "habilis/v1/sessions.grpc.pb.h"
#include "habilis/v1/structures.grpc.pb.h"
#include "tests/testing/habilisd_process.h"
#include "tests/testing/smtp_sink.h"
#include "tests/testing/temp_dir.h"

namespace habilis::testing {

inline constexpr char kSiret[] = "73282932000074";
inline constexpr char kStructure[] = "structures/73282932000074";
inline constexpr char kPassword[] = "correct horse battery staple";

inline std::string LinkToken(const ReceivedMail& mail) {
  std::smatch match;
  static const std::regex kToken("token=(hbl_[0-9a-f]{16}_[A-Za-z0-9_-]+)");
  return std::regex_search(mail.body, match, kToken) ? match[1].str() : "";
}

inline std::string Code(const ReceivedMail& mail) {
  std::smatch match;
  static const std::regex kCode("([0-9]{6})");
  return std::regex_search(mail.body, match, kCode) ? match[1].str() : "";
}

inline v1::Account Person(const std::string& login) {
  v1::Account account;
  account.set_login_email(login);
  account.set_given_name("Jeanne");
  account.set_family_name("Martin");
  account.set_address("2 rue du Port");
  account.set_postal_code("29200");
  account.set_city("Brest");
  return account;
}

// A habilisd on a fresh data directory with a real SMTP server, an operator key, and one structure with a
// service ("finances") and an application ("portail"), driven over gRPC as the portals drive it.
class FlowsFixture : public ::testing::Test {
 protected:
  void SetUp() override { SetUpWith(0); }

  void SetUpWith(int refuse_first) {
    auto sink = SmtpSink::Start(refuse_first);
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = std::move(sink).value();
    RunResult created = RunHabilisd({"--data-dir", dir_.Sub("data"), "--create-operator-key", "t"});
    ASSERT_EQ(created.exit_code, 0);
    operator_key_ = std::string(absl::StripAsciiWhitespace(created.out));
    Start(sink_->url());
    SeedStructure();
  }

  void Start(const std::string& smtp_url, const std::vector<std::string>& extra_args = {}) {
    process_.reset();
    std::vector<std::string> args = {"--mail-poll-ms", "50"};
    if (!smtp_url.empty()) args.insert(args.end(), {"--smtp-url", smtp_url});
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto process = HabilisdProcess::Start(dir_.Sub("data"), args);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(process).value();
    auto channel = client::Connect(process_->target());
    structures_ = v1::StructureService::NewStub(channel);
    org_chart_ = v1::OrgChartService::NewStub(channel);
    applications_ = v1::ApplicationService::NewStub(channel);
    accounts_ = v1::AccountService::NewStub(channel);
    sessions_ = v1::SessionService::NewStub(channel);
    invitations_ = v1::InvitationService::NewStub(channel);
    audit_ = v1::AuditService::NewStub(channel);
    access_ = v1::AccessService::NewStub(channel);
    entitlements_ = v1::EntitlementService::NewStub(channel);
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!bearer.empty()) client::Authorize(*context, bearer);
    return context;
  }

  void SeedStructure() {
    v1::CreateStructureRequest structure;
    structure.mutable_structure()->set_siret(kSiret);
    structure.mutable_structure()->set_category("Commune");
    structure.mutable_structure()->set_display_name("Commune de Test");
    structure.mutable_structure()->set_address("1 place de la Mairie");
    structure.mutable_structure()->set_postal_code("29200");
    structure.mutable_structure()->set_city("Brest");
    v1::CreateStructureResponse created;
    ASSERT_TRUE(structures_->CreateStructure(As(operator_key_).get(), structure, &created).ok());
    v1::CreateServiceRequest service;
    service.set_parent(kStructure);
    service.set_service_id("finances");
    service.mutable_service()->set_display_name("Finances");
    v1::CreateServiceResponse service_created;
    ASSERT_TRUE(org_chart_->CreateService(As(operator_key_).get(), service, &service_created).ok());
    v1::CreateApplicationRequest app;
    app.set_application_id("portail");
    app.mutable_application()->set_display_name("Portail");
    v1::CreateApplicationResponse app_created;
    ASSERT_TRUE(applications_->CreateApplication(As(operator_key_).get(), app, &app_created).ok());
    v1::CreateSubscriptionRequest subscription;  // invitations are for a subscribed application
    subscription.set_parent(kStructure);
    subscription.set_application("applications/portail");
    v1::CreateSubscriptionResponse subscribed;
    ASSERT_TRUE(entitlements_->CreateSubscription(As(operator_key_).get(), subscription, &subscribed).ok());
  }

  // NEW-CREATE by the operator, then NEW-ACTIVATE; returns the account name.
  std::string CreateAndActivate(const std::string& login, v1::Role role) {
    v1::CreateAccountRequest create;
    create.set_parent(kStructure);
    *create.mutable_account() = Person(login);
    create.mutable_membership()->set_role(role);
    create.mutable_membership()->set_service(std::string(kStructure) + "/services/finances");
    v1::CreateAccountResponse created;
    grpc::Status status = accounts_->CreateAccount(As(operator_key_).get(), create, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(created.account().state(), v1::Account::INACTIVE);
    v1::ActivateAccountRequest activate;
    activate.set_name(created.account().name());
    activate.set_structure(kStructure);
    v1::ActivateAccountResponse activated;
    status = accounts_->ActivateAccount(As(operator_key_).get(), activate, &activated);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.account().name();
  }

  grpc::Status SetPassword(const std::string& token, const std::string& password = kPassword) {
    v1::SetPasswordWithLinkRequest request;
    request.set_link_token(token);
    request.set_new_password(password);
    v1::SetPasswordWithLinkResponse response;
    return sessions_->SetPasswordWithLink(As("").get(), request, &response);
  }

  grpc::Status Login(const std::string& login, v1::LoginResponse* response, const std::string& password = kPassword,
                     const std::string& device = "laptop") {
    v1::LoginRequest request;
    request.set_login_email(login);
    request.set_password(password);
    request.set_device_label(device);
    return sessions_->Login(As("").get(), request, response);
  }

  // A logged-in session of an account that has consented; administrators go through the login code.
  std::string Session(const std::string& login, const std::string& device = "laptop") {
    v1::LoginResponse login_response;
    grpc::Status status = Login(login, &login_response, kPassword, device);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!login_response.code_challenge().empty()) {
      absl::StatusOr<ReceivedMail> mail = sink_->NextTo(login, "LOGIN_CODE");
      EXPECT_TRUE(mail.ok()) << mail.status();
      v1::ConfirmLoginCodeRequest confirm;
      confirm.set_code_challenge(login_response.code_challenge());
      confirm.set_code(Code(*mail));
      v1::ConfirmLoginCodeResponse confirmed;
      status = sessions_->ConfirmLoginCode(As("").get(), confirm, &confirmed);
      EXPECT_TRUE(status.ok()) << status.error_message();
      login_response = confirmed.login();
    }
    v1::AcceptPrivacyPolicyResponse consent;
    status = sessions_->AcceptPrivacyPolicy(As(login_response.session_token()).get(), v1::AcceptPrivacyPolicyRequest(),
                                            &consent);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return login_response.session_token();
  }

  // An administrator of the structure, ready to act: created, activated, password set, logged in.
  std::string AdministratorSession() {
    CreateAndActivate("admin@example.fr", v1::ADMINISTRATOR);
    absl::StatusOr<ReceivedMail> activation = sink_->NextTo("admin@example.fr", "ACTIVATION");
    EXPECT_TRUE(activation.ok()) << activation.status();
    EXPECT_TRUE(SetPassword(LinkToken(*activation)).ok());
    return Session("admin@example.fr");
  }

  // INV-SEND by `admin` then INV-FILL from the delivered link; returns the invitation.
  v1::Invitation InviteAndFill(const std::string& admin, const std::string& email) {
    v1::SendInvitationsRequest send;
    send.set_parent(kStructure);
    send.set_application("applications/portail");
    send.add_emails(email);
    send.set_role(v1::COLLABORATOR);
    v1::SendInvitationsResponse sent;
    grpc::Status status = invitations_->SendInvitations(As(admin).get(), send, &sent);
    EXPECT_TRUE(status.ok()) << status.error_message();
    absl::StatusOr<ReceivedMail> invitation = sink_->NextTo(email, "INVITATION");
    EXPECT_TRUE(invitation.ok()) << invitation.status();
    v1::FillInvitationRequest fill;
    fill.set_link_token(LinkToken(*invitation));
    *fill.mutable_account() = Person(email);
    fill.set_password(kPassword);
    v1::FillInvitationResponse filled;
    status = invitations_->FillInvitation(As("").get(), fill, &filled);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(filled.invitation().state(), v1::Invitation::PENDING);
    EXPECT_TRUE(sink_->NextTo("admin@example.fr", "INVITATION_PENDING").ok()) << "the administrators are told";
    return filled.invitation();
  }

  grpc::Status Decide(const std::string& admin, const v1::Invitation& invitation, bool accept,
                      const std::string& comment) {
    v1::DecideInvitationsRequest request;
    request.set_parent(kStructure);
    v1::InvitationDecision* decision = request.add_decisions();
    decision->set_invitation(invitation.name());
    decision->set_accept(accept);
    decision->set_comment(comment);
    v1::DecideInvitationsResponse response;
    return invitations_->DecideInvitations(As(admin).get(), request, &response);
  }

  TempDir dir_;
  std::unique_ptr<SmtpSink> sink_;
  std::string operator_key_;
  std::unique_ptr<HabilisdProcess> process_;
  std::unique_ptr<v1::StructureService::Stub> structures_;
  std::unique_ptr<v1::OrgChartService::Stub> org_chart_;
  std::unique_ptr<v1::ApplicationService::Stub> applications_;
  std::unique_ptr<v1::AccountService::Stub> accounts_;
  std::unique_ptr<v1::SessionService::Stub> sessions_;
  std::unique_ptr<v1::InvitationService::Stub> invitations_;
  std::unique_ptr<v1::EntitlementService::Stub> entitlements_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  std::unique_ptr<v1::AccessService::Stub> access_;
};

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_INTEGRATION_FLOWS_FIXTURE_H_
