// Drives the real habilisd binary over gRPC on a loopback port, with a real store in a temp directory.
#include <fstream>
#include <regex>

#include "absl/strings/escaping.h"
#include "clients/cpp/client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "habilis/v1/api_keys.grpc.pb.h"
#include "habilis/v1/applications.grpc.pb.h"
#include "habilis/v1/org_chart.grpc.pb.h"
#include "habilis/v1/structures.grpc.pb.h"
#include "tests/testing/habilisd_process.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

using testing::HabilisdProcess;

constexpr char kSiret[] = "73282932000074";
constexpr char kOtherSiret[] = "44306184100047";

std::string Structure(const std::string& siret = kSiret) { return "structures/" + siret; }
std::string Service(const std::string& id) { return Structure() + "/services/" + id; }

class HabilisdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RunResult created = testing::RunHabilisd({"--data-dir", data_dir(), "--create-operator-key", "tests"});
    ASSERT_EQ(created.exit_code, 0) << created.out;
    operator_key_ = std::string(absl::StripAsciiWhitespace(created.out));
    ASSERT_TRUE(operator_key_.starts_with("hbk_")) << operator_key_;
    StartServer();
  }

  std::string data_dir() const { return dir_.Sub("data"); }

  void StartServer(const std::vector<std::string>& extra_args = {}, const std::string& stderr_file = "") {
    process_.reset();
    auto process = HabilisdProcess::Start(data_dir(), extra_args, stderr_file);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(process).value();
    channel_ = client::Connect(process_->target());
    structures_ = v1::StructureService::NewStub(channel_);
    org_chart_ = v1::OrgChartService::NewStub(channel_);
    applications_ = v1::ApplicationService::NewStub(channel_);
    api_keys_ = v1::ApiKeyService::NewStub(channel_);
  }

  // A client context carrying `key` (the operator's by default; "" for none).
  std::unique_ptr<grpc::ClientContext> As(const std::string& key) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!key.empty()) client::Authorize(*context, key);
    return context;
  }
  std::unique_ptr<grpc::ClientContext> AsOperator() { return As(operator_key_); }

  grpc::Status CreateStructure(const std::string& siret, const std::string& key) {
    v1::CreateStructureRequest request;
    v1::Structure* s = request.mutable_structure();
    s->set_siret(siret);
    s->set_category("Commune");
    s->set_display_name("Mairie");
    s->set_address("1 place de la Mairie");
    s->set_postal_code("29200");
    s->set_city("Brest");
    v1::CreateStructureResponse response;
    return structures_->CreateStructure(As(key).get(), request, &response);
  }

  grpc::Status CreateService(const std::string& id, const std::string& display_name, const std::string& parent = "",
                             std::string* token = nullptr) {
    v1::CreateServiceRequest request;
    request.set_parent(Structure());
    request.set_service_id(id);
    request.mutable_service()->set_display_name(display_name);
    if (!parent.empty()) request.mutable_service()->set_parent(Service(parent));
    v1::CreateServiceResponse response;
    grpc::Status status = org_chart_->CreateService(AsOperator().get(), request, &response);
    if (token != nullptr) *token = response.consistency_token();
    return status;
  }

  v1::GetServiceTreeResponse Tree() {
    v1::GetServiceTreeRequest request;
    request.set_structure(Structure());
    v1::GetServiceTreeResponse response;
    grpc::Status status = org_chart_->GetServiceTree(AsOperator().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // Creates an application and returns a key for it.
  std::string ApplicationKey(const std::string& application_id) {
    v1::CreateApplicationRequest app;
    app.set_application_id(application_id);
    app.mutable_application()->set_display_name("Portail");
    v1::CreateApplicationResponse app_response;
    EXPECT_TRUE(applications_->CreateApplication(AsOperator().get(), app, &app_response).ok());
    v1::CreateApiKeyRequest key;
    key.mutable_api_key()->set_display_name("portail");
    key.mutable_api_key()->set_application("applications/" + application_id);
    v1::CreateApiKeyResponse key_response;
    grpc::Status status = api_keys_->CreateApiKey(AsOperator().get(), key, &key_response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return key_response.secret();
  }

  testing::TempDir dir_;
  std::string operator_key_;
  std::unique_ptr<HabilisdProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::StructureService::Stub> structures_;
  std::unique_ptr<v1::OrgChartService::Stub> org_chart_;
  std::unique_ptr<v1::ApplicationService::Stub> applications_;
  std::unique_ptr<v1::ApiKeyService::Stub> api_keys_;
};

TEST_F(HabilisdTest, HealthAnswersWithoutCredentials) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(As("").get(), request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  request.set_service("habilis.v1.OrgChartService");
  ASSERT_TRUE(health->Check(As("").get(), request, &response).ok());
  request.set_service("no.such.Service");
  EXPECT_EQ(health->Check(As("").get(), request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(HabilisdTest, ReflectionListsTheServicesWithoutCredentials) {
  // A raw ServerReflectionRequest{list_services: "*"} (field 7), so the test needs no reflection stubs.
  grpc::GenericStub stub(channel_);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto call = stub.PrepareCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  auto next = [&](void* expected) {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(tag, expected);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(next(reinterpret_cast<void*>(1)));
  grpc::Slice slice(std::string("\x3a\x01*", 3));
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(next(reinterpret_cast<void*>(2)));
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  ASSERT_TRUE(next(reinterpret_cast<void*>(3)));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_NE(bytes.find("habilis.v1.OrgChartService"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.health.v1.Health"), std::string::npos);
  call->WritesDone(reinterpret_cast<void*>(4));
  next(reinterpret_cast<void*>(4));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  next(reinterpret_cast<void*>(5));
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(HabilisdTest, CallsWithoutValidCredentialsAreUnauthenticated) {
  v1::ListStructuresRequest request;
  v1::ListStructuresResponse response;
  grpc::Status missing = structures_->ListStructures(As("").get(), request, &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(client::DetailsOf(missing).reason, "CREDENTIALS_MISSING");

  std::string forged = operator_key_;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  for (const std::string& key : {forged, std::string("hbk_0000000000000000_x"), std::string("garbage")}) {
    grpc::Status bad = structures_->ListStructures(As(key).get(), request, &response);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::UNAUTHENTICATED) << key;
    EXPECT_EQ(client::DetailsOf(bad).reason, "CREDENTIALS_INVALID") << key;
  }
  grpc::ClientContext basic;
  basic.AddMetadata("authorization", "Basic " + operator_key_);
  EXPECT_EQ(structures_->ListStructures(&basic, request, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(HabilisdTest, AnOperatorBuildsAnOrgChartOverGrpc) {
  ASSERT_TRUE(CreateStructure(kSiret, operator_key_).ok());
  ASSERT_TRUE(CreateService("direction", "Direction").ok());
  ASSERT_TRUE(CreateService("rh", "RH", "direction").ok());
  ASSERT_TRUE(CreateService("finances", "Finances", "direction").ok());
  ASSERT_TRUE(CreateService("paie", "Paie", "finances").ok());
  ASSERT_TRUE(CreateService("accueil", "Accueil").ok());

  v1::MergeServicesRequest merge;
  merge.set_parent(Structure());
  merge.add_sources(Service("finances"));
  merge.add_sources(Service("accueil"));
  merge.set_target(Service("rh"));
  v1::MergeServicesResponse merged;
  grpc::Status status = org_chart_->MergeServices(AsOperator().get(), merge, &merged);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(merged.consistency_token().empty());

  v1::BatchDeleteServicesRequest del;
  del.set_parent(Structure());
  del.add_names(Service("direction"));
  v1::BatchDeleteServicesResponse deleted;
  grpc::Status refused = org_chart_->BatchDeleteServices(AsOperator().get(), del, &deleted);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(client::DetailsOf(refused).reason, "SERVICE_HAS_CHILDREN");

  v1::GetServiceTreeResponse tree = Tree();
  EXPECT_EQ(tree.service_count(), 3);
  ASSERT_EQ(tree.roots_size(), 1);
  EXPECT_EQ(tree.roots(0).descendant_count(), 2);
}

TEST_F(HabilisdTest, ErrorsCarryOneErrorInfoAndTheInvalidFields) {
  v1::CreateStructureRequest request;
  request.mutable_structure()->set_siret("73282932000075");
  request.mutable_structure()->set_category("Commune");
  v1::CreateStructureResponse response;
  grpc::Status status = structures_->CreateStructure(AsOperator().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  client::ErrorDetails details = client::DetailsOf(status);
  EXPECT_EQ(details.error_info_count, 1);
  EXPECT_EQ(details.domain, "habilis");
  EXPECT_EQ(details.reason, "SIRET_CHECKSUM");
  std::set<std::string> fields;
  for (const auto& v : details.field_violations) fields.insert(v.field);
  EXPECT_TRUE(fields.contains("structure.siret"));
  EXPECT_TRUE(fields.contains("structure.display_name"));
  EXPECT_TRUE(fields.contains("structure.postal_code"));

  ASSERT_TRUE(CreateStructure(kSiret, operator_key_).ok());
  grpc::Status duplicate = CreateStructure(kSiret, operator_key_);
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(client::DetailsOf(duplicate).error_info_count, 1);
}

// A request that does not even parse gets the error contract, before authentication, and no peer can make
// the server write a log line per request.
TEST_F(HabilisdTest, ERRORS_anUndecodableRequestIsInvalidArgumentWithAReasonAndWritesNoLogLineEach) {
  const std::string log = dir_.Sub("stderr.log");
  StartServer({}, log);
  const std::string invalid_utf8("\x0a\x02\xc3\x28", 4);   // GetStructureRequest.name = 0xC3 0x28
  const std::string truncated("\x0a\x10structures/", 13);  // a length past the end
  for (int i = 0; i < 20; ++i) {
    for (const std::string* bytes : {&invalid_utf8, &truncated}) {
      grpc::Status status = client::CallRaw(channel_, "/habilis.v1.StructureService/GetStructure", *bytes);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
      client::ErrorDetails details = client::DetailsOf(status);
      EXPECT_EQ(details.reason, "REQUEST_UNDECODABLE");
      EXPECT_EQ(details.error_info_count, 1);
    }
  }
  grpc::Status health = client::CallRaw(channel_, "/habilis.v1.AccessService/CheckAccess", invalid_utf8);
  EXPECT_EQ(health.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "the hot path too";
  process_->Terminate();
  std::ifstream in(log);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) lines += line.find("protobuf") != std::string::npos;
  EXPECT_LE(lines, 2) << "at most one line a minute for each place in protobuf that logs";
}

// One rule for every list: an enum value the API does not define is refused, not matched against nothing,
// and a page token the server did not make is refused, whatever list it is sent to.
TEST_F(HabilisdTest, ERRORS_unknownEnumValuesAndForeignPageTokensAreRefusedByEveryList) {
  ASSERT_TRUE(CreateStructure(kSiret, operator_key_).ok());
  // ListInvitationsRequest{parent: "structures/...", state: 99}
  std::string parent = Structure();
  std::string bytes = absl::StrCat("\x0a", std::string(1, static_cast<char>(parent.size())), parent, "\x10\x63");
  grpc::Status status =
      client::CallRaw(channel_, "/habilis.v1.InvitationService/ListInvitations", bytes, operator_key_);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(client::DetailsOf(status).reason, "ENUM_VALUE_UNKNOWN");

  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(CreateService(id, std::string("Service ") + id).ok());
  v1::ListServicesRequest services;
  services.set_parent(Structure());
  services.set_page_size(1);
  v1::ListServicesResponse page;
  ASSERT_TRUE(org_chart_->ListServices(AsOperator().get(), services, &page).ok());
  ASSERT_FALSE(page.next_page_token().empty());
  services.set_page_token(page.next_page_token());
  ASSERT_TRUE(org_chart_->ListServices(AsOperator().get(), services, &page).ok()) << "its own token pages on";

  for (const std::string& forged : {absl::WebSafeBase64Escape("p1:a"),
                                    absl::WebSafeBase64Escape("p2:0123456789abcdefa"), std::string("not base64!")}) {
    services.set_page_token(forged);
    grpc::Status listed = org_chart_->ListServices(AsOperator().get(), services, &page);
    EXPECT_EQ(client::DetailsOf(listed).reason, "PAGE_TOKEN_INVALID") << forged;
    v1::ListStructuresRequest structures;
    structures.set_page_token(forged);
    v1::ListStructuresResponse structures_page;
    EXPECT_EQ(client::DetailsOf(structures_->ListStructures(AsOperator().get(), structures, &structures_page)).reason,
              "PAGE_TOKEN_INVALID");
    v1::ListApplicationsRequest applications;
    applications.set_page_token(forged);
    v1::ListApplicationsResponse applications_page;
    EXPECT_EQ(
        client::DetailsOf(applications_->ListApplications(AsOperator().get(), applications, &applications_page)).reason,
        "PAGE_TOKEN_INVALID");
    v1::ListApiKeysRequest keys;
    keys.set_page_token(forged);
    v1::ListApiKeysResponse keys_page;
    EXPECT_EQ(client::DetailsOf(api_keys_->ListApiKeys(AsOperator().get(), keys, &keys_page)).reason,
              "PAGE_TOKEN_INVALID");
  }
}

// Identifiers that look alike are one identifier: a Cyrillic letter, a zero-width space, a right-to-left
// override, a no-break space or fullwidth letters beside an existing name do not make a new name.
TEST_F(HabilisdTest, SVC_CREATE_aNameThatLooksLikeAnExistingOneIsRefused) {
  ASSERT_TRUE(CreateStructure(kSiret, operator_key_).ok());
  ASSERT_TRUE(CreateService("finances", "Finances publiques").ok());
  const std::pair<const char*, const char*> attempts[] = {
      {"Fin\xd0\xb0nces publiques", "SERVICE_NAME_CONFUSABLE"},   // Cyrillic a
      {"Finances\xe2\x80\x8b publiques", "INVISIBLE_CHARACTER"},  // zero-width space
      {"\xe2\x80\xae"
       "Finances publiques",
       "INVISIBLE_CHARACTER"},                                  // right-to-left override
      {"Finances\xc2\xa0publiques", "SERVICE_NAME_TAKEN"},      // no-break space
      {"\xef\xbc\xa6inances publiques", "SERVICE_NAME_TAKEN"},  // fullwidth F
      {"FINANCES PUBLIQUES", "SERVICE_NAME_TAKEN"},
  };
  int n = 0;
  for (const auto& [name, reason] : attempts) {
    grpc::Status status = CreateService(absl::StrCat("autre", n++), name);
    EXPECT_EQ(client::DetailsOf(status).reason, reason) << name << ": " << status.error_message();
  }
  EXPECT_TRUE(CreateService("budget", "Budget").ok()) << "a name that reads differently is fine";
}

TEST_F(HabilisdTest, OversizeMessagesAreRefusedAndWriteNothing) {
  v1::CreateStructureRequest request;
  request.mutable_structure()->set_siret(kSiret);
  request.mutable_structure()->set_category("Commune");
  request.mutable_structure()->set_display_name(std::string(5 << 20, 'x'));
  v1::CreateStructureResponse response;
  grpc::Status status = structures_->CreateStructure(AsOperator().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::ListStructuresResponse list;
  ASSERT_TRUE(structures_->ListStructures(AsOperator().get(), v1::ListStructuresRequest(), &list).ok());
  EXPECT_EQ(list.structures_size(), 0);
}

TEST_F(HabilisdTest, ApplicationsCannotAdministerAndLearnNothingAboutExistence) {
  ASSERT_TRUE(CreateStructure(kSiret, operator_key_).ok());
  std::string app_key = ApplicationKey("portail");

  v1::GetStructureRequest existing, missing;
  existing.set_name(Structure(kSiret));
  missing.set_name(Structure(kOtherSiret));
  v1::GetStructureResponse response;
  grpc::Status a = structures_->GetStructure(As(app_key).get(), existing, &response);
  grpc::Status b = structures_->GetStructure(As(app_key).get(), missing, &response);
  EXPECT_EQ(a.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(b.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client::DetailsOf(a).reason, "PERMISSION_DENIED");
  EXPECT_EQ(client::DetailsOf(a).reason, client::DetailsOf(b).reason);
  EXPECT_EQ(a.error_message(), b.error_message());

  grpc::Status created = CreateStructure(kOtherSiret, app_key);
  EXPECT_EQ(created.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client::DetailsOf(created).reason, "PERMISSION_DENIED");

  // Its own application, and only that one, is readable.
  v1::GetApplicationRequest own;
  own.set_name("applications/portail");
  v1::GetApplicationResponse app;
  EXPECT_TRUE(applications_->GetApplication(As(app_key).get(), own, &app).ok());
  own.set_name("applications/other");
  EXPECT_EQ(applications_->GetApplication(As(app_key).get(), own, &app).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(HabilisdTest, ARevokedKeyIsRefusedOnTheNextCall) {
  std::string app_key = ApplicationKey("portail");
  v1::GetApplicationRequest get;
  get.set_name("applications/portail");
  v1::GetApplicationResponse app;
  ASSERT_TRUE(applications_->GetApplication(As(app_key).get(), get, &app).ok());

  v1::ListApiKeysResponse keys;
  ASSERT_TRUE(api_keys_->ListApiKeys(AsOperator().get(), v1::ListApiKeysRequest(), &keys).ok());
  std::string app_key_name;
  for (const auto& key : keys.api_keys()) {
    if (key.application() == "applications/portail") app_key_name = key.name();
  }
  ASSERT_FALSE(app_key_name.empty());
  v1::RevokeApiKeyRequest revoke;
  revoke.set_name(app_key_name);
  v1::RevokeApiKeyResponse revoked;
  ASSERT_TRUE(api_keys_->RevokeApiKey(AsOperator().get(), revoke, &revoked).ok());
  EXPECT_TRUE(revoked.api_key().has_revoke_time());

  grpc::Status status = applications_->GetApplication(As(app_key).get(), get, &app);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(client::DetailsOf(status).reason, "API_KEY_REVOKED");
}

TEST_F(HabilisdTest, TheLastOperatorKeyCannotBeRevoked) {
  v1::ListApiKeysResponse keys;
  ASSERT_TRUE(api_keys_->ListApiKeys(AsOperator().get(), v1::ListApiKeysRequest(), &keys).ok());
  ASSERT_EQ(keys.api_keys_size(), 1);
  v1::RevokeApiKeyRequest revoke;
  revoke.set_name(keys.api_keys(0).name());
  v1::RevokeApiKeyResponse revoked;
  grpc::Status status = api_keys_->RevokeApiKey(AsOperator().get(), revoke, &revoked);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(client::DetailsOf(status).reason, "LAST_OPERATOR_KEY");
}

TEST_F(HabilisdTest, KeysAreShownOnceAndNeverListed) {
  v1::CreateApiKeyRequest request;
  request.mutable_api_key()->set_display_name("second operator");
  request.mutable_api_key()->set_operator_(true);
  v1::CreateApiKeyResponse created;
  ASSERT_TRUE(api_keys_->CreateApiKey(AsOperator().get(), request, &created).ok());
  ASSERT_TRUE(created.secret().starts_with("hbk_"));
  v1::ListApiKeysResponse keys;
  ASSERT_TRUE(api_keys_->ListApiKeys(As(created.secret()).get(), v1::ListApiKeysRequest(), &keys).ok());
  EXPECT_EQ(keys.api_keys_size(), 2);
  std::string serialized = keys.SerializeAsString();
  // "hbk_<id>_<secret>": the secret itself may hold '_', so it starts after the id's separator.
  std::string secret_part = created.secret().substr(created.secret().find('_', 4) + 1);
  ASSERT_GE(secret_part.size(), 32u);
  EXPECT_EQ(serialized.find(secret_part), std::string::npos);
}

TEST_F(HabilisdTest, CreatingTheFirstOperatorKeyTwiceIsRefused) {
  process_->Terminate();
  testing::RunResult again = testing::RunHabilisd({"--data-dir", data_dir(), "--create-operator-key", "again"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_EQ(again.out.find("hbk_"), std::string::npos);
}

TEST_F(HabilisdTest, ConsistencyTokensGrowWithEachWrite) {
  ASSERT_TRUE(CreateStructure(kSiret, operator_key_).ok());
  std::string first, second;
  ASSERT_TRUE(CreateService("a", "A", "", &first).ok());
  ASSERT_TRUE(CreateService("b", "B", "", &second).ok());
  std::string raw_first, raw_second;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(first, &raw_first));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(second, &raw_second));
  EXPECT_LT(raw_first, raw_second);
}

TEST_F(HabilisdTest, EveryAcknowledgedWriteSurvivesKill9AndARestart) {
  ASSERT_TRUE(CreateStructure(kSiret, operator_key_).ok());
  for (int i = 0; i < 25; ++i) {
    std::string id = "s" + std::to_string(i);
    std::string parent = i < 5 ? "" : "s" + std::to_string(i % 5);
    ASSERT_TRUE(CreateService(id, "Service " + std::to_string(i), parent).ok()) << id;
  }
  v1::MergeServicesRequest merge;
  merge.set_parent(Structure());
  merge.add_sources(Service("s3"));
  merge.add_sources(Service("s4"));
  merge.set_target(Service("s0"));
  v1::MergeServicesResponse merged;
  ASSERT_TRUE(org_chart_->MergeServices(AsOperator().get(), merge, &merged).ok());
  v1::UpdateStructureRequest update;
  update.mutable_structure()->set_name(Structure());
  update.mutable_structure()->set_city("Quimper");
  update.mutable_update_mask()->add_paths("city");
  v1::UpdateStructureResponse updated;
  ASSERT_TRUE(structures_->UpdateStructure(AsOperator().get(), update, &updated).ok());
  const std::string app_key = ApplicationKey("portail");
  const std::string before = Tree().SerializeAsString();

  process_->Kill9();
  StartServer();

  EXPECT_EQ(Tree().SerializeAsString(), before);
  v1::GetStructureRequest get;
  get.set_name(Structure());
  v1::GetStructureResponse structure;
  ASSERT_TRUE(structures_->GetStructure(AsOperator().get(), get, &structure).ok());
  EXPECT_EQ(structure.structure().city(), "Quimper");
  v1::GetApplicationRequest get_app;
  get_app.set_name("applications/portail");
  v1::GetApplicationResponse app;
  EXPECT_TRUE(applications_->GetApplication(As(app_key).get(), get_app, &app).ok()) << "the key survives too";
}

TEST(HabilisdDemo, TheDemoIsSeededOnFirstStartOnly) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  std::string first_credentials;
  for (int start = 0; start < 2; ++start) {
    auto process = HabilisdProcess::Start(data, {"--seed-demo"});
    ASSERT_TRUE(process.ok()) << process.status();
    EXPECT_NE((*process)->banner().find("listening on"), std::string::npos);
    std::ifstream file(data + "/demo-credentials.env");
    std::stringstream content;
    content << file.rdbuf();
    std::smatch match;
    std::string text = content.str();
    static const std::regex kOperator("HABILIS_OPERATOR_KEY=(hbk_[A-Za-z0-9_-]+)");
    ASSERT_TRUE(std::regex_search(text, match, kOperator)) << text;
    if (start == 0) first_credentials = text;
    EXPECT_EQ(text, first_credentials) << "a restart does not seed again";

    auto channel = client::Connect((*process)->target());
    auto org_chart = v1::OrgChartService::NewStub(channel);
    grpc::ClientContext context;
    client::Authorize(context, match[1].str());
    v1::GetServiceTreeRequest request;
    request.set_structure("structures/73282932000074");
    v1::GetServiceTreeResponse tree;
    grpc::Status status = org_chart->GetServiceTree(&context, request, &tree);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(tree.service_count(), 4);
  }
}

TEST(HabilisdStartup, ABadListenAddressIsRefused) {
  testing::TempDir dir;
  testing::RunResult result = testing::RunHabilisd({"--listen", "nowhere", "--data-dir", dir.Sub("data")});
  EXPECT_EQ(result.exit_code, 2);
}

}  // namespace
}  // namespace habilis
