// Two real habilisd nodes on one real PostgreSQL 15 cluster that the test starts (docs/SCALE-OUT.md): what is
// written on node A is seen on node B, never from before a token, and revocations reach B.
#include <atomic>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/cpp/client.h"
#include "grpc/health/v1/health.grpc.pb.h"
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
#include "tests/testing/postgres_cluster.h"
#include "tests/testing/requests.h"
#include "tests/testing/smtp_sink.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

constexpr char kStructure[] = "structures/73282932000074";
constexpr char kProfile[] = "applications/portail/profiles/utilisateur";
constexpr char kPassword[] = "correct horse battery staple";

// One habilisd and its stubs.
struct Node {
  std::unique_ptr<testing::HabilisdProcess> process;
  std::unique_ptr<v1::StructureService::Stub> structures;
  std::unique_ptr<v1::ApplicationService::Stub> applications;
  std::unique_ptr<v1::ApiKeyService::Stub> api_keys;
  std::unique_ptr<v1::AccountService::Stub> accounts;
  std::unique_ptr<v1::EntitlementService::Stub> entitlements;
  std::unique_ptr<v1::AccessService::Stub> access;
  std::unique_ptr<v1::SessionService::Stub> sessions;
  std::unique_ptr<v1::AuditService::Stub> audit;
};

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = testing::PostgresCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(cluster).value();
    auto url = cluster_->CreateDatabase("habilis");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    testing::RunResult created =
        testing::RunHabilisd({"--data-dir", dir_.Sub("a"), "--store", url_, "--create-operator-key", "t"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    operator_key_ = std::string(absl::StripAsciiWhitespace(created.out));
    auto sink = testing::SmtpSink::Start();
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = std::move(sink).value();
    // Node B reads the feed only every 2 s on its own: within a test, only a token makes it catch up sooner.
    Start(a_, "a", "5");
    Start(b_, "b", "2000");
    Seed();
  }

  void Start(Node& node, const std::string& name, const std::string& poll_ms) {
    node.process.reset();
    auto process = testing::HabilisdProcess::Start(
        dir_.Sub(name), {"--store", url_, "--store-poll-ms", poll_ms, "--smtp-url", sink_->url(), "--mail-poll-ms",
                         "20", "--outbox-key-file", dir_.Sub("outbox.key")});
    ASSERT_TRUE(process.ok()) << process.status();
    node.process = std::move(process).value();
    auto channel = client::Connect(node.process->target());
    node.structures = v1::StructureService::NewStub(channel);
    node.applications = v1::ApplicationService::NewStub(channel);
    node.api_keys = v1::ApiKeyService::NewStub(channel);
    node.accounts = v1::AccountService::NewStub(channel);
    node.entitlements = v1::EntitlementService::NewStub(channel);
    node.access = v1::AccessService::NewStub(channel);
    node.sessions = v1::SessionService::NewStub(channel);
    node.audit = v1::AuditService::NewStub(channel);
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!bearer.empty()) client::Authorize(*context, bearer);
    return context;
  }

  void Ok(const grpc::Status& status) { ASSERT_TRUE(status.ok()) << status.error_message(); }

  // On node A: a structure subscribed to "portail" with one profile, a key for it, and an account that can
  // use what it is granted (activated, password set, consented).
  void Seed() {
    v1::CreateStructureResponse s;
    Ok(a_.structures->CreateStructure(As(operator_key_).get(), testing::CommuneStructureRequest(), &s));
    v1::CreateApplicationRequest app;
    app.set_application_id("portail");
    app.mutable_application()->set_display_name("Portail");
    v1::CreateApplicationResponse created_app;
    Ok(a_.applications->CreateApplication(As(operator_key_).get(), app, &created_app));
    v1::CreateApiKeyRequest key;
    key.mutable_api_key()->set_display_name("portail");
    key.mutable_api_key()->set_application("applications/portail");
    v1::CreateApiKeyResponse k;
    Ok(a_.api_keys->CreateApiKey(As(operator_key_).get(), key, &k));
    app_key_ = k.secret();
    app_key_name_ = k.api_key().name();
    v1::CreateProfileRequest profile;
    profile.set_parent("applications/portail");
    profile.set_profile_id("utilisateur");
    profile.mutable_profile()->set_display_name("Utilisateur");
    v1::CreateProfileResponse p;
    Ok(a_.applications->CreateProfile(As(operator_key_).get(), profile, &p));
    v1::CreateSubscriptionRequest subscription;
    subscription.set_parent(kStructure);
    subscription.set_application("applications/portail");
    v1::CreateSubscriptionResponse sub;
    Ok(a_.entitlements->CreateSubscription(As(operator_key_).get(), subscription, &sub));
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
    Ok(a_.accounts->CreateAccount(As(operator_key_).get(), account, &created));
    account_ = created.account().name();
    MakeUsable();
  }

  void MakeUsable() {
    v1::ActivateAccountRequest activate;
    activate.set_name(account_);
    activate.set_structure(kStructure);
    v1::ActivateAccountResponse activated;
    Ok(a_.accounts->ActivateAccount(As(operator_key_).get(), activate, &activated));
    absl::StatusOr<testing::ReceivedMail> mail = sink_->NextTo("jeanne@example.fr", "ACTIVATION");
    std::smatch match;
    ASSERT_TRUE(mail.ok() &&
                std::regex_search(mail->body, match, std::regex("token=(hbl_[0-9a-f]{16}_[A-Za-z0-9_-]+)")))
        << mail.status();
    v1::SetPasswordWithLinkRequest set;
    set.set_link_token(match[1].str());
    set.set_new_password(kPassword);
    v1::SetPasswordWithLinkResponse done;
    Ok(a_.sessions->SetPasswordWithLink(As("").get(), set, &done));
    v1::LoginResponse session;
    Ok(a_.sessions->Login(As("").get(), testing::LoginRequest("jeanne@example.fr", kPassword), &session));
    v1::AcceptPrivacyPolicyResponse consent;
    Ok(a_.sessions->AcceptPrivacyPolicy(As(session.session_token()).get(), v1::AcceptPrivacyPolicyRequest(), &consent));
  }

  // Creates a collaborator of the structure through `node`; the call's status.
  grpc::Status CreateAgent(Node& node, const std::string& login, std::string* name = nullptr) {
    const v1::CreateAccountRequest account = AgentRequest(login);
    v1::CreateAccountResponse created;
    auto context = As(operator_key_);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status status = node.accounts->CreateAccount(context.get(), account, &created);
    if (name != nullptr) *name = created.account().name();
    return status;
  }

  // A collaborator of the structure.
  static v1::CreateAccountRequest AgentRequest(const std::string& login) {
    v1::CreateAccountRequest account;
    account.set_parent(kStructure);
    v1::Account* a = account.mutable_account();
    a->set_login_email(login);
    a->set_given_name("Agent");
    a->set_family_name("Dupont");
    a->set_address("2 rue du Port");
    a->set_postal_code("29200");
    a->set_city("Brest");
    account.mutable_membership()->set_role(v1::COLLABORATOR);
    return account;
  }

  // Whether `node`'s Health says `status` within 5 s (it probes the store at most once a second).
  bool HealthBecomes(Node& node, grpc::health::v1::HealthCheckResponse::ServingStatus status) {
    auto health = grpc::health::v1::Health::NewStub(client::Connect(node.process->target()));
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (absl::Now() < deadline) {
      grpc::health::v1::HealthCheckResponse response;
      grpc::Status call = health->Check(As("").get(), grpc::health::v1::HealthCheckRequest(), &response);
      if (call.ok() && response.status() == status) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  // Whether `name` is an account, read through `node`.
  bool Exists(Node& node, const std::string& name) {
    v1::GetAccountRequest request;
    request.set_name(name);
    v1::GetAccountResponse account;
    grpc::Status status = node.accounts->GetAccount(As(operator_key_).get(), request, &account);
    EXPECT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND) << status.error_message();
    return status.ok();
  }

  // HAB-GRANT of the seeded profile to the seeded account, and HAB-REVOKE of it.
  v1::GrantHabilitationRequest GrantOfProfile() const { return testing::GrantRequest(kStructure, account_, kProfile); }
  v1::RevokeHabilitationRequest RevokeOfProfile() const {
    return testing::RevokeRequest(kStructure, account_, "applications/portail");
  }

  v1::CheckAccessResponse Check(Node& node, const std::string& token, grpc::Status* status_out = nullptr) {
    v1::CheckAccessRequest request;
    request.set_account(account_);
    request.set_profile(kProfile);
    request.set_consistency_token(token);
    v1::CheckAccessResponse response;
    grpc::Status status = node.access->CheckAccess(As(app_key_).get(), request, &response);
    if (status_out != nullptr) *status_out = status;
    EXPECT_TRUE(status_out != nullptr || status.ok()) << status.error_message();
    return response;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::PostgresCluster> cluster_;
  std::string url_;
  std::string operator_key_;
  std::string app_key_;
  std::string app_key_name_;
  std::string account_;
  std::unique_ptr<testing::SmtpSink> sink_;
  Node a_, b_;
};

TEST_F(ScaleOutTest, TOKENS_aCheckOnBCarryingAGrantOrRevokeTokenFromANeverAnswersFromBefore) {
  // B polls every 2 s: each answer below that is right comes from the token making B catch up.
  for (int round = 0; round < 10; ++round) {
    const v1::GrantHabilitationRequest grant = GrantOfProfile();
    v1::GrantHabilitationResponse granted;
    Ok(a_.entitlements->GrantHabilitation(As(operator_key_).get(), grant, &granted));
    EXPECT_TRUE(Check(b_, granted.consistency_token()).allowed()) << "round " << round;

    const v1::RevokeHabilitationRequest revoke = RevokeOfProfile();
    v1::RevokeHabilitationResponse revoked;
    Ok(a_.entitlements->RevokeHabilitation(As(operator_key_).get(), revoke, &revoked));
    v1::CheckAccessResponse after = Check(b_, revoked.consistency_token());
    EXPECT_FALSE(after.allowed()) << "round " << round;
    EXPECT_EQ(after.reason(), v1::NO_HABILITATION);
  }
}

TEST_F(ScaleOutTest, WATCH_aStreamOnBSeesTheWritesOfAInOrder) {
  const v1::GrantHabilitationRequest grant = GrantOfProfile();
  const v1::RevokeHabilitationRequest revoke = RevokeOfProfile();
  // The stream starts after a write's token: the calls made on A after it are all of the stream, whenever B
  // gets to the request.
  v1::GrantHabilitationResponse first;
  Ok(a_.entitlements->GrantHabilitation(As(operator_key_).get(), grant, &first));
  v1::WatchChangesRequest watch;
  watch.set_structure(kStructure);
  watch.set_consistency_token(first.consistency_token());
  auto context = As(operator_key_);
  auto stream = b_.audit->WatchChanges(context.get(), watch);
  for (int i = 0; i < 3; ++i) {
    v1::RevokeHabilitationResponse revoked;
    Ok(a_.entitlements->RevokeHabilitation(As(operator_key_).get(), revoke, &revoked));
    v1::GrantHabilitationResponse granted;
    Ok(a_.entitlements->GrantHabilitation(As(operator_key_).get(), grant, &granted));
  }
  std::vector<std::string> actions;
  v1::WatchChangesResponse response;
  while (actions.size() < 6 && stream->Read(&response)) {
    for (const v1::AuditEntry& entry : response.audit_entries()) actions.push_back(entry.action());
  }
  context->TryCancel();
  ASSERT_EQ(actions.size(), 6u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(actions[2 * i], "habilis.v1.RevokeHabilitation");
    EXPECT_EQ(actions[2 * i + 1], "habilis.v1.GrantHabilitation");
  }
}

// A long-lived stream on B after its caller loses his right on A: the revocation reaches B through the feed
// and ends the stream before it sends anything committed after it.
TEST_F(ScaleOutTest, WATCH_aStreamOnBEndsWhenItsKeyIsRevokedOnA) {
  v1::GrantHabilitationResponse first;
  Ok(a_.entitlements->GrantHabilitation(As(operator_key_).get(), GrantOfProfile(), &first));
  v1::WatchChangesRequest watch;
  watch.set_application("applications/portail");
  watch.set_consistency_token(first.consistency_token());
  auto context = As(app_key_);
  auto stream = b_.audit->WatchChanges(context.get(), watch);
  v1::RevokeHabilitationResponse revoked;
  Ok(a_.entitlements->RevokeHabilitation(As(operator_key_).get(), RevokeOfProfile(), &revoked));
  v1::WatchChangesResponse response;
  ASSERT_TRUE(stream->Read(&response)) << "the stream is live on B";
  ASSERT_EQ(response.audit_entries(0).action(), "habilis.v1.RevokeHabilitation");

  v1::RevokeApiKeyRequest revoke_key;
  revoke_key.set_name(app_key_name_);
  v1::RevokeApiKeyResponse key_revoked;
  Ok(a_.api_keys->RevokeApiKey(As(operator_key_).get(), revoke_key, &key_revoked));
  v1::GrantHabilitationResponse after;
  Ok(a_.entitlements->GrantHabilitation(As(operator_key_).get(), GrantOfProfile(), &after));
  // B polls every 2 s: the stream ends within that (the call's deadline is 30 s).
  int sent_after_revocation = 0;
  while (stream->Read(&response)) sent_after_revocation += response.audit_entries_size();
  const grpc::Status ended = stream->Finish();
  EXPECT_EQ(sent_after_revocation, 0) << "nothing committed after the revocation reaches a revoked key";
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
}

TEST_F(ScaleOutTest, OUTBOX_bothNodesDeliverAndEachMessageIsSentOnce) {
  constexpr int kAccounts = 8;
  for (int i = 0; i < kAccounts; ++i) {
    v1::CreateAccountRequest account;
    account.set_parent(kStructure);
    v1::Account* a = account.mutable_account();
    a->set_login_email(absl::StrCat("agent", i, "@example.fr"));
    a->set_given_name("Agent");
    a->set_family_name(absl::StrCat("Numero", i));
    a->set_address("2 rue du Port");
    a->set_postal_code("29200");
    a->set_city("Brest");
    account.mutable_membership()->set_role(v1::COLLABORATOR);
    v1::CreateAccountResponse created;
    Node& node = i % 2 == 0 ? a_ : b_;
    Ok(node.accounts->CreateAccount(As(operator_key_).get(), account, &created));
    v1::ActivateAccountRequest activate;
    activate.set_name(created.account().name());
    activate.set_structure(kStructure);
    v1::ActivateAccountResponse activated;
    Ok(node.accounts->ActivateAccount(As(operator_key_).get(), activate, &activated));
  }
  std::set<std::string> message_ids;
  for (int i = 0; i < kAccounts; ++i) {
    absl::StatusOr<testing::ReceivedMail> mail = sink_->NextTo(absl::StrCat("agent", i, "@example.fr"), "ACTIVATION");
    ASSERT_TRUE(mail.ok()) << mail.status();
    message_ids.insert(mail->message_id);
  }
  EXPECT_EQ(message_ids.size(), static_cast<size_t>(kAccounts));
  // Both nodes poll every 20 ms: a second copy of any of them would arrive well within this.
  absl::StatusOr<testing::ReceivedMail> again = sink_->Next(
      [](const testing::ReceivedMail& mail) { return absl::StartsWith(mail.to, "agent"); }, absl::Seconds(2));
  EXPECT_FALSE(again.ok()) << "sent twice: " << again->to;
}

TEST_F(ScaleOutTest, OUTBOX_aNodeWithAnotherOutboxKeyRefusesToStart) {
  auto started = testing::HabilisdProcess::Start(
      dir_.Sub("c"), {"--store", url_, "--outbox-key-file", dir_.Sub("another.key")}, dir_.Sub("c.log"));
  EXPECT_FALSE(started.ok());
  std::ifstream log(dir_.Sub("c.log"));
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(absl::StrContains(text, "outbox key is not the one")) << text;
}

TEST_F(ScaleOutTest, KILL9_aNodeKilledDuringWritesLosesNothingItAcknowledged) {
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      std::string name;
      if (CreateAgent(a_, absl::StrCat("kill", i, "@example.fr"), &name).ok()) acknowledged.push_back(name);
    }
  });
  absl::SleepFor(absl::Milliseconds(700));
  a_.process->Kill9();
  stop = true;
  writer.join();
  ASSERT_GT(acknowledged.size(), 5u);
  // Every write A acknowledged is there, read on B; and B keeps writing.
  for (const std::string& name : acknowledged) EXPECT_TRUE(Exists(b_, name)) << name;
  Ok(CreateAgent(b_, "after-kill@example.fr"));
}

