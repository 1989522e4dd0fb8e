// WATCH against AUDIT retention, through the real server in process with an injected clock: a watcher whose
// token is older than the retained trail is told to resynchronise; one that has seen everything goes on.
#include <chrono>
#include <thread>

#include "absl/strings/match.h"
#include "clients/cpp/client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "habilis/v1/audit.grpc.pb.h"
#include "habilis/v1/org_chart.grpc.pb.h"
#include "habilis/v1/structures.grpc.pb.h"
#include "server/api/server.h"
#include "server/domain/entitlements/api_keys.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/domain_fixture.h"
#include "tests/testing/requests.h"
#include "tests/testing/temp_dir.h"

namespace habilis::api {
namespace {

constexpr char kStructure[] = "structures/73282932000074";

class WatchRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::RocksDbStore::Open(dir_.Sub("db"))).value();
    domain::ApiKeys keys(*store_, clock_);
    operator_key_ = keys.CreateFirstOperatorKey("tests").value();
  }

  void StartServer(double retention_days) {
    server_.reset();
    Config config;
    config.listen = "127.0.0.1:0";
    config.audit_retention_days = retention_days;
    server_ = std::move(Server::Start(config, *store_, clock_)).value();
    channel_ = client::Connect(absl::StrCat("127.0.0.1:", server_->port()));
  }

  std::unique_ptr<grpc::ClientContext> AsOperator() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    client::Authorize(*context, operator_key_);
    return context;
  }

  // The structure's trail as ListAuditEntries returns it.
  int TrailSize() {
    v1::ListAuditEntriesRequest request;
    request.set_structure(kStructure);
    v1::ListAuditEntriesResponse response;
    grpc::Status status = v1::AuditService::NewStub(channel_)->ListAuditEntries(AsOperator().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.audit_entries_size();
  }

  testing::TempDir dir_;
  testing::FixedClock clock_;
  std::unique_ptr<store::Store> store_;
  std::string operator_key_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(WatchRetentionTest, WATCH_aTokenOlderThanTheRetainedTrailIsRefusedWithAResynchroniseError) {
  StartServer(/*retention_days=*/0);
  v1::CreateStructureRequest structure = testing::CommuneStructureRequest();
  v1::CreateStructureResponse created;
  ASSERT_TRUE(v1::StructureService::NewStub(channel_)->CreateStructure(AsOperator().get(), structure, &created).ok());
  const std::string first_token = created.consistency_token();
  v1::CreateServiceRequest service;
  service.set_parent(kStructure);
  service.mutable_service()->set_display_name("Finances");
  v1::CreateServiceResponse service_created;
  ASSERT_TRUE(
      v1::OrgChartService::NewStub(channel_)->CreateService(AsOperator().get(), service, &service_created).ok());
  const std::string latest_token = service_created.consistency_token();
  ASSERT_GT(TrailSize(), 0);

  // Two days on, with a retention of one: the pass at start prunes every entry.
  clock_.now += absl::Hours(48);
  StartServer(/*retention_days=*/1);
  for (int i = 0; i < 1000 && TrailSize() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(TrailSize(), 0) << "the entries past the retention were not pruned";

  v1::WatchChangesRequest watch;
  watch.set_structure(kStructure);
  watch.set_consistency_token(first_token);
  auto context = AsOperator();
  auto stream = v1::AuditService::NewStub(channel_)->WatchChanges(context.get(), watch);
  v1::WatchChangesResponse response;
  while (stream->Read(&response)) {
  }
  grpc::Status expired = stream->Finish();
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << expired.error_message();
  EXPECT_EQ(client::DetailsOf(expired).reason, "CONSISTENCY_TOKEN_EXPIRED");
  EXPECT_TRUE(absl::StrContains(expired.error_message(), "resynchronise")) << expired.error_message();

  // A client that had seen everything resumes as usual: the next change reaches it.
  watch.set_consistency_token(latest_token);
  auto again = AsOperator();
  auto resumed = v1::AuditService::NewStub(channel_)->WatchChanges(again.get(), watch);
  service.mutable_service()->set_display_name("Ressources humaines");
  ASSERT_TRUE(
      v1::OrgChartService::NewStub(channel_)->CreateService(AsOperator().get(), service, &service_created).ok());
  bool delivered = false;
  while (!delivered && resumed->Read(&response)) {
    for (const auto& entry : response.audit_entries()) delivered |= entry.action() == "habilis.v1.CreateService";
  }
  EXPECT_TRUE(delivered);
  again->TryCancel();
}

}  // namespace
}  // namespace habilis::api
