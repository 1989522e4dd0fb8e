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

bool PendingOp::WaitOrCancel(grpc::CallbackServerContext* context) {
  auto done = +[](bool* pending) { return !*pending; };
  {
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(done, &pending_), kStalledClientTimeout)) return ok_;
  }
  // The client stopped reading or sending: cancel (without the lock, which gRPC's completion takes), and wait
  // for gRPC to end the operation.
  context->TryCancel();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(done, &pending_));
  return false;
}

}  // namespace habilis::api
