// Rules that rest on what a range holds, tried with two conflicting calls at once against the real habilisd
// (store/KEYSPACE.md, "Rules on ranges"). Each race runs kRounds times; after them the invariant is checked
// through the API and, with the server stopped, against the store itself.
#include <latch>
#include <map>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/client.h"
#include "gtest/gtest.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/accounts.grpc.pb.h"
#include "habilis/v1/applications.grpc.pb.h"
#include "habilis/v1/entitlements.grpc.pb.h"
#include "habilis/v1/org_chart.grpc.pb.h"
#include "habilis/v1/sessions.grpc.pb.h"
#include "habilis/v1/structures.grpc.pb.h"
#include "store/encoding.h"
#include "store/keyspace.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/habilisd_process.h"
#include "tests/testing/smtp_sink.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

constexpr int kRounds = 50;
constexpr char kSiret[] = "73282932000074";
constexpr char kStructure[] = "structures/73282932000074";
constexpr char kUser[] = "applications/portail/profiles/utilisateur";
constexpr char kObserver[] = "applications/portail/profiles/observateur";
constexpr char kPassword[] = "correct horse battery staple";

// A Luhn-valid SIRET made from `n`: one structure per round where a race needs its own.
std::string SiretFor(int n) {
  std::string base = absl::StrCat("9", std::string(12 - std::to_string(n).size(), '0'), n);
  for (int check = 0; check < 10; ++check) {
    std::string candidate = base + std::to_string(check);
    int sum = 0;
    for (size_t i = 0; i < candidate.size(); ++i) {
      int digit = candidate[candidate.size() - 1 - i] - '0';
      if (i % 2 == 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
      sum += digit;
    }
    if (sum % 10 == 0) return candidate;
  }
  return "";
}

// The revision a consistency token names: the order in which two writes committed.
uint64_t RevisionOf(const std::string& token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return 0;
  absl::string_view in(raw);
  return store::ConsumeUint64(&in).value_or(0);
}

// Runs `a` and `b` on two threads released at the same instant.
void Race(const std::function<void()>& a, const std::function<void()>& b) {
  std::latch start(3);
  std::thread first([&] {
    start.arrive_and_wait();
    a();
  });
  std::thread second([&] {
    start.arrive_and_wait();
    b();
  });
  start.arrive_and_wait();
  first.join();
  second.join();
}

class RaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RunResult created = testing::RunHabilisd({"--data-dir", dir_.Sub("data"), "--create-operator-key", "t"});
    ASSERT_EQ(created.exit_code, 0);
    operator_key_ = std::string(absl::StripAsciiWhitespace(created.out));
    auto sink = testing::SmtpSink::Start();
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = std::move(sink).value();
    auto process = testing::HabilisdProcess::Start(
        dir_.Sub("data"),
        // Links are followed many times a round here: the attempt limit per address is not under test.
        {"--smtp-url", sink_->url(), "--mail-poll-ms", "50", "--login-codes-for-administrators", "false",
         "--attempts-per-peer-burst", "1000"});
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(process).value();
    auto channel = client::Connect(process_->target());
    structures_ = v1::StructureService::NewStub(channel);
    applications_ = v1::ApplicationService::NewStub(channel);
    accounts_ = v1::AccountService::NewStub(channel);
    org_chart_ = v1::OrgChartService::NewStub(channel);
    entitlements_ = v1::EntitlementService::NewStub(channel);
    sessions_ = v1::SessionService::NewStub(channel);
    CreateStructure(kSiret);
    v1::CreateApplicationRequest app;
    app.set_application_id("portail");
    app.mutable_application()->set_display_name("Portail");
    v1::CreateApplicationResponse a;
    Ok(applications_->CreateApplication(As(operator_key_).get(), app, &a));
    for (const char* id : {"utilisateur", "observateur"}) {
      v1::CreateProfileRequest profile;
      profile.set_parent("applications/portail");
      profile.set_profile_id(id);
      profile.mutable_profile()->set_display_name(id);
      profile.mutable_profile()->add_permissions(absl::StrCat(id, ".lire"));
      v1::CreateProfileResponse p;
      Ok(applications_->CreateProfile(As(operator_key_).get(), profile, &p));
    }
    Subscribe(kSiret);
  }

  // After every race: the store itself holds no record that a range rule forbids.
  void TearDown() override {
    if (process_ == nullptr) return;
    ASSERT_EQ(process_->Terminate(), 0);
    process_.reset();
    CheckStoreInvariants();
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (!bearer.empty()) client::Authorize(*context, bearer);
    return context;
  }

  static void Ok(const grpc::Status& status) { ASSERT_TRUE(status.ok()) << status.error_message(); }

  void CreateStructure(const std::string& siret) {
    v1::CreateStructureRequest request;
    request.mutable_structure()->set_siret(siret);
    request.mutable_structure()->set_category("Commune");
    request.mutable_structure()->set_display_name(absl::StrCat("Structure ", siret));
    request.mutable_structure()->set_address("1 place");
    request.mutable_structure()->set_postal_code("29200");
    request.mutable_structure()->set_city("Brest");
    v1::CreateStructureResponse response;
    Ok(structures_->CreateStructure(As(operator_key_).get(), request, &response));
  }

  void Subscribe(const std::string& siret) {
    v1::CreateSubscriptionRequest request;
    request.set_parent(absl::StrCat("structures/", siret));
    request.set_application("applications/portail");
    v1::CreateSubscriptionResponse response;
    Ok(entitlements_->CreateSubscription(As(operator_key_).get(), request, &response));
  }

  v1::CreateAccountRequest AccountRequest(const std::string& login, v1::Role role, const std::string& service = "",
                                          const std::string& siret = kSiret) {
    v1::CreateAccountRequest request;
    request.set_parent(absl::StrCat("structures/", siret));
    v1::Account* a = request.mutable_account();
    a->set_login_email(login);
    a->set_given_name("Jeanne");
    a->set_family_name("Martin");
    a->set_address("2 rue du Port");
    a->set_postal_code("29200");
    a->set_city("Brest");
    request.mutable_membership()->set_role(role);
    if (!service.empty()) request.mutable_membership()->set_service(ServiceName(service, siret));
    return request;
  }

  std::string CreateAccount(const std::string& login, v1::Role role, const std::string& service = "",
                            const std::string& siret = kSiret) {
    v1::CreateAccountResponse response;
    grpc::Status status =
        accounts_->CreateAccount(As(operator_key_).get(), AccountRequest(login, role, service, siret), &response);
    EXPECT_TRUE(status.ok()) << login << ": " << status.error_message();
    return response.account().name();
  }

  static std::string ServiceName(const std::string& id, const std::string& siret = kSiret) {
    return absl::StrCat("structures/", siret, "/services/", id);
  }

  grpc::Status CreateService(const std::string& id, const std::string& display_name, const std::string& parent = "") {
    v1::CreateServiceRequest request;
    request.set_parent(kStructure);
    request.set_service_id(id);
    request.mutable_service()->set_display_name(display_name);
    if (!parent.empty()) request.mutable_service()->set_parent(ServiceName(parent));
    v1::CreateServiceResponse response;
    return org_chart_->CreateService(As(operator_key_).get(), request, &response);
  }

  grpc::Status DeleteService(const std::string& id) {
    v1::BatchDeleteServicesRequest request;
    request.set_parent(kStructure);
    request.add_names(ServiceName(id));
    v1::BatchDeleteServicesResponse response;
    return org_chart_->BatchDeleteServices(As(operator_key_).get(), request, &response);
  }

  grpc::Status Activate(const std::string& account, const std::string& siret = kSiret) {
    v1::ActivateAccountRequest request;
    request.set_name(account);
    request.set_structure(absl::StrCat("structures/", siret));
    v1::ActivateAccountResponse response;
    return accounts_->ActivateAccount(As(operator_key_).get(), request, &response);
  }

  // Activates the account, sets its password from the e-mailed link, logs in and consents: its session.
  std::string Ready(const std::string& account, const std::string& login) {
    Ok(Activate(account));
    absl::StatusOr<testing::ReceivedMail> mail = sink_->NextTo(login, "ACTIVATION");
    std::smatch match;
    if (!mail.ok() || !std::regex_search(mail->body, match, std::regex("token=(hbl_[0-9a-f]{16}_[A-Za-z0-9_-]+)"))) {
      ADD_FAILURE() << "no activation link: " << mail.status();
      return "";
    }
    v1::SetPasswordWithLinkRequest set;
    set.set_link_token(match[1].str());
    set.set_new_password(kPassword);
    v1::SetPasswordWithLinkResponse done;
    Ok(sessions_->SetPasswordWithLink(As("").get(), set, &done));
    v1::LoginRequest login_request;
    login_request.set_login_email(login);
    login_request.set_password(kPassword);
    login_request.set_device_label("race test");
    v1::LoginResponse session;
    Ok(sessions_->Login(As("").get(), login_request, &session));
    v1::AcceptPrivacyPolicyResponse consent;
    Ok(sessions_->AcceptPrivacyPolicy(As(session.session_token()).get(), {}, &consent));
    return session.session_token();
  }

  grpc::Status Grant(const std::string& bearer, const std::string& account, const std::string& profile,
                     uint64_t* revision = nullptr) {
    v1::GrantHabilitationRequest request;
    request.set_structure(kStructure);
    request.set_account(account);
    request.set_profile(profile);
    v1::GrantHabilitationResponse response;
    grpc::Status status = entitlements_->GrantHabilitation(As(bearer).get(), request, &response);
    if (revision != nullptr) *revision = RevisionOf(response.consistency_token());
    return status;
  }

  grpc::Status Delegate(const std::string& account, const std::string& profile) {
    v1::GrantDelegationsRequest request;
    request.set_structure(kStructure);
    request.set_account(account);
    request.add_profiles(profile);
    v1::GrantDelegationsResponse response;
    return entitlements_->GrantDelegations(As(operator_key_).get(), request, &response);
  }

  grpc::Status SetRole(const std::string& account, v1::Role role, const std::string& service,
                       const std::string& siret = kSiret, uint64_t* revision = nullptr) {
    v1::UpdateMembershipRequest request;
    request.set_account(account);
    request.mutable_membership()->set_structure(absl::StrCat("structures/", siret));
    request.mutable_membership()->set_role(role);
    if (!service.empty()) request.mutable_membership()->set_service(ServiceName(service, siret));
    v1::UpdateMembershipResponse response;
    grpc::Status status = accounts_->UpdateMembership(As(operator_key_).get(), request, &response);
    if (revision != nullptr) *revision = RevisionOf(response.consistency_token());
    return status;
  }

  std::vector<v1::Habilitation> Habilitations(const std::string& account) {
    v1::ListHabilitationsRequest request;
    request.set_structure(kStructure);
    request.set_account(account);
    v1::ListHabilitationsResponse response;
    EXPECT_TRUE(entitlements_->ListHabilitations(As(operator_key_).get(), request, &response).ok());
    return {response.habilitations().begin(), response.habilitations().end()};
  }

  // Every record keyed by `tag`, with the string components of its key.
  static std::vector<std::pair<std::vector<std::string>, std::string>> Records(store::Reader& reader,
                                                                               store::KeyTag tag) {
    std::vector<std::pair<std::vector<std::string>, std::string>> out;
    const std::string prefix(1, static_cast<char>(tag));
    EXPECT_TRUE(store::ScanPrefix(reader, prefix, [&](absl::string_view key, absl::string_view value) {
                  out.emplace_back(store::ComponentsAfter(key, prefix), std::string(value));
                  return true;
                }).ok());
    return out;
  }

  // The invariants of every rule on a range, read from the store with the server stopped.
  void CheckStoreInvariants() {
    auto opened = store::RocksDbStore::Open(dir_.Sub("data"));
    ASSERT_TRUE(opened.ok()) << opened.status();
    absl::Status read = (*opened)
                            ->Read([&](store::Reader& reader) -> absl::Status {
                              CheckGrantInvariants(reader);
                              CheckOrgChartInvariants(reader);
                              CheckAccountInvariants(reader);
                              return absl::OkStatus();
                            })
                            .status();
    EXPECT_TRUE(read.ok()) << read;
  }

  // Habilitations and delegations: of existing members, indexed, one profile per application and member.
  static void CheckGrantInvariants(store::Reader& reader) {
    auto exists = [&](const std::string& key) { return reader.Get(key).ok(); };
    for (const auto& [k, value] : Records(reader, store::KeyTag::kHabilitation)) {
      // siret, account, application: the account and its membership exist (DEL-REQUEST, MEMBERSHIP-END).
      EXPECT_TRUE(exists(store::AccountKey(k[1]))) << "a habilitation of deleted account " << k[1];
      EXPECT_TRUE(exists(store::MembershipKey(k[0], k[1]))) << "a habilitation without membership " << k[1];
      v1::Habilitation habilitation;
      habilitation.ParseFromString(value);
      const std::string profile_id = habilitation.profile().substr(habilitation.profile().rfind('/') + 1);
      EXPECT_TRUE(exists(store::ProfileHolderKey(k[2], profile_id, k[1], k[0]))) << "an unindexed habilitation";
      EXPECT_TRUE(exists(store::AccountHabilitationKey(k[1], k[2], k[0]))) << "an unindexed habilitation";
    }
    for (const auto& [k, value] : Records(reader, store::KeyTag::kProfileHolder)) {
      // application, profile, account, siret: one holder entry per habilitation, of that very profile.
      v1::Habilitation habilitation;
      absl::StatusOr<std::string> held = reader.Get(store::HabilitationKey(k[3], k[2], k[0]));
      EXPECT_TRUE(held.ok()) << "a holder without habilitation";
      if (held.ok() && habilitation.ParseFromString(*held)) {
        EXPECT_EQ(habilitation.profile(), absl::StrCat("applications/", k[0], "/profiles/", k[1]))
            << "two profiles of one application for one member";
      }
    }
    for (const auto& [k, value] : Records(reader, store::KeyTag::kDelegation)) {
      EXPECT_TRUE(exists(store::MembershipKey(k[0], k[1]))) << "a delegation without membership " << k[1];
    }
  }

  // Members of existing accounts and services; services under existing parents.
  static void CheckOrgChartInvariants(store::Reader& reader) {
    auto exists = [&](const std::string& key) { return reader.Get(key).ok(); };
    for (const auto& [k, value] : Records(reader, store::KeyTag::kMembership)) {
      EXPECT_TRUE(exists(store::AccountKey(k[1]))) << "a membership of a deleted account";
      v1::Membership membership;
      membership.ParseFromString(value);
      if (!membership.service().empty()) {
        const std::string service = membership.service().substr(membership.service().rfind('/') + 1);
        EXPECT_TRUE(exists(store::ServiceKey(k[0], service))) << "a member of deleted service " << service;
      }
    }
    for (const auto& [k, value] : Records(reader, store::KeyTag::kService)) {
      v1::Service service;
      service.ParseFromString(value);
      if (!service.parent().empty()) {
        const std::string parent = service.parent().substr(service.parent().rfind('/') + 1);
        EXPECT_TRUE(exists(store::ServiceKey(k[0], parent))) << "a child of deleted service " << parent;
      }
    }
  }

  // One account per login (and per structure for joining accounts); no structure lost its last administrator.
  void CheckAccountInvariants(store::Reader& reader) {
    std::map<std::string, int> logins;
    for (const auto& [k, value] : Records(reader, store::KeyTag::kAccount)) {
      internal::AccountRecord record;
      record.ParseFromString(value);
      // A joining account shares its login with an account elsewhere: one per login and structure.
      const std::string login = absl::AsciiStrToLower(record.account().login_email());
      ++logins[record.has_joining() ? absl::StrCat(login, " joining ", k[0]) : login];
    }
    for (const auto& [login, count] : logins) EXPECT_EQ(count, 1) << "two accounts of login " << login;
    std::map<std::string, int> active_admins;
    for (const auto& [k, value] : Records(reader, store::KeyTag::kStructureAdmin)) {
      absl::StatusOr<std::string> account = reader.Get(store::AccountKey(k[1]));
      internal::AccountRecord record;
      if (account.ok() && record.ParseFromString(*account) && record.account().state() == v1::Account::ACTIVE) {
        ++active_admins[k[0]];
      }
    }
    for (const std::string& siret : structures_that_keep_an_administrator_) {
      EXPECT_GE(active_admins[siret], 1) << "structure " << siret << " lost its last administrator";
    }
  }

  testing::TempDir dir_;
  std::string operator_key_;
  std::unique_ptr<testing::SmtpSink> sink_;
  std::unique_ptr<testing::HabilisdProcess> process_;
  std::unique_ptr<v1::StructureService::Stub> structures_;
  std::unique_ptr<v1::ApplicationService::Stub> applications_;
  std::unique_ptr<v1::AccountService::Stub> accounts_;
  std::unique_ptr<v1::OrgChartService::Stub> org_chart_;
  std::unique_ptr<v1::EntitlementService::Stub> entitlements_;
  std::unique_ptr<v1::SessionService::Stub> sessions_;
  std::vector<std::string> structures_that_keep_an_administrator_;
};