TEST_F(ScaleOutTest, DATABASE_RESTART_nodesAnswerUnavailableMeanwhileReconnectAndLoseNothing) {
  std::vector<std::string> before;
  for (int i = 0; i < 5; ++i) {
    std::string name;
    Ok(CreateAgent(a_, absl::StrCat("before", i, "@example.fr"), &name));
    before.push_back(name);
  }
  // A grant on A, then the database goes: B, which polls every 2 s, has not applied it and cannot now. B must
  // hold the application's key in memory by then, or the check is refused at the gate: B applies every commit
  // so far (a token), which drops the key from its cache (its creation is among them), then verifies it again.
  v1::CreateAccountResponse latest;
  auto created = As(operator_key_);
  Ok(a_.accounts->CreateAccount(created.get(), AgentRequest("latest@example.fr"), &latest));
  EXPECT_FALSE(Check(b_, latest.consistency_token()).allowed());
  EXPECT_FALSE(Check(b_, "").allowed());
  const v1::GrantHabilitationRequest grant = GrantOfProfile();
  v1::GrantHabilitationResponse granted;
  Ok(a_.entitlements->GrantHabilitation(As(operator_key_).get(), grant, &granted));
  ASSERT_TRUE(cluster_->Stop(/*immediate=*/true).ok());
  grpc::Status behind;
  const bool allowed = Check(b_, granted.consistency_token(), &behind).allowed();
  if (behind.ok()) {
    EXPECT_TRUE(allowed) << "B polled between the grant and the outage: it must then answer from the grant";
  } else {
    EXPECT_EQ(behind.error_code(), grpc::StatusCode::UNAVAILABLE) << behind.error_message();
    EXPECT_EQ(client::DetailsOf(behind).reason, "NODE_BEHIND_CONSISTENCY_TOKEN");
  }
  grpc::Status down = CreateAgent(a_, "while-down@example.fr");
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();
  EXPECT_TRUE(HealthBecomes(a_, grpc::health::v1::HealthCheckResponse::NOT_SERVING))
      << "a load balancer takes a node that cannot reach its database out";
  ASSERT_TRUE(cluster_->Restart().ok());
  // The nodes reconnect on their own: the first calls after the restart may still find a dead connection.
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  grpc::Status after;
  std::string name;
  do {
    after = CreateAgent(b_, "after-restart@example.fr", &name);
  } while (after.error_code() == grpc::StatusCode::UNAVAILABLE && absl::Now() < deadline);
  Ok(after);
  for (const std::string& earlier : before) EXPECT_TRUE(Exists(a_, earlier)) << earlier;
  EXPECT_TRUE(Exists(a_, name));
  EXPECT_TRUE(HealthBecomes(a_, grpc::health::v1::HealthCheckResponse::SERVING));
  // Both nodes follow the feed again: the grant made before the outage reaches B with its token, and a revoke
  // on B reaches A with its own.
  EXPECT_TRUE(Check(b_, granted.consistency_token()).allowed());
  const v1::RevokeHabilitationRequest revoke = RevokeOfProfile();
  v1::RevokeHabilitationResponse revoked;
  Ok(b_.entitlements->RevokeHabilitation(As(operator_key_).get(), revoke, &revoked));
  EXPECT_FALSE(Check(a_, revoked.consistency_token()).allowed());
}

