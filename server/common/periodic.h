// A task run on its own thread, once at start and then every interval, until the object is destroyed: the
// background passes of habilisd (audit retention, habilitation expiry).
#ifndef HABILIS_SERVER_COMMON_PERIODIC_H_
#define HABILIS_SERVER_COMMON_PERIODIC_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace habilis {

class PeriodicTask {
 public:
  // Starts `pass` on a thread when `interval` is positive; otherwise does nothing.
  PeriodicTask(absl::Duration interval, std::function<void()> pass) : interval_(interval), pass_(std::move(pass)) {
    if (interval_ > absl::ZeroDuration()) thread_ = std::thread([this] { Run(); });
  }
  // Stops after the pass under way, if any.
  ~PeriodicTask() { Stop(); }
  // The same, for an owner that has something to do once no pass runs any more. Idempotent.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  void Run() {
    while (true) {
      pass_();
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
    }
  }

  const absl::Duration interval_;
  const std::function<void()> pass_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace habilis

#endif  // HABILIS_SERVER_COMMON_PERIODIC_H_