TEST_F(RaceTest, DEL_REQUEST_aGrantRacingTheDeletionIsNeverLeftOnADeletedAccount) {
  int both = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string account = CreateAccount(absl::StrCat("a", round, "@example.fr"), v1::COLLABORATOR);
    grpc::Status granted, deleted;
    v1::RequestAccountDeletionResponse deletion;
    Race([&] { granted = Grant(operator_key_, account, kUser); },
         [&] {
           v1::RequestAccountDeletionRequest request;
           request.set_name(account);
           request.set_structure(kStructure);
           deleted = accounts_->RequestAccountDeletion(As(operator_key_).get(), request, &deletion);
         });
    if (granted.ok() && deleted.ok()) ++both;
    if (deleted.ok()) {
      EXPECT_EQ(deletion.deletion_request().state(), v1::DeletionRequest::DONE);
      EXPECT_TRUE(Habilitations(account).empty()) << "round " << round;
    } else {
      EXPECT_EQ(client::DetailsOf(deleted).reason, "ACCOUNT_HOLDS_HABILITATIONS") << deleted.error_message();
    }
  }
  EXPECT_EQ(both, 0) << "a grant and the deletion of its account both succeeded";
}

TEST_F(RaceTest, SVC_DELETE_anAccountPlacedInARacingServiceDeletionKeepsTheServiceAlive) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string service = absl::StrCat("s", round);
    Ok(CreateService(service, absl::StrCat("Service ", round)));
    grpc::Status created, deleted;
    Race(
        [&] {
          v1::CreateAccountResponse response;
          created = accounts_->CreateAccount(
              As(operator_key_).get(),
              AccountRequest(absl::StrCat("b", round, "@example.fr"), v1::COLLABORATOR, service), &response);
        },
        [&] { deleted = DeleteService(service); });
    EXPECT_FALSE(created.ok() && deleted.ok()) << "round " << round << ": an account was placed in a deleted service";
    EXPECT_TRUE(created.ok() || deleted.ok()) << created.error_message() << " / " << deleted.error_message();
  }
}

