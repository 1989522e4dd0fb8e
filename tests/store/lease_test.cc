// store/lease.h: a periodic job runs on one process at a time among those sharing a store, on every backend.
#include "store/lease.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "gtest/gtest.h"
#include "tests/store/backend_factories.h"

namespace habilis::store {
namespace {

constexpr absl::Duration kTerm = absl::Seconds(30);
const absl::Time kNow = absl::FromUnixSeconds(1798761600);

template <typename Factory>
class JobLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.Open();
    // Another process on the same store where the backend allows one (PostgreSQL); the same store otherwise.
    if constexpr (Factory::kShared) other_ = factory_.Open();
  }
  Store& Other() { return other_ != nullptr ? *other_ : *store_; }

  Factory factory_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Store> other_;
};

using Backends = ::testing::Types<RocksDbFactory, PostgresFactory>;
TYPED_TEST_SUITE(JobLeaseTest, Backends);

TYPED_TEST(JobLeaseTest, OneHolderUntilItsTermLapses) {
  JobLease first(*this->store_, "sweep", kTerm);
  JobLease second(this->Other(), "sweep", kTerm);
  EXPECT_TRUE(first.Hold(kNow).value());
  EXPECT_FALSE(second.Hold(kNow + absl::Seconds(1)).value()) << "the first holds it";
  EXPECT_TRUE(first.Hold(kNow + absl::Seconds(20)).value()) << "the holder renews it";
  EXPECT_FALSE(second.Hold(kNow + absl::Seconds(40)).value()) << "renewed until 50 s";
  EXPECT_TRUE(second.Hold(kNow + absl::Seconds(51)).value()) << "a holder that stopped renewing loses it";
  EXPECT_FALSE(first.Hold(kNow + absl::Seconds(52)).value());
}

TYPED_TEST(JobLeaseTest, ReleaseHandsItOverAtOnceAndANonHolderCommitsNothing) {
  JobLease first(*this->store_, "sweep", kTerm);
  JobLease second(this->Other(), "sweep", kTerm);
  ASSERT_TRUE(first.Hold(kNow).value());
  const Revision before = this->store_->LatestRevision().value();
  EXPECT_TRUE(second.Release().ok());
  EXPECT_EQ(this->store_->LatestRevision().value(), before) << "a process that does not hold it gives nothing up";
  EXPECT_TRUE(first.Release().ok());
  EXPECT_TRUE(second.Hold(kNow + absl::Seconds(1)).value()) << "released: taken at once, not after the term";
}

// Two processes whose passes start at the same instant: exactly one runs, every time.
TYPED_TEST(JobLeaseTest, TwoHoldersAtTheSameInstantExactlyOneWins) {
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string job = absl::StrCat("job-", round);
    JobLease first(*this->store_, job, kTerm);
    JobLease second(this->Other(), job, kTerm);
    absl::Barrier* start = new absl::Barrier(2);  // deleted by the last thread through it
    std::atomic<int> held{0};
    auto take = [&](JobLease& lease) {
      if (start->Block()) delete start;
      absl::StatusOr<bool> got = lease.Hold(kNow);
      EXPECT_TRUE(got.ok()) << got.status();
      if (got.value_or(false)) ++held;
    };
    std::thread other([&] { take(second); });
    take(first);
    other.join();
    EXPECT_EQ(held.load(), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace habilis::store
