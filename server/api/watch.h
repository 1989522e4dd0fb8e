// WATCH: the server side of AuditService.WatchChanges.
//
// A stream reads the audit trail after its cursor, sends what matches, and when it has caught up waits for
// the next commit: a ChangeNotifier, attached to the store's commit feed, wakes it. Reads and writes run on
// the executor, never on the store's commit path; a stream never holds a thread while it waits.
#ifndef HABILIS_SERVER_API_WATCH_H_
#define HABILIS_SERVER_API_WATCH_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "habilis/v1/audit.pb.h"
#include "server/api/executor.h"
#include "server/api/stream_call.h"
#include "server/domain/audit/audit_trail.h"
#include "store/store.h"

namespace habilis::api {

// Calls back, once, whoever waits for a revision past the one he has seen.
class ChangeNotifier final : public store::CommitObserver {
 public:
  // Attaches to `store`'s commit feed; detaches when destroyed.
  static absl::StatusOr<std::unique_ptr<ChangeNotifier>> Attach(store::Store& store);
  ~ChangeNotifier() override;

  // Calls `wake` once a commit past `seen` exists: at once if one does, else from the commit that makes it
  // (under the store's commit lock: `wake` must only hand work to another thread).
  void WaitPast(store::Revision seen, std::function<void()> wake);

  void OnCommit(store::Revision revision, absl::Span<const store::Change> changes) override;

 private:
  explicit ChangeNotifier(store::Store& store) : store_(store) {}
  store::Store& store_;
  absl::Mutex mu_;
  store::Revision latest_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::function<void()>> waiting_ ABSL_GUARDED_BY(mu_);
};

// Whether the stream's caller may still watch: the gate's decision taken again, on the credential, session,
// account state and role of now. A stream lives for hours; what admitted it at the start proves nothing later.
using StillAllowed = std::function<absl::Status()>;

// Starts serving one WatchChanges stream; the reactor owns itself until gRPC is done with it. Before each
// read of the trail (so before each delivery) `still_allowed` is asked again; when it refuses, the stream ends
// with its status (UNAUTHENTICATED or PERMISSION_DENIED, with the reason). Every commit wakes a waiting
// stream, so the commit that takes the right away ends the stream without delivering anything after it.
// `call` writes the stream's log line when it ends.
grpc::ServerWriteReactor<v1::WatchChangesResponse>* StartWatch(const domain::AuditTrail& trail,
                                                               ChangeNotifier& notifier, Executor& executor,
                                                               domain::AuditTrail::ChangeFilter filter,
                                                               store::Revision after, StillAllowed still_allowed,
                                                               StreamCall call);

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_WATCH_H_