TEST_F(RaceTest, SVC_DELETE_aChildCreatedUnderARacingDeletionKeepsTheParentAlive) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string parent = absl::StrCat("p", round);
    Ok(CreateService(parent, absl::StrCat("Parent ", round)));
    grpc::Status created, deleted;
    Race([&] { created = CreateService(absl::StrCat("c", round), absl::StrCat("Enfant ", round), parent); },
         [&] { deleted = DeleteService(parent); });
    EXPECT_FALSE(created.ok() && deleted.ok()) << "round " << round << ": a child of a deleted service";
  }
}

TEST_F(RaceTest, SVC_CREATE_twoServicesOfOneNameRacingMakeOne) {
  for (int round = 0; round < kRounds; ++round) {
    grpc::Status first, second;
    const std::string name = absl::StrCat("Comptabilité ", round);
    Race([&] { first = CreateService(absl::StrCat("x", round), name); },
         [&] { second = CreateService(absl::StrCat("y", round), absl::AsciiStrToUpper(name)); });
    EXPECT_NE(first.ok(), second.ok()) << "round " << round << ": " << first.error_message() << " / "
                                       << second.error_message();
  }
}

TEST_F(RaceTest, NEW_CREATE_twoAccountsOfOneLoginRacingMakeOne) {
  for (int round = 0; round < kRounds; ++round) {
    grpc::Status first, second;
    v1::CreateAccountResponse a, b;
    const std::string login = absl::StrCat("meme", round, "@example.fr");
    Race(
        [&] { first = accounts_->CreateAccount(As(operator_key_).get(), AccountRequest(login, v1::COLLABORATOR), &a); },
        [&] {
          second = accounts_->CreateAccount(As(operator_key_).get(),
                                            AccountRequest(absl::AsciiStrToUpper(login), v1::COLLABORATOR), &b);
        });
    EXPECT_NE(first.ok(), second.ok()) << "round " << round;
  }
  // The store check counts the accounts of each login.
}