// Sessions are read from the store at each call (no node keeps them): one ended on A is refused on B at once.
TEST_F(ScaleOutTest, REVOCATION_aSessionLoggedOutOnAIsRefusedOnBAtOnce) {
  v1::LoginResponse session;
  Ok(a_.sessions->Login(As("").get(), testing::LoginRequest("jeanne@example.fr", kPassword), &session));
  v1::ListSessionsRequest list;
  list.set_parent(account_);
  v1::ListSessionsResponse listed;
  Ok(b_.sessions->ListSessions(As(session.session_token()).get(), list, &listed));
  v1::LogoutResponse out;
  Ok(a_.sessions->Logout(As(session.session_token()).get(), v1::LogoutRequest(), &out));
  const grpc::Status after = b_.sessions->ListSessions(As(session.session_token()).get(), list, &listed);
  EXPECT_EQ(after.error_code(), grpc::StatusCode::UNAUTHENTICATED) << "the very next call on B";
}

TEST_F(ScaleOutTest, REVOCATION_anApiKeyRevokedOnAIsRefusedOnBWithinTheFeedDelay) {
  // B knows the key (and keeps it in memory) before the revocation.
  EXPECT_FALSE(Check(b_, "").allowed());
  v1::RevokeApiKeyRequest revoke;
  revoke.set_name(app_key_name_);
  v1::RevokeApiKeyResponse revoked;
  Ok(a_.api_keys->RevokeApiKey(As(operator_key_).get(), revoke, &revoked));
  // B polls every 2 s: refused within that, plus the time of a call.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  grpc::StatusCode code = grpc::StatusCode::OK;
  while (absl::Now() < deadline) {
    v1::CheckAccessRequest request;
    request.set_account(account_);
    request.set_profile(kProfile);
    v1::CheckAccessResponse response;
    code = b_.access->CheckAccess(As(app_key_).get(), request, &response).error_code();
    if (code != grpc::StatusCode::OK) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(code, grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace habilis
