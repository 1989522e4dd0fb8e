// Long streaming calls (CSV export and import) served by a thread of their own.
//
// Such a call reads a snapshot for seconds or checks a whole file before writing: it must not hold one of
// the executor's threads, which serve the short calls. It runs on a dedicated thread that reads and writes
// its stream with blocking calls, as a synchronous handler would, through the reactors below; gRPC's own
// threads never wait. At most `limit` such calls run at once; more are refused with RESOURCE_EXHAUSTED.
#ifndef HABILIS_SERVER_API_BULK_CALLS_H_
#define HABILIS_SERVER_API_BULK_CALLS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace habilis::api {

class BulkWorkers {
 public:
  explicit BulkWorkers(int limit) : limit_(limit) {}
  // Waits for every running job (the server has cancelled their calls by then).
  ~BulkWorkers();
  // Runs `job` on a new thread, or returns false if `limit` jobs are running.
  bool TryRun(std::function<void()> job);

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  const int limit_;
  absl::Mutex mu_;
  std::vector<Worker> workers_ ABSL_GUARDED_BY(mu_);
};

// How long a blocked write may wait for a client that does not read before the call is cancelled.
inline constexpr absl::Duration kStalledClientTimeout = absl::Minutes(5);

// One outstanding operation (read or write) and its outcome, waited for by the worker.
class PendingOp {
 public:
  void Begin();
  void Complete(bool ok);
  // The operation's outcome. If it is still pending after kStalledClientTimeout, cancels the call, waits for
  // gRPC to end the operation, and returns false.
  bool WaitOrCancel(grpc::CallbackServerContext* context);

 private:
  absl::Mutex mu_;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool ok_ ABSL_GUARDED_BY(mu_) = false;
};

// Sends `message` on `reactor` (kept in `slot` until sent) and waits for the write to end; false once the
// client has gone. For the reactors below, whose worker runs one operation at a time.
template <typename Reactor, typename Response>
bool WriteAndWait(Reactor& reactor, grpc::CallbackServerContext* context, PendingOp& op, Response& slot,
                  const Response& message) {
  slot = message;
  op.Begin();
  reactor.StartWrite(&slot);
  return op.WaitOrCancel(context);
}

// A server stream written by a worker. The worker calls Write any number of times, then Finish once, and
// must not touch the reactor afterwards (gRPC deletes it).
template <typename Response>
class BlockingWriter final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit BlockingWriter(grpc::CallbackServerContext* context) : context_(context) {}

  // Sends `message`; false once the client has gone (then stop and Finish).
  bool Write(const Response& message) { return WriteAndWait(*this, context_, op_, message_, message); }
  void OnWriteDone(bool ok) override { op_.Complete(ok); }
  void OnDone() override { delete this; }

 private:
  grpc::CallbackServerContext* context_;
  Response message_;
  PendingOp op_;
};

// A bidirectional stream read and written by a worker, one operation at a time.
template <typename Request, typename Response>
class BlockingBidi final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit BlockingBidi(grpc::CallbackServerContext* context) : context_(context) {}

  // The next message, or false at the end of the client's stream (or if it has gone).
  bool Read(Request& message) {
    op_.Begin();
    this->StartRead(&message);
    return op_.WaitOrCancel(context_);
  }
  bool Write(const Response& message) { return WriteAndWait(*this, context_, op_, message_, message); }
  void OnReadDone(bool ok) override { op_.Complete(ok); }
  void OnWriteDone(bool ok) override { op_.Complete(ok); }
  void OnDone() override { delete this; }

 private:
  grpc::CallbackServerContext* context_;
  Response message_;
  PendingOp op_;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_BULK_CALLS_H_
