// The executor runs what it accepts and refuses work beyond its queue bound.
#include "server/api/executor.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace habilis::api {
namespace {

TEST(Executor, RunsEveryAcceptedTaskBeforeItStops) {
  std::atomic<int> ran = 0;
  {
    Executor executor(2, 100);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(executor.TrySubmit([&] { ++ran; }));
  }
  EXPECT_EQ(ran.load(), 50);
}

TEST(Executor, RefusesTasksBeyondItsQueueBound) {
  absl::Notification started, release;
  Executor executor(1, 1);
  ASSERT_TRUE(executor.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();            // the only thread is busy
  EXPECT_TRUE(executor.TrySubmit([] {}));   // one task may wait
  EXPECT_FALSE(executor.TrySubmit([] {}));  // the next one is refused
  release.Notify();
}

}  // namespace
}  // namespace habilis::api
