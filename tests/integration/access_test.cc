// The client-application API over gRPC against the real habilisd: CheckAccess with consistency tokens.
#include <fstream>
#include <regex>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "clients/cpp/client.h"
#include "gtest/gtest.h"
#include "habilis/v1/access.grpc.pb.h"
#include "habilis/v1/accounts.grpc.pb.h"
#include "habilis/v1/api_keys.grpc.pb.h"
#include "habilis/v1/applications.grpc.pb.h"
#include "habilis/v1/audit.grpc.pb.h"
#include "habilis/v1/entitlements.grpc.pb.h"
#include "habilis/v1/sessions.grpc.pb.h"
#include "habilis/v1/structures.grpc.pb.h"
#include "tests/testing/habilisd_process.h"
#include "tests/testing/requests.h"
#include "tests/testing/smtp_sink.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

constexpr char kStructure[] = "structures/73282932000074";
constexpr char kProfile[] = "applications/portail/profiles/utilisateur";

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RunResult created = testing::RunHabilisd({"--data-dir", dir_.Sub("data"), "--create-operator-key", "t"});
    ASSERT_EQ(created.exit_code, 0);
    operator_key_ = std::string(absl::StripAsciiWhitespace(created.out));
    auto sink = testing::SmtpSink::Start();
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = std::move(sink).value();
    StartHabilisd({});
    Seed();
  }

  // Starts habilisd on the test's data directory (stopping the one running, if any) and connects to it.
  void StartHabilisd(const std::vector<std::string>& extra_args) {
    process_.reset();
    std::vector<std::string> args = {"--smtp-url", sink_->url(), "--mail-poll-ms", "50"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto process = testing::HabilisdProcess::Start(dir_.Sub("data"), args);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(process).value();
    auto channel = client::Connect(process_->target());
    structures_ = v1::StructureService::NewStub(channel);
    applications_ = v1::ApplicationService::NewStub(channel);
    api_keys_ = v1::ApiKeyService::NewStub(channel);
    accounts_ = v1::AccountService::NewStub(channel);
    entitlements_ = v1::EntitlementService::NewStub(channel);
    access_ = v1::AccessService::NewStub(channel);
    sessions_ = v1::SessionService::NewStub(channel);
    audit_ = v1::AuditService::NewStub(channel);
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!bearer.empty()) client::Authorize(*context, bearer);
    return context;
  }

  void Ok(const grpc::Status& status) { ASSERT_TRUE(status.ok()) << status.error_message(); }

  // A structure subscribed to "portail" with one profile, an account holding it, and keys for two
  // applications.
  void Seed() {
    v1::CreateStructureRequest structure = testing::CommuneStructureRequest();
    v1::CreateStructureResponse s;
    Ok(structures_->CreateStructure(As(operator_key_).get(), structure, &s));
    for (const char* id : {"portail", "autre"}) {
      v1::CreateApplicationRequest app;
      app.set_application_id(id);
      app.mutable_application()->set_display_name(id);
      v1::CreateApplicationResponse a;
      Ok(applications_->CreateApplication(As(operator_key_).get(), app, &a));
      v1::CreateApiKeyRequest key;
      key.mutable_api_key()->set_display_name(id);
      key.mutable_api_key()->set_application(std::string("applications/") + id);
      v1::CreateApiKeyResponse k;
      Ok(api_keys_->CreateApiKey(As(operator_key_).get(), key, &k));
      app_keys_[id] = k.secret();
    }
    v1::CreateProfileRequest profile;
    profile.set_parent("applications/portail");
    profile.set_profile_id("utilisateur");
    profile.mutable_profile()->set_display_name("Utilisateur du service");
    profile.mutable_profile()->add_permissions("factures.lire");
    v1::CreateProfileResponse p;
    Ok(applications_->CreateProfile(As(operator_key_).get(), profile, &p));
    v1::CreateSubscriptionRequest subscription;
    subscription.set_parent(kStructure);
    subscription.set_application("applications/portail");
    v1::CreateSubscriptionResponse sub;
    Ok(entitlements_->CreateSubscription(As(operator_key_).get(), subscription, &sub));
    v1::CreateAccountRequest account;
    account.set_parent(kStructure);
    v1::Account* a = account.mutable_account();
    a->set_login_email("jeanne@example.fr");
    a->set_given_name("Jeanne");
    a->set_family_name("Martin");
    a->set_address("2 rue du Port");
    a->set_postal_code("29200");
    a->set_city("Brest");
    account.mutable_membership()->set_role(v1::COLLABORATOR);
    v1::CreateAccountResponse created;
    Ok(accounts_->CreateAccount(As(operator_key_).get(), account, &created));
    account_ = created.account().name();
    seeded_token_ = created.consistency_token();
  }

  // Activates the account, sets its password from the e-mailed link, logs in and consents: it can use
  // what it is granted. Returns its session token.
  std::string MakeUsable() {
    v1::ActivateAccountRequest activate;
    activate.set_name(account_);
    activate.set_structure(kStructure);
    v1::ActivateAccountResponse activated;
    Ok(accounts_->ActivateAccount(As(operator_key_).get(), activate, &activated));
    absl::StatusOr<testing::ReceivedMail> mail = sink_->NextTo("jeanne@example.fr", "ACTIVATION");
    std::smatch match;
    if (!mail.ok() || !std::regex_search(mail->body, match, std::regex("token=(hbl_[0-9a-f]{16}_[A-Za-z0-9_-]+)"))) {
      ADD_FAILURE() << "no activation link: " << mail.status();
      return "";
    }
    v1::SetPasswordWithLinkRequest set;
    set.set_link_token(match[1].str());
    set.set_new_password("correct horse battery staple");
    v1::SetPasswordWithLinkResponse done;
    Ok(sessions_->SetPasswordWithLink(As("").get(), set, &done));
    v1::LoginRequest login;
    login.set_login_email("jeanne@example.fr");
    login.set_password("correct horse battery staple");
    login.set_device_label("test");
    v1::LoginResponse session;
    Ok(sessions_->Login(As("").get(), login, &session));
    v1::AcceptPrivacyPolicyResponse consent;
    EXPECT_TRUE(
        sessions_->AcceptPrivacyPolicy(As(session.session_token()).get(), v1::AcceptPrivacyPolicyRequest(), &consent)
            .ok());
    return session.session_token();
  }

  // The trail's entries about `scope` ("accounts/..." or "structures/..."), as an operator lists them.
  std::vector<v1::AuditEntry> Trail(const std::string& scope) {
    v1::ListAuditEntriesRequest request;
    if (scope.rfind("accounts/", 0) == 0) request.set_account(scope);
    if (scope.rfind("structures/", 0) == 0) request.set_structure(scope);
    request.set_page_size(100);
    v1::ListAuditEntriesResponse response;
    grpc::Status status = audit_->ListAuditEntries(As(operator_key_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.audit_entries().begin(), response.audit_entries().end()};
  }

  // HAB-GRANT of the seeded profile to the seeded account.
  v1::GrantHabilitationRequest GrantOfProfile() const { return testing::GrantRequest(kStructure, account_, kProfile); }

  // HAB-REVOKE of the seeded account's portail profile.
  v1::RevokeHabilitationRequest RevokeOfProfile() const {
    return testing::RevokeRequest(kStructure, account_, "applications/portail");
  }

  v1::CheckAccessResponse Check(const std::string& token, grpc::Status* status_out = nullptr) {
    v1::CheckAccessRequest request;
    request.set_account(account_);
    request.set_profile(kProfile);
    request.set_consistency_token(token);
    v1::CheckAccessResponse response;
    grpc::Status status = access_->CheckAccess(As(app_keys_["portail"]).get(), request, &response);
    if (status_out != nullptr) *status_out = status;
    EXPECT_TRUE(status_out != nullptr || status.ok()) << status.error_message();
    return response;
  }

  testing::TempDir dir_;
  std::string operator_key_;
  std::map<std::string, std::string> app_keys_;
  std::string account_;
  std::string seeded_token_;  // the state right after Seed()
  std::unique_ptr<testing::SmtpSink> sink_;
  std::unique_ptr<testing::HabilisdProcess> process_;
  std::unique_ptr<v1::SessionService::Stub> sessions_;
  std::unique_ptr<v1::StructureService::Stub> structures_;
  std::unique_ptr<v1::ApplicationService::Stub> applications_;
  std::unique_ptr<v1::ApiKeyService::Stub> api_keys_;
  std::unique_ptr<v1::AccountService::Stub> accounts_;
  std::unique_ptr<v1::EntitlementService::Stub> entitlements_;
  std::unique_ptr<v1::AccessService::Stub> access_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

// Reads a WatchChanges stream until an entry with `action` arrives; returns the responses read.
std::vector<v1::WatchChangesResponse> ReadUntil(grpc::ClientReader<v1::WatchChangesResponse>& stream,
                                                const std::string& action) {
  std::vector<v1::WatchChangesResponse> read;
  v1::WatchChangesResponse response;
  while (stream.Read(&response)) {
    read.push_back(response);
    for (const auto& entry : response.audit_entries()) {
      if (entry.action() == action) return read;
    }
  }
  ADD_FAILURE() << "the stream ended before " << action;
  return read;
}

TEST_F(AccessTest, ARevocationCheckedWithItsTokenIsDenied) {
  v1::GrantHabilitationResponse granted;
  Ok(entitlements_->GrantHabilitation(As(operator_key_).get(), GrantOfProfile(), &granted));
  EXPECT_EQ(Check(granted.consistency_token()).reason(), v1::ACCOUNT_INACTIVE) << "not activated yet";
  MakeUsable();
  EXPECT_TRUE(Check(granted.consistency_token()).allowed());

  v1::RevokeHabilitationResponse revoked;
  Ok(entitlements_->RevokeHabilitation(As(operator_key_).get(), RevokeOfProfile(), &revoked));
  ASSERT_FALSE(revoked.consistency_token().empty());
  v1::CheckAccessResponse after = Check(revoked.consistency_token());
  EXPECT_FALSE(after.allowed());
  EXPECT_EQ(after.reason(), v1::NO_HABILITATION);
}

// The index restarts from its snapshot (written at the clean shutdown) and catches up with the commits made
// after it, even when the process that made them was killed: a revocation after the snapshot holds.
TEST_F(AccessTest, AfterKill9TheIndexRestartsFromItsSnapshotAndHoldsTheLaterWrites) {
  v1::GrantHabilitationResponse granted;
  Ok(entitlements_->GrantHabilitation(As(operator_key_).get(), GrantOfProfile(), &granted));
  MakeUsable();
  auto restart = [&](bool kill) {
    if (kill) process_->Kill9();
    const std::string log = dir_.Sub(kill ? "after-kill.log" : "after-stop.log");
    process_.reset();
    auto process = testing::HabilisdProcess::Start(dir_.Sub("data"), {}, log);
    EXPECT_TRUE(process.ok()) << process.status();
    process_ = std::move(process).value();
    access_ = v1::AccessService::NewStub(client::Connect(process_->target()));
    entitlements_ = v1::EntitlementService::NewStub(client::Connect(process_->target()));
    std::ifstream in(log);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string stopped = restart(false);
  EXPECT_TRUE(absl::StrContains(stopped, "restored from the snapshot")) << stopped;
  EXPECT_TRUE(Check(granted.consistency_token()).allowed());

  v1::RevokeHabilitationResponse revoked;
  Ok(entitlements_->RevokeHabilitation(As(operator_key_).get(), RevokeOfProfile(), &revoked));
  const std::string killed = restart(true);
  EXPECT_TRUE(absl::StrContains(killed, "restored from the snapshot")) << killed;
  v1::CheckAccessResponse after = Check(revoked.consistency_token());
  EXPECT_FALSE(after.allowed());
  EXPECT_EQ(after.reason(), v1::NO_HABILITATION);
}

TEST_F(AccessTest, ATokenThisServerNeverReturnedIsRefused) {
  grpc::Status status;
  Check("__________8", &status);  // revision 2^64 - 1
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(client::DetailsOf(status).reason, "CONSISTENCY_TOKEN_UNKNOWN");
}

TEST_F(AccessTest, AnApplicationSeesOnlyItsOwnApplication) {
  v1::CheckAccessRequest request;
  request.set_account(account_);
  request.set_profile(kProfile);
  v1::CheckAccessResponse response;
  grpc::Status status = access_->CheckAccess(As(app_keys_["autre"]).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client::DetailsOf(status).reason, "PROFILE_OF_ANOTHER_APPLICATION");
  EXPECT_EQ(client::DetailsOf(status).reason, "PROFILE_OF_ANOTHER_APPLICATION");

  // The batch follows the same rule, and says which check it is about.
  v1::BatchCheckRequest batch;
  *batch.add_checks() = request;
  v1::BatchCheckResponse batched;
  grpc::Status in_batch = access_->BatchCheck(As(app_keys_["autre"]).get(), batch, &batched);
  EXPECT_EQ(in_batch.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client::DetailsOf(in_batch).reason, "PROFILE_OF_ANOTHER_APPLICATION");
  EXPECT_EQ(client::DetailsOf(in_batch).reason, "PROFILE_OF_ANOTHER_APPLICATION");
  EXPECT_EQ(in_batch.error_message().rfind("checks[0]: ", 0), 0u) << in_batch.error_message();
  batch.mutable_checks(0)->set_profile("pas un nom");
  grpc::Status malformed = access_->BatchCheck(As(app_keys_["autre"]).get(), batch, &batched);
  ASSERT_EQ(client::DetailsOf(malformed).field_violations.size(), 1u);
  EXPECT_EQ(client::DetailsOf(malformed).field_violations[0].field, "checks[0].profile");
}

TEST_F(AccessTest, TheAccessApiIsForClientApplications) {
  v1::CheckAccessRequest request;
  request.set_account(account_);
  request.set_profile(kProfile);
  v1::CheckAccessResponse response;
  EXPECT_EQ(access_->CheckAccess(As(operator_key_).get(), request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(access_->CheckAccess(As("").get(), request, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AccessTest, BatchCheckAnswersInOrder) {
  v1::BatchCheckRequest batch;
  v1::CheckAccessRequest* known = batch.add_checks();
  known->set_account(account_);
  known->set_profile(kProfile);
  v1::CheckAccessRequest* unknown = batch.add_checks();
  unknown->set_login_email("nobody@example.fr");
  unknown->set_permission("factures.lire");
  v1::BatchCheckResponse response;
  Ok(access_->BatchCheck(As(app_keys_["portail"]).get(), batch, &response));
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).reason(), v1::ACCOUNT_INACTIVE);
  EXPECT_EQ(response.results(1).reason(), v1::ACCOUNT_UNKNOWN);
}

TEST_F(AccessTest, WATCH_anApplicationFollowsItsChangesAndResumesFromItsLastToken) {
  // From the seeded state, so that the grant below cannot slip in before the stream starts.
  v1::WatchChangesRequest watch;
  watch.set_application("applications/portail");
  watch.set_consistency_token(seeded_token_);
  auto context = As(app_keys_["portail"]);
  std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>> stream = audit_->WatchChanges(context.get(), watch);

  v1::GrantHabilitationResponse granted;
  Ok(entitlements_->GrantHabilitation(As(operator_key_).get(), GrantOfProfile(), &granted));
  std::vector<v1::WatchChangesResponse> seen = ReadUntil(*stream, "habilis.v1.GrantHabilitation");
  ASSERT_FALSE(seen.empty());
  const v1::AuditEntry& entry = seen.back().audit_entries(seen.back().audit_entries_size() - 1);
  EXPECT_EQ(entry.consistency_token(), granted.consistency_token()) << "the entry of the grant's own commit";
  bool habilitation = false;
  for (const auto& change : entry.changes()) habilitation |= change.record_type() == "habilis.v1.Habilitation";
  EXPECT_TRUE(habilitation);
  const std::string resume_from = seen.back().consistency_token();
  context->TryCancel();
  stream->Finish();

  // While nobody watches: a revocation, and a change of another application's catalog.
  v1::RevokeHabilitationResponse revoked;
  Ok(entitlements_->RevokeHabilitation(As(operator_key_).get(), RevokeOfProfile(), &revoked));
  v1::CreateProfileRequest other;
  other.set_parent("applications/autre");
  other.set_profile_id("lecteur");
  other.mutable_profile()->set_display_name("Lecteur");
  other.mutable_profile()->add_permissions("lire");
  v1::CreateProfileResponse created;
  Ok(applications_->CreateProfile(As(operator_key_).get(), other, &created));

  watch.set_consistency_token(resume_from);
  auto again = As(app_keys_["portail"]);
  std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>> resumed = audit_->WatchChanges(again.get(), watch);
  v1::WatchChangesResponse next;
  ASSERT_TRUE(resumed->Read(&next));
  ASSERT_GE(next.audit_entries_size(), 1);
  EXPECT_EQ(next.audit_entries(0).action(), "habilis.v1.RevokeHabilitation") << "nothing missed, nothing repeated";
  for (const auto& e : next.audit_entries()) {
    EXPECT_NE(e.action(), "habilis.v1.CreateProfile") << "another application's change is filtered out";
  }
  again->TryCancel();
  resumed->Finish();
}

TEST_F(AccessTest, WATCH_anApplicationWatchesOnlyItsOwnApplication) {
  v1::WatchChangesRequest watch;
  watch.set_application("applications/portail");
  auto context = As(app_keys_["autre"]);
  std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>> stream = audit_->WatchChanges(context.get(), watch);
  v1::WatchChangesResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client::DetailsOf(status).reason, "PERMISSION_DENIED");

  watch.set_consistency_token("__________8");
  auto mine = As(app_keys_["portail"]);
  std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>> future = audit_->WatchChanges(mine.get(), watch);
  EXPECT_FALSE(future->Read(&response));
  status = future->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(client::DetailsOf(status).reason, "CONSISTENCY_TOKEN_UNKNOWN");
}

TEST_F(AccessTest, AUDIT_aRefusedGrantIsRecordedWithItsReasonChangesNothingAndIsNotAChangeToWatch) {
  const std::string session = MakeUsable();
  v1::GrantHabilitationRequest grant = GrantOfProfile();
  grant.set_request_id("self-grant-1");
  v1::GrantHabilitationResponse granted;
  // A collaborator may not grant, not even to himself.
  EXPECT_EQ(entitlements_->GrantHabilitation(As(session).get(), grant, &granted).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Check("").reason(), v1::NO_HABILITATION);

  std::vector<v1::AuditEntry> trail = Trail(account_);
  auto refused = std::find_if(trail.begin(), trail.end(),
                              [](const v1::AuditEntry& e) { return e.action() == "habilis.v1.GrantHabilitation"; });
  ASSERT_NE(refused, trail.end());
  EXPECT_EQ(refused->outcome(), v1::AuditEntry::DENIED);
  EXPECT_EQ(refused->actor(), account_);
  EXPECT_EQ(refused->target(), account_);
  EXPECT_EQ(refused->request_id(), "self-grant-1");
  EXPECT_FALSE(refused->denial_reason().empty());
  EXPECT_EQ(refused->changes_size(), 0);
  // The structure's administrators see it too.
  std::vector<v1::AuditEntry> of_structure = Trail(kStructure);
  EXPECT_TRUE(std::any_of(of_structure.begin(), of_structure.end(), [](const v1::AuditEntry& e) {
    return e.outcome() == v1::AuditEntry::DENIED && e.action() == "habilis.v1.GrantHabilitation";
  }));

  // The same grant by an operator is applied, and is the only one a Watch of the structure sees.
  grant.clear_request_id();
  Ok(entitlements_->GrantHabilitation(As(operator_key_).get(), grant, &granted));
  trail = Trail(account_);
  EXPECT_EQ(trail.back().outcome(), v1::AuditEntry::APPLIED);
  EXPECT_EQ(trail.back().target(), account_);
  v1::WatchChangesRequest watch;
  watch.set_structure(kStructure);
  watch.set_consistency_token(seeded_token_);
  auto context = As(operator_key_);
  auto stream = audit_->WatchChanges(context.get(), watch);
  for (const v1::WatchChangesResponse& response : ReadUntil(*stream, "habilis.v1.GrantHabilitation")) {
    for (const v1::AuditEntry& entry : response.audit_entries()) {
      EXPECT_NE(entry.outcome(), v1::AuditEntry::DENIED) << entry.ShortDebugString();
    }
  }
  context->TryCancel();
}

TEST_F(AccessTest, AUDIT_theTrailOfAnAccountOutlivesItsDeletion) {
  v1::GrantHabilitationResponse granted;
  Ok(entitlements_->GrantHabilitation(As(operator_key_).get(), GrantOfProfile(), &granted));
  // DEL-REQUEST: the account holds no habilitation of the structure any more.
  v1::RevokeHabilitationResponse revoked;
  Ok(entitlements_->RevokeHabilitation(As(operator_key_).get(), RevokeOfProfile(), &revoked));
  const size_t before = Trail(account_).size();

  v1::RequestAccountDeletionRequest request;
  request.set_name(account_);
  request.set_structure(kStructure);
  v1::RequestAccountDeletionResponse requested;
  Ok(accounts_->RequestAccountDeletion(As(operator_key_).get(), request, &requested));
  // A member of this structure only: the deletion is immediate.
  EXPECT_EQ(requested.deletion_request().state(), v1::DeletionRequest::DONE);
  v1::GetAccountRequest get;
  get.set_name(account_);
  v1::GetAccountResponse got;
  ASSERT_EQ(accounts_->GetAccount(As(operator_key_).get(), get, &got).error_code(), grpc::StatusCode::NOT_FOUND);

  // Every entry is still there, and the deletion is the last one, with the records it removed.
  std::vector<v1::AuditEntry> trail = Trail(account_);
  ASSERT_GT(trail.size(), before);
  EXPECT_EQ(trail.back().action(), "habilis.v1.RequestAccountDeletion");
  EXPECT_TRUE(std::any_of(trail.back().changes().begin(), trail.back().changes().end(), [&](const v1::RecordChange& c) {
    return c.kind() == v1::RecordChange::DELETED && c.record() == account_;
  })) << trail.back().ShortDebugString();
  EXPECT_TRUE(std::any_of(trail.begin(), trail.end(),
                          [](const v1::AuditEntry& e) { return e.action() == "habilis.v1.GrantHabilitation"; }));
}

// WATCH against retention: tests/server/watch_retention_test.cc, with an injected clock.

// Reads what a stream still sends until it ends; fails the test if `action` is among it. Returns how it ended.
grpc::Status DrainWithout(grpc::ClientReader<v1::WatchChangesResponse>& stream, const std::string& action) {
  v1::WatchChangesResponse response;
  while (stream.Read(&response)) {
    for (const auto& entry : response.audit_entries()) {
      EXPECT_NE(entry.action(), action) << "delivered after the caller lost his right";
    }
  }
  return stream.Finish();
}

TEST_F(AccessTest, WATCH_aStreamOpenedWithAnOperatorKeyEndsWhenTheKeyIsRevoked) {
  v1::CreateApiKeyRequest create;
  create.mutable_api_key()->set_display_name("watcher");
  create.mutable_api_key()->set_operator_(true);
  v1::CreateApiKeyResponse key;
  Ok(api_keys_->CreateApiKey(As(operator_key_).get(), create, &key));
  v1::WatchChangesRequest watch;
  watch.set_structure(kStructure);
  watch.set_consistency_token(seeded_token_);
  auto context = As(key.secret());
  auto stream = audit_->WatchChanges(context.get(), watch);
  v1::GrantHabilitationResponse granted;
  Ok(entitlements_->GrantHabilitation(As(operator_key_).get(), GrantOfProfile(), &granted));
  ASSERT_FALSE(ReadUntil(*stream, "habilis.v1.GrantHabilitation").empty());

  v1::RevokeApiKeyRequest revoke;
  revoke.set_name(key.api_key().name());
  v1::RevokeApiKeyResponse revoked;
  Ok(api_keys_->RevokeApiKey(As(operator_key_).get(), revoke, &revoked));
  v1::RevokeHabilitationResponse later;
  Ok(entitlements_->RevokeHabilitation(As(operator_key_).get(), RevokeOfProfile(), &later));
  grpc::Status ended = DrainWithout(*stream, "habilis.v1.RevokeHabilitation");
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
  EXPECT_EQ(client::DetailsOf(ended).reason, "API_KEY_REVOKED");
}

TEST_F(AccessTest, WATCH_anAdministratorsStreamEndsWhenHeIsDemotedOrDeactivated) {
  StartHabilisd({"--login-codes-for-administrators", "false"});
  // A second administrator keeps the structure administered (LAST_ADMINISTRATOR).
  v1::CreateAccountRequest other;
  other.set_parent(kStructure);
  other.mutable_account()->set_login_email("autre-admin@example.fr");
  other.mutable_account()->set_given_name("Paul");
  other.mutable_account()->set_family_name("Durand");
  other.mutable_account()->set_address("1 place");
  other.mutable_account()->set_postal_code("29200");
  other.mutable_account()->set_city("Brest");
  other.mutable_membership()->set_role(v1::ADMINISTRATOR);
  v1::CreateAccountResponse other_created;
  Ok(accounts_->CreateAccount(As(operator_key_).get(), other, &other_created));
  v1::ActivateAccountRequest activate;
  activate.set_name(other_created.account().name());
  activate.set_structure(kStructure);
  v1::ActivateAccountResponse activated;
  Ok(accounts_->ActivateAccount(As(operator_key_).get(), activate, &activated));

  auto set_role = [&](v1::Role role) {
    v1::UpdateMembershipRequest update;
    update.set_account(account_);
    update.mutable_membership()->set_structure(kStructure);
    update.mutable_membership()->set_role(role);
    v1::UpdateMembershipResponse updated;
    Ok(accounts_->UpdateMembership(As(operator_key_).get(), update, &updated));
    return updated.consistency_token();
  };
  auto open_stream = [&](const std::string& session, const std::string& token, grpc::ClientContext& context) {
    v1::WatchChangesRequest watch;
    watch.set_structure(kStructure);
    watch.set_consistency_token(token);
    client::Authorize(context, session);
    return audit_->WatchChanges(&context, watch);
  };
  std::string token = set_role(v1::ADMINISTRATOR);
  const std::string session = MakeUsable();

  // Demoted: PERMISSION_DENIED, and the grant made after is not delivered.
  grpc::ClientContext first;
  auto demoted_stream = open_stream(session, token, first);
  v1::GrantHabilitationResponse granted;
  Ok(entitlements_->GrantHabilitation(As(operator_key_).get(), GrantOfProfile(), &granted));
  ASSERT_FALSE(ReadUntil(*demoted_stream, "habilis.v1.GrantHabilitation").empty());
  set_role(v1::COLLABORATOR);
  v1::RevokeHabilitationResponse revoked;
  Ok(entitlements_->RevokeHabilitation(As(operator_key_).get(), RevokeOfProfile(), &revoked));
  grpc::Status ended = DrainWithout(*demoted_stream, "habilis.v1.RevokeHabilitation");
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::PERMISSION_DENIED) << ended.error_message();
  EXPECT_EQ(client::DetailsOf(ended).reason, "PERMISSION_DENIED");

  // Deactivated: UNAUTHENTICATED (his sessions end with it).
  token = set_role(v1::ADMINISTRATOR);
  grpc::ClientContext second;
  auto deactivated_stream = open_stream(session, token, second);
  Ok(entitlements_->GrantHabilitation(As(operator_key_).get(), GrantOfProfile(), &granted));
  ASSERT_FALSE(ReadUntil(*deactivated_stream, "habilis.v1.GrantHabilitation").empty());
  v1::DeactivateAccountRequest deactivate;
  deactivate.set_name(account_);
  deactivate.set_structure(kStructure);
  v1::DeactivateAccountResponse deactivated;
  Ok(accounts_->DeactivateAccount(As(operator_key_).get(), deactivate, &deactivated));
  Ok(entitlements_->RevokeHabilitation(As(operator_key_).get(), RevokeOfProfile(), &revoked));
  ended = DrainWithout(*deactivated_stream, "habilis.v1.RevokeHabilitation");
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
}

}  // namespace
}  // namespace habilis