// «Modifier l'utilisateur»: two accounts asked for the same new login, and its owner follows both links at once:
// one account gets it, the other is told LOGIN_TAKEN; never two accounts of one login.
TEST_F(RaceTest, LOGIN_CHANGE_twoConfirmationsOfOneNewLoginRacingGiveItToOne) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string wanted = absl::StrCat("voulu", round, "@example.fr");
    std::vector<std::string> tokens;
    for (const char* who : {"a", "b"}) {
      v1::CreateAccountResponse created;
      Ok(accounts_->CreateAccount(As(operator_key_).get(),
                                  AccountRequest(absl::StrCat(who, round, "@example.fr"), v1::COLLABORATOR), &created));
      v1::UpdateAccountRequest change;
      change.mutable_account()->set_name(created.account().name());
      change.mutable_account()->set_login_email(wanted);
      change.mutable_update_mask()->add_paths("login_email");
      v1::UpdateAccountResponse changed;
      Ok(accounts_->UpdateAccount(As(operator_key_).get(), change, &changed));
      absl::StatusOr<testing::ReceivedMail> mail = sink_->NextTo(wanted, "LOGIN_EMAIL_CONFIRMATION");
      std::smatch match;
      ASSERT_TRUE(mail.ok() &&
                  std::regex_search(mail->body, match, std::regex("token=(hbl_[0-9a-f]{16}_[A-Za-z0-9_-]+)")))
          << mail.status();
      tokens.push_back(match[1].str());
    }
    grpc::Status first, second;
    auto confirm = [&](const std::string& token, grpc::Status* status) {
      v1::ConfirmLoginEmailRequest request;
      request.set_link_token(token);
      v1::ConfirmLoginEmailResponse response;
      *status = accounts_->ConfirmLoginEmail(As("").get(), request, &response);
    };
    Race([&] { confirm(tokens[0], &first); }, [&] { confirm(tokens[1], &second); });
    EXPECT_NE(first.ok(), second.ok()) << "round " << round;
    const grpc::Status& lost = first.ok() ? second : first;
    EXPECT_EQ(lost.error_code(), grpc::StatusCode::ALREADY_EXISTS) << lost.error_message();
  }
  // The store check counts the accounts of each login.
}

