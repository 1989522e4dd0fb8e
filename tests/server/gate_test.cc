// The gate: an RPC missing from the permission table is denied at run time; credentials come before rights.
#include "server/api/gate.h"

#include "grpcpp/server_context.h"
#include "tests/testing/domain_fixture.h"

namespace habilis::api {
namespace {

class GateTest : public testing::DomainTest {
 protected:
  void SetUp() override {
    DomainTest::SetUp();
    api_keys_ = std::make_unique<domain::ApiKeys>(*store_, clock_);
    gate_ = std::make_unique<Gate>(*api_keys_, *sessions_, *engine_);
  }

  std::unique_ptr<authz::Engine> engine_ = authz::NewRoleEngine();
  std::unique_ptr<domain::ApiKeys> api_keys_;
  std::unique_ptr<Gate> gate_;
  grpc::ServerContext anonymous_;
};

TEST_F(GateTest, AnRpcWithoutAnEntryIsDenied) {
  absl::StatusOr<authz::Principal> caller = gate_->Admit(anonymous_, "habilis.v1.StructureService/DropAll", {});
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(caller.status()), "RPC_NOT_IN_POLICY");
}

TEST_F(GateTest, APublicRpcNeedsNoCredentials) {
  absl::StatusOr<authz::Principal> caller = gate_->Admit(anonymous_, "grpc.health.v1.Health/Check", {});
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->kind, authz::PrincipalKind::kAnonymous);
}

TEST_F(GateTest, AnyOtherRpcNeedsCredentialsFirst) {
  absl::StatusOr<authz::Principal> caller =
      gate_->Admit(anonymous_, "habilis.v1.StructureService/GetStructure", {.structure = kSiret});
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ErrorReason(caller.status()), "CREDENTIALS_MISSING");
}

TEST_F(GateTest, FirstOperatorKeyOnlyOnAStoreWithoutOne) {
  auto fresh = store::RocksDbStore::Open(dir_.Sub("fresh"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  domain::ApiKeys keys(**fresh, clock_);
  absl::StatusOr<std::string> key = keys.CreateFirstOperatorKey("first");
  ASSERT_TRUE(key.ok());
  absl::StatusOr<authz::Principal> op = keys.Authenticate(*key);
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->kind, authz::PrincipalKind::kOperator);
  EXPECT_EQ(ErrorReason(keys.CreateFirstOperatorKey("second").status()), "OPERATOR_KEY_EXISTS");
  // The fixture's store got its first key in SetUp.
  EXPECT_EQ(ErrorReason(api_keys_->CreateFirstOperatorKey("another").status()), "OPERATOR_KEY_EXISTS");
}

}  // namespace
}  // namespace habilis::api
