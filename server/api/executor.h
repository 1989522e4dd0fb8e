// A fixed pool of threads for handler work that blocks (store commits wait for fsync), so that gRPC's
// completion threads never do.
#ifndef HABILIS_SERVER_API_EXECUTOR_H_
#define HABILIS_SERVER_API_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace habilis::api {

class Executor {
 public:
  // `max_queued`: tasks waiting for a thread beyond which TrySubmit refuses, so that an overload is answered
  // at once instead of growing memory and latency without bound.
  Executor(int threads, size_t max_queued);
  // Runs every task already submitted, then joins the threads.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`; false (and `task` dropped) when max_queued tasks already wait.
  [[nodiscard]] bool TrySubmit(std::function<void()> task);

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  const size_t max_queued_;
  std::vector<std::thread> threads_;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_EXECUTOR_H_
