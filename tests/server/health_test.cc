// grpc.health.v1.Health tells the truth: every registered service by name, and NOT_SERVING while the access
// index cannot be trusted (a commit it could not apply), for the names whose answers come from it.
#include <chrono>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/api/server.h"
#include "server/common/clock.h"
#include "store/keyspace.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/temp_dir.h"

namespace habilis::api {
namespace {

using grpc::health::v1::HealthCheckResponse;

class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::RocksDbStore::Open(dir_.Sub("db"))).value();
    Config config;
    config.listen = "127.0.0.1:0";
    auto server = Server::Start(config, *store_, habilis::SystemClock());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    stub_ = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  // The status of `service`, or -1 with the call's error code in *code.
  int Check(const std::string& service, grpc::StatusCode* code = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::Status status = stub_->Check(&context, request, &response);
    if (code != nullptr) *code = status.error_code();
    return status.ok() ? response.status() : -1;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
};

TEST_F(HealthTest, EveryRegisteredServiceAnswersByItsName) {
  EXPECT_EQ(Check(""), HealthCheckResponse::SERVING);
  for (const std::string& service : server_->registered_services()) {
    EXPECT_EQ(Check(service), HealthCheckResponse::SERVING) << service;
  }
  grpc::StatusCode code;
  EXPECT_EQ(Check("habilis.v1.NoSuchService", &code), -1);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
}

TEST_F(HealthTest, AnAccessIndexThatMissedACommitIsNotServing) {
  // A record the index cannot decode: it no longer knows the store's state.
  ASSERT_TRUE(store_
                  ->Update([](store::Transaction& txn) {
                    return txn.Put(store::AccountKey("0123456789abcdef"), "not an account record");
                  })
                  .ok());
  EXPECT_EQ(Check(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check("habilis.v1.AccessService"), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check("habilis.v1.AccountService"), HealthCheckResponse::SERVING)
      << "the administration API reads the store, not the index";
}

// grpc.health.v1: "the server will send a new message whenever the serving status changes".
TEST_F(HealthTest, WatchSendsTheStatusThenEachChange) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("habilis.v1.AccessService");
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> stream = stub_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  ASSERT_TRUE(store_
                  ->Update([](store::Transaction& txn) {
                    return txn.Put(store::AccountKey("0123456789abcdef"), "not an account record");
                  })
                  .ok());
  ASSERT_TRUE(stream->Read(&response)) << "the change is sent, without a new call";
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  context.TryCancel();
}

}  // namespace
}  // namespace habilis::api