// Two administrators create the same person, whose login has an account in another structure: one joining
// account is made, as one account would be for a new login.
TEST_F(RaceTest, NEW_CREATE_twoJoiningAccountsOfOneLoginRacingMakeOne) {
  const std::string a = CreateAccount("admin-a@example.fr", v1::ADMINISTRATOR);
  const std::string b = CreateAccount("admin-b@example.fr", v1::ADMINISTRATOR);
  const std::string session_a = Ready(a, "admin-a@example.fr");
  const std::string session_b = Ready(b, "admin-b@example.fr");
  const std::string elsewhere = SiretFor(0);
  CreateStructure(elsewhere);
  for (int round = 0; round < kRounds; ++round) {
    const std::string login = absl::StrCat("ailleurs", round, "@example.fr");
    CreateAccount(login, v1::COLLABORATOR, "", elsewhere);
    grpc::Status first, second;
    v1::CreateAccountResponse x, y;
    Race([&] { first = accounts_->CreateAccount(As(session_a).get(), AccountRequest(login, v1::COLLABORATOR), &x); },
         [&] {
           second = accounts_->CreateAccount(As(session_b).get(),
                                             AccountRequest(absl::AsciiStrToUpper(login), v1::COLLABORATOR), &y);
         });
    EXPECT_NE(first.ok(), second.ok()) << "round " << round << ": " << first.error_message() << " / "
                                       << second.error_message();
  }
  // The store check counts the joining accounts of each login in each structure.
}

