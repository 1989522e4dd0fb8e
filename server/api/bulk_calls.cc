#include "server/api/bulk_calls.h"

#include <utility>

namespace habilis::api {

BulkWorkers::~BulkWorkers() {
  absl::MutexLock lock(&mu_);
  for (Worker& worker : workers_) worker.thread.join();
}

bool BulkWorkers::TryRun(std::function<void()> job) {
  absl::MutexLock lock(&mu_);
  int running = 0;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++running;
      ++it;
    }
  }
  if (running >= limit_) return false;
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers_.push_back({std::thread([job = std::move(job), done] {
                        job();
                        done->store(true);
                      }),
                      done});
  return true;
}

void PendingOp::Begin() {
  absl::MutexLock lock(&mu_);
  pending_ = true;
}

void PendingOp::Complete(bool ok) {
  absl::MutexLock lock(&mu_);
  ok_ = ok;
  pending_ = false;
}

bool PendingOp::Wait(absl::Duration timeout, bool* timed_out) {
  absl::MutexLock lock(&mu_);
  *timed_out = !mu_.AwaitWithTimeout(absl::Condition(+[](bool* pending) { return !*pending; }, &pending_), timeout);
  return !*timed_out && ok_;
}

}  // namespace habilis::api
