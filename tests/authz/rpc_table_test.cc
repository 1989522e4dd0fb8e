// Every RPC the server registers has an entry in the permission table, and every entry names a real RPC.
#include "authz/rpc_table.h"

#include <set>

#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "server/api/server.h"
#include "server/common/clock.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/temp_dir.h"

namespace habilis::authz {
namespace {

class RpcTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::RocksDbStore::Open(dir_.Sub("db"))).value();
    Config config;
    config.listen = "127.0.0.1:0";
    auto server = api::Server::Start(config, *store_, habilis::SystemClock());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
  }

  // Full names "package.Service/Method" of every method of every registered service.
  std::set<std::string> RegisteredMethods() {
    std::set<std::string> methods;
    for (const std::string& name : server_->registered_services()) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
      EXPECT_NE(service, nullptr) << "no descriptor for registered service " << name;
      if (service == nullptr) continue;
      for (int i = 0; i < service->method_count(); ++i) methods.insert(name + "/" + service->method(i)->name());
    }
    return methods;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<api::Server> server_;
};

TEST_F(RpcTableTest, TheServerRegistersHabilisHealthAndReflection) {
  std::set<std::string> services(server_->registered_services().begin(), server_->registered_services().end());
  EXPECT_TRUE(services.contains("habilis.v1.StructureService"));
  EXPECT_TRUE(services.contains("habilis.v1.OrgChartService"));
  EXPECT_TRUE(services.contains("grpc.health.v1.Health"));
  EXPECT_TRUE(services.contains("grpc.reflection.v1alpha.ServerReflection"));
}

TEST_F(RpcTableTest, EveryRegisteredRpcHasAnEntry) {
  std::set<std::string> methods = RegisteredMethods();
  EXPECT_GE(methods.size(), 20u);
  for (const std::string& method : methods) {
    EXPECT_NE(FindRpcRule(method), nullptr) << method << " has no entry in authz/rpc_table.cc";
  }
}

TEST_F(RpcTableTest, EveryEntryNamesARegisteredRpc) {
  std::set<std::string> methods = RegisteredMethods();
  for (const RpcRule& rule : RpcRules()) {
    EXPECT_TRUE(methods.contains(std::string(rule.method))) << rule.method << " is not served";
  }
}

TEST(RpcTable, AnUnknownRpcHasNoEntry) { EXPECT_EQ(FindRpcRule("habilis.v1.StructureService/DropAll"), nullptr); }

TEST(RpcTable, OnlyHealthAndReflectionArePublic) {
  for (const RpcRule& rule : RpcRules()) {
    if (rule.action != Action::kPublic) continue;
    std::string method(rule.method);
    EXPECT_TRUE(method.starts_with("grpc.health.v1.") || method.starts_with("grpc.reflection.")) << method;
  }
}

// Handlers find their permission by request type (server/api/unary.h), which needs one RPC per type.
TEST_F(RpcTableTest, EveryHabilisRpcHasARequestTypeOfItsOwn) {
  std::set<std::string> inputs;
  for (const std::string& name : server_->registered_services()) {
    if (!name.starts_with("habilis.")) continue;
    const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      EXPECT_TRUE(inputs.insert(service->method(i)->input_type()->full_name()).second)
          << service->method(i)->full_name();
    }
  }
}

}  // namespace
}  // namespace habilis::authz