TEST_F(RaceTest, LAST_ADMIN_twoAdministratorsRemovedAtOnceLeaveOne) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string siret = SiretFor(round);
    CreateStructure(siret);
    structures_that_keep_an_administrator_.push_back(siret);
    const std::string a = CreateAccount(absl::StrCat("admin-a", round, "@example.fr"), v1::ADMINISTRATOR, "", siret);
    const std::string b = CreateAccount(absl::StrCat("admin-b", round, "@example.fr"), v1::ADMINISTRATOR, "", siret);
    Ok(Activate(a, siret));
    Ok(Activate(b, siret));
    grpc::Status deactivated, demoted;
    Race(
        [&] {
          v1::DeactivateAccountRequest request;
          request.set_name(a);
          request.set_structure(absl::StrCat("structures/", siret));
          v1::DeactivateAccountResponse response;
          deactivated = accounts_->DeactivateAccount(As(operator_key_).get(), request, &response);
        },
        [&] { demoted = SetRole(b, v1::COLLABORATOR, "", siret); });
    EXPECT_FALSE(deactivated.ok() && demoted.ok()) << "round " << round << ": no administrator left";
    const grpc::Status& refused = deactivated.ok() ? demoted : deactivated;
    EXPECT_EQ(client::DetailsOf(refused).reason, "LAST_ADMINISTRATOR") << refused.error_message();
  }
}

