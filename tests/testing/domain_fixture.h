// A real RocksDB store in a temp directory, a fixed clock and an operator: what domain tests start from.
#ifndef HABILIS_TESTS_TESTING_DOMAIN_FIXTURE_H_
#define HABILIS_TESTS_TESTING_DOMAIN_FIXTURE_H_

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "habilis/internal/records.pb.h"
#include "server/common/errors.h"
#include "server/domain/entitlements/api_keys.h"
#include "server/domain/entitlements/applications.h"
#include "server/domain/identity/accounts.h"
#include "server/domain/identity/deletion_requests.h"
#include "server/domain/identity/invitations.h"
#include "server/domain/identity/sessions.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/org_chart.h"
#include "server/domain/organisation/structures.h"
#include "server/mail/sealing.h"
#include "store/keyspace.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/temp_dir.h"

namespace habilis::testing {

class FixedClock final : public habilis::Clock {
 public:
  absl::Time Now() const override { return now; }
  absl::Time now = absl::FromUnixSeconds(1798761600);  // 2027-01-01
};

class DomainTest : public ::testing::Test {
 protected:
  static constexpr char kSiret[] = "73282932000074";

  void SetUp() override {
    auto store = store::RocksDbStore::Open(dir_.Sub("db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
    structures_ = std::make_unique<domain::Structures>(*store_, clock_);
    org_chart_ = std::make_unique<domain::OrgChart>(*store_, clock_);
    accounts_ = std::make_unique<domain::Accounts>(*store_, clock_, policy_);
    deletions_ = std::make_unique<domain::DeletionRequests>(*store_, clock_);
    sessions_ = std::make_unique<domain::Sessions>(*store_, clock_, policy_);
    invitations_ = std::make_unique<domain::Invitations>(*store_, clock_, policy_);
    // A real operator key: commands check again in their transaction that the caller's key still holds.
    domain::ApiKeys keys(*store_, clock_);
    absl::StatusOr<std::string> key = keys.CreateFirstOperatorKey("tests");
    ASSERT_TRUE(key.ok()) << key.status();
    absl::StatusOr<authz::Principal> op = keys.Authenticate(*key);
    ASSERT_TRUE(op.ok()) << op.status();
    operator_ = *op;
  }

  // Every e-mail waiting in the outbox, oldest first.
  std::vector<internal::OutboxRecord> Outbox() {
    std::vector<internal::OutboxRecord> mails;
    EXPECT_TRUE(store_
                    ->Read([&](store::Reader& reader) {
                      return store::ScanPrefix(reader, store::OutboxPrefix(),
                                               [&](absl::string_view, absl::string_view value) {
                                                 internal::OutboxRecord& mail = mails.emplace_back();
                                                 mail.ParseFromString(std::string(value));
                                                 // Bodies are sealed at rest: the test reads them opened.
                                                 EXPECT_NE(mail.sealed_body(), "");
                                                 mail.set_body(mail::OpenBody(mail).value_or(""));
                                                 return true;
                                               });
                    })
                    .ok());
    return mails;
  }

  // The newest e-mail of `kind` to `to`; fails the test if there is none.
  internal::OutboxRecord LastMail(const std::string& to, const std::string& kind) {
    std::vector<internal::OutboxRecord> mails = Outbox();
    for (auto it = mails.rbegin(); it != mails.rend(); ++it) {
      if (it->to() == to && it->kind() == kind) return *it;
    }
    ADD_FAILURE() << "no " << kind << " e-mail to " << to;
    return {};
  }

  static std::string TokenIn(const std::string& body) {
    std::smatch match;
    static const std::regex kToken("token=(hbl_[0-9a-f]{16}_[A-Za-z0-9_-]+)");
    return std::regex_search(body, match, kToken) ? match[1].str() : "";
  }

  static std::string CodeIn(const std::string& body) {
    std::smatch match;
    static const std::regex kCode("([0-9]{6})");
    return std::regex_search(body, match, kCode) ? match[1].str() : "";
  }

  static v1::Account Person(const std::string& login) {
    v1::Account account;
    account.set_login_email(login);
    account.set_given_name("Jeanne");
    account.set_family_name("Martin");
    account.set_address("2 rue du Port");
    account.set_postal_code("29200");
    account.set_city("Brest");
    return account;
  }

  // NEW-CREATE by `caller` (the operator if null) in kSiret; returns the account name.
  absl::StatusOr<std::string> CreateAccount(const std::string& login, v1::Role role, const std::string& service = "",
                                            const authz::Principal* caller = nullptr) {
    return CreateAccountIn(kSiret, login, role, caller, service.empty() ? "" : Service(service));
  }

  // NEW-CREATE by `caller` (the operator if null) in `siret`, at `service_name` (a resource name; "" for the
  // root level); returns the account name.
  absl::StatusOr<std::string> CreateAccountIn(const std::string& siret, const std::string& login, v1::Role role,
                                              const authz::Principal* caller = nullptr,
                                              const std::string& service_name = "") {
    v1::CreateAccountRequest request;
    request.set_parent(domain::StructureName(siret));
    *request.mutable_account() = Person(login);
    request.mutable_membership()->set_role(role);
    if (!service_name.empty()) request.mutable_membership()->set_service(service_name);
    v1::CreateAccountResponse response;
    absl::StatusOr<store::Revision> revision =
        accounts_->Create(caller != nullptr ? *caller : operator_, request, response);
    if (!revision.ok()) return revision.status();
    return response.account().name();
  }

  absl::Status Activate(const std::string& account) {
    v1::ActivateAccountRequest request;
    request.set_name(account);
    request.set_structure(domain::StructureName(kSiret));
    v1::ActivateAccountResponse response;
    return accounts_->Activate(operator_, request, response).status();
  }

  absl::Status SetPasswordFromMail(const std::string& login, const std::string& kind, const std::string& password) {
    v1::SetPasswordWithLinkRequest request;
    request.set_link_token(TokenIn(LastMail(login, kind).body()));
    request.set_new_password(password);
    v1::SetPasswordWithLinkResponse response;
    return sessions_->SetPasswordWithLink(request, response);
  }

  // Creates, activates and sets the password of an account; returns its name.
  std::string ReadyAccount(const std::string& login, v1::Role role, const std::string& service = "") {
    absl::StatusOr<std::string> name = CreateAccount(login, role, service);
    EXPECT_TRUE(name.ok()) << name.status();
    EXPECT_TRUE(Activate(*name).ok());
    EXPECT_TRUE(SetPasswordFromMail(login, "ACTIVATION", kPassword).ok());
    return *name;
  }

  absl::StatusOr<v1::LoginResponse> Login(const std::string& login, const std::string& password = kPassword) {
    v1::LoginRequest request;
    request.set_login_email(login);
    request.set_password(password);
    request.set_device_label("test device");
    v1::LoginResponse response;
    absl::Status status = sessions_->Login(request, response);
    if (!status.ok()) return status;
    return response;
  }

  static constexpr char kPassword[] = "correct horse battery staple";

  // A logged-in administrator of `siret` (created by the operator), as the gate would hand him over.
  authz::Principal AdministratorOf(const std::string& siret) {
    const std::string login = "admin-" + siret + "@example.fr";
    v1::CreateAccountRequest create;
    create.set_parent(domain::StructureName(siret));
    *create.mutable_account() = Person(login);
    create.mutable_membership()->set_role(v1::ADMINISTRATOR);
    v1::CreateAccountResponse created;
    EXPECT_TRUE(accounts_->Create(operator_, create, created).ok());
    v1::ActivateAccountRequest activate;
    activate.set_name(created.account().name());
    activate.set_structure(domain::StructureName(siret));
    v1::ActivateAccountResponse activated;
    EXPECT_TRUE(accounts_->Activate(operator_, activate, activated).ok());
    EXPECT_TRUE(SetPasswordFromMail(login, "ACTIVATION", kPassword).ok());
    absl::StatusOr<v1::LoginResponse> session = Login(login);
    EXPECT_TRUE(session.ok()) << session.status();
    std::string token = session->session_token();
    if (!session->code_challenge().empty()) {
      v1::ConfirmLoginCodeRequest confirm;
      confirm.set_code_challenge(session->code_challenge());
      confirm.set_code(CodeIn(LastMail(login, "LOGIN_CODE").body()));
      v1::ConfirmLoginCodeResponse confirmed;
      EXPECT_TRUE(sessions_->ConfirmLoginCode(confirm, confirmed).ok());
      token = confirmed.login().session_token();
    }
    absl::StatusOr<authz::Principal> admin = sessions_->Authenticate(token);
    EXPECT_TRUE(admin.ok()) << admin.status();
    return *admin;
  }

  v1::CreateStructureRequest StructureRequest(const std::string& siret) {
    v1::CreateStructureRequest request;
    v1::Structure* s = request.mutable_structure();
    s->set_siret(siret);
    s->set_category("Commune");
    s->set_display_name("Mairie de Test");
    s->set_address("1 rue de la Paix");
    s->set_postal_code("35000");
    s->set_city("Rennes");
    return request;
  }

  absl::Status CreateStructure(const std::string& siret = kSiret) {
    v1::CreateStructureResponse response;
    return structures_->Create(operator_, StructureRequest(siret), response).status();
  }

  // Creates service `id` named `display_name` under `parent_id` ("" = root) in kSiret.
  absl::StatusOr<v1::Service> CreateService(const std::string& id, const std::string& display_name,
                                            const std::string& parent_id = "") {
    v1::CreateServiceRequest request;
    request.set_parent(domain::StructureName(kSiret));
    request.set_service_id(id);
    request.mutable_service()->set_display_name(display_name);
    if (!parent_id.empty()) request.mutable_service()->set_parent(Service(parent_id));
    v1::CreateServiceResponse response;
    absl::StatusOr<store::Revision> revision = org_chart_->CreateService(operator_, request, response);
    if (!revision.ok()) return revision.status();
    return response.service();
  }

  static std::string Service(const std::string& id) { return domain::ServiceResourceName(kSiret, id); }

  absl::StatusOr<v1::Service> GetService(const std::string& id) {
    v1::GetServiceRequest request;
    request.set_name(Service(id));
    v1::GetServiceResponse response;
    absl::Status status = org_chart_->GetService(request, response);
    if (!status.ok()) return status;
    return response.service();
  }

  v1::GetServiceTreeResponse Tree() {
    v1::GetServiceTreeRequest request;
    request.set_structure(domain::StructureName(kSiret));
    v1::GetServiceTreeResponse response;
    EXPECT_TRUE(org_chart_->GetServiceTree(request, response).ok());
    return response;
  }

  TempDir dir_;
  FixedClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<domain::Structures> structures_;
  std::unique_ptr<domain::OrgChart> org_chart_;
  domain::IdentityPolicy policy_;
  std::unique_ptr<domain::Accounts> accounts_;
  std::unique_ptr<domain::DeletionRequests> deletions_;
  std::unique_ptr<domain::Sessions> sessions_;
  std::unique_ptr<domain::Invitations> invitations_;
  authz::Principal operator_;
};

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_TESTING_DOMAIN_FIXTURE_H_
