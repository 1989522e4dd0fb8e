// The benchmarks' ground truth (server/tools/dataset_truth.h) agrees with the server on a small dataset:
// if the dataset writer, the truth model or an access rule changes alone, the load generator would report
// wrong answers; this says so first, and says which.
#include "server/tools/dataset_truth.h"

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/access/access.h"
#include "server/tools/dataset.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/temp_dir.h"

namespace habilis::tools {
namespace {

class DatasetTruthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    params_.accounts = 3000;
    params_.structures = 300;
    store_ = std::move(store::RocksDbStore::Open(dir_.Sub("db"))).value();
    ASSERT_TRUE(GenerateDataset(*store_, params_, 0).ok());
    index_ = std::move(domain::AccessIndex::Attach(*store_)).value();
    access_ = std::make_unique<domain::Access>(*store_, *index_, SystemClock());
  }

  testing::TempDir dir_;
  DatasetParams params_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<domain::AccessIndex> index_;
  std::unique_ptr<domain::Access> access_;
};

TEST_F(DatasetTruthTest, EveryDrawnCheckGetsTheAnswerTheTruthSays) {
  QueryDrawer drawer(params_, {.zipf_exponent = 0, .seed = 3});
  std::map<v1::AccessReason, int> reasons;
  int allowed = 0;
  constexpr int kChecks = 20000;
  for (int n = 0; n < kChecks; ++n) {
    const int application = drawer.DrawApplication();
    const Query query = drawer.Draw(application, 0.5);
    v1::CheckAccessResponse got;
    ASSERT_TRUE(access_->Check(DatasetApplicationId(application), query.request, got).ok());
    ASSERT_EQ(got.allowed(), query.expected.allowed) << query.request.ShortDebugString();
    ASSERT_EQ(got.reason(), query.expected.reason) << query.request.ShortDebugString();
    if (got.allowed()) {
      EXPECT_EQ(got.structure(), query.expected.structure);
      EXPECT_EQ(got.profile(), query.expected.profile);
    }
    ++reasons[got.reason()];
    allowed += got.allowed() ? 1 : 0;
  }
  // The load is honest only if every denial the dataset holds is drawn, and about half are allowed.
  for (v1::AccessReason reason :
       {v1::NO_HABILITATION, v1::ACCOUNT_UNKNOWN, v1::ACCOUNT_INACTIVE, v1::ACCOUNT_LOCKED, v1::PASSWORD_EXPIRED,
        v1::CONSENT_MISSING, v1::MEMBERSHIP_ENDED, v1::NOT_SUBSCRIBED, v1::MEMBERSHIP_SUSPENDED}) {
    EXPECT_GT(reasons[reason], 0) << v1::AccessReason_Name(reason);
  }
  EXPECT_GT(allowed, kChecks * 4 / 10);
  EXPECT_LT(allowed, kChecks * 6 / 10);
}

TEST_F(DatasetTruthTest, EveryEntitlementListIsTheOneTheTruthSays) {
  for (int64_t account = 0; account < params_.accounts + 10; account += 7) {
    for (int application = 0; application < params_.applications; application += 3) {
      v1::ListEntitlementsRequest request;
      request.set_account(DatasetGrant(params_, account, 0).account);
      v1::ListEntitlementsResponse got;
      const absl::Status status = access_->ListEntitlements(DatasetApplicationId(application), request, got);
      const auto expected = ExpectEntitlements(params_, account, application);
      if (!expected) {
        EXPECT_TRUE(absl::IsNotFound(status)) << account;
        continue;
      }
      ASSERT_TRUE(status.ok()) << status;
      ASSERT_EQ(got.entitlements_size(), static_cast<int>(expected->size())) << account << " " << application;
      for (int i = 0; i < got.entitlements_size(); ++i) {
        EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals((*expected)[i], got.entitlements(i)))
            << got.entitlements(i).ShortDebugString();
      }
    }
  }
}

TEST_F(DatasetTruthTest, TheWriteZoneIsNeverDrawnAndZipfStaysInTheDataset) {
  QueryDrawer drawer(params_, {.zipf_exponent = 0.99, .seed = 5});
  for (int n = 0; n < 20000; ++n) {
    const Query query = drawer.Draw(drawer.DrawApplication(), 0);
    EXPECT_LT(query.account, 2 * params_.accounts);
    if (query.kind != QueryKind::kUnknownAccount) {
      EXPECT_LT(query.account, params_.accounts);
      EXPECT_FALSE(IsWriteZone(query.account)) << query.account;  // an account that exists
    }
  }
}

}  // namespace
}  // namespace habilis::tools