TEST_F(RaceTest, HAB_GRANT_twoProfilesOfOneApplicationRacingLeaveOne) {
  for (int round = 0; round < kRounds; ++round) {
    const std::string account = CreateAccount(absl::StrCat("d", round, "@example.fr"), v1::COLLABORATOR);
    grpc::Status first, second;
    Race([&] { first = Grant(operator_key_, account, kUser); },
         [&] { second = Grant(operator_key_, account, kObserver); });
    Ok(first);
    Ok(second);
    EXPECT_EQ(Habilitations(account).size(), 1u) << "round " << round;
  }
}

// A responsable gives a delegated profile while an administrator takes the delegation back: the grant may win
// only if it committed first.
TEST_F(RaceTest, DLG_REVOKE_aResponsableGrantRacingTheRevocationOfItsDelegation) {
  Ok(CreateService("guichet", "Guichet"));
  const std::string responsable = CreateAccount("resp@example.fr", v1::RESPONSABLE, "guichet");
  const std::string session = Ready(responsable, "resp@example.fr");
  int granted_after_revocation = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string member = CreateAccount(absl::StrCat("e", round, "@example.fr"), v1::COLLABORATOR, "guichet");
    Ok(Delegate(responsable, kUser));
    grpc::Status granted, revoked;
    uint64_t grant_revision = 0;
    v1::RevokeDelegationsResponse revocation;
    Race([&] { granted = Grant(session, member, kUser, &grant_revision); },
         [&] {
           v1::RevokeDelegationsRequest request;
           request.set_structure(kStructure);
           request.set_account(responsable);
           request.add_profiles(kUser);
           revoked = entitlements_->RevokeDelegations(As(operator_key_).get(), request, &revocation);
         });
    Ok(revoked);
    if (granted.ok() && grant_revision > RevisionOf(revocation.consistency_token())) ++granted_after_revocation;
    if (!granted.ok()) {
      EXPECT_EQ(granted.error_code(), grpc::StatusCode::PERMISSION_DENIED) << granted.error_message();
      EXPECT_EQ(client::DetailsOf(granted).reason, "PROFILE_NOT_HELD_OR_DELEGATED");
    }
  }
  EXPECT_EQ(granted_after_revocation, 0);
}

// The gate judged the caller a responsable; an administrator made him a collaborator before his grant
// committed. The grant must not commit on the old role.
TEST_F(RaceTest, CALLER_aResponsableDemotedWhileHeGrantsGivesNothingAfterTheDemotion) {
  Ok(CreateService("accueil", "Accueil"));
  const std::string responsable = CreateAccount("chef@example.fr", v1::RESPONSABLE, "accueil");
  const std::string session = Ready(responsable, "chef@example.fr");
  Ok(Grant(operator_key_, responsable, kUser));
  int granted_after_demotion = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string member = CreateAccount(absl::StrCat("f", round, "@example.fr"), v1::COLLABORATOR, "accueil");
    Ok(SetRole(responsable, v1::RESPONSABLE, "accueil"));
    grpc::Status granted, demoted;
    uint64_t grant_revision = 0, demote_revision = 0;
    Race([&] { granted = Grant(session, member, kUser, &grant_revision); },
         [&] { demoted = SetRole(responsable, v1::COLLABORATOR, "accueil", kSiret, &demote_revision); });
    Ok(demoted);
    if (granted.ok() && grant_revision > demote_revision) ++granted_after_demotion;
  }
  EXPECT_EQ(granted_after_demotion, 0);
}

}  // namespace
}  // namespace habilis
