#include "server/api/watch.h"

#include <utility>

#include "server/common/errors.h"

namespace habilis::api {

absl::StatusOr<std::unique_ptr<ChangeNotifier>> ChangeNotifier::Attach(store::Store& store) {
  std::unique_ptr<ChangeNotifier> notifier(new ChangeNotifier(store));
  ChangeNotifier* raw = notifier.get();
  absl::Status attached = store.Observe(*raw, [raw](store::Reader&, store::Revision revision) {
    absl::MutexLock lock(&raw->mu_);
    raw->latest_ = revision;
    return absl::OkStatus();
  });
  if (!attached.ok()) return attached;
  return notifier;
}

ChangeNotifier::~ChangeNotifier() { store_.StopObserving(*this); }

void ChangeNotifier::WaitPast(store::Revision seen, std::function<void()> wake) {
  {
    absl::MutexLock lock(&mu_);
    if (latest_ <= seen) {
      waiting_.push_back(std::move(wake));
      return;
    }
  }
  wake();
}

void ChangeNotifier::OnCommit(store::Revision revision, absl::Span<const store::Change>) {
  std::vector<std::function<void()>> woken;
  {
    absl::MutexLock lock(&mu_);
    latest_ = revision;
    woken.swap(waiting_);
  }
  for (auto& wake : woken) wake();
}

namespace {

constexpr int kEntriesPerMessage = 100;

// One stream. Its state lives in a shared Cursor, so that a wake-up arriving after the stream ended finds it
// ended instead of a deleted reactor.
class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchChangesResponse> {
 public:
  struct Cursor {
    absl::Mutex mu;
    WatchReactor* reactor ABSL_GUARDED_BY(mu);  // null once gRPC is done with the stream
    // A pump or a write is under way: the stream is not finished meanwhile (a cancellation waits for it), so
    // the reactor stays alive while it is used without the lock.
    bool busy ABSL_GUARDED_BY(mu) = false;
    bool finished ABSL_GUARDED_BY(mu) = false;
    bool cancelled ABSL_GUARDED_BY(mu) = false;
    store::Revision after ABSL_GUARDED_BY(mu);
  };

  WatchReactor(const domain::AuditTrail& trail, ChangeNotifier& notifier, Executor& executor,
               domain::AuditTrail::ChangeFilter filter, store::Revision after, StillAllowed still_allowed,
               StreamCall call)
      : call_(std::move(call)),
        trail_(trail),
        notifier_(notifier),
        executor_(executor),
        filter_(std::move(filter)),
        still_allowed_(std::move(still_allowed)),
        cursor_(std::make_shared<Cursor>()) {
    absl::MutexLock lock(&cursor_->mu);
    cursor_->reactor = this;
    cursor_->after = after;
  }

  // Reads and sends the next batch, or waits for the next commit. Runs on the executor.
  static void Pump(const std::shared_ptr<Cursor>& cursor) {
    WatchReactor* self;
    store::Revision after;
    {
      absl::MutexLock lock(&cursor->mu);
      if (cursor->reactor == nullptr || cursor->finished || cursor->busy) return;
      cursor->busy = true;
      self = cursor->reactor;
      after = cursor->after;
    }
    self->response_.Clear();
    // Asked before the read, and the read goes no further than what this node had applied when it was asked:
    // a right taken away by revision R ends the stream before anything at or past R is read for it, also
    // when R was committed on another node and the store already holds it but this node's caches do not.
    const store::Revision judged_at = self->trail_.AppliedRevision();
    absl::Status allowed = self->still_allowed_();
    absl::StatusOr<store::Revision> reached =
        allowed.ok() ? self->trail_.ReadChanges(self->filter_, after, judged_at, kEntriesPerMessage, self->response_)
                     : allowed;
    absl::ReleasableMutexLock lock(&cursor->mu);
    if (cursor->cancelled || !reached.ok()) {
      cursor->busy = false;
      cursor->finished = true;
      self->End(cursor->cancelled ? grpc::Status::CANCELLED : ToGrpcStatus(reached.status()));
      return;
    }
    cursor->after = *reached;
    if (self->response_.audit_entries_size() > 0) {
      self->StartWrite(&self->response_);  // still busy until OnWriteDone
      return;
    }
    cursor->busy = false;
    // Caught up: wait for the next commit. WaitPast may wake at once, on this thread, and the wake-up takes
    // the cursor's lock: register after releasing it (Sleep touches the cursor and the notifier, not the
    // reactor, which a cancellation may end meanwhile).
    ChangeNotifier* notifier = &self->notifier_;
    lock.Release();
    Sleep(cursor, *notifier, *reached);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&cursor_->mu);
    cursor_->busy = false;
    if (!ok || cursor_->cancelled) {
      if (!cursor_->finished) {
        cursor_->finished = true;
        End(grpc::Status::CANCELLED);
      }
      return;
    }
    Schedule(cursor_);
  }

  void OnCancel() override {
    absl::MutexLock lock(&cursor_->mu);
    cursor_->cancelled = true;
    if (!cursor_->busy && !cursor_->finished) {
      cursor_->finished = true;
      End(grpc::Status::CANCELLED);
    }
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&cursor_->mu);
      cursor_->reactor = nullptr;
    }
    call_.Logged(status_);
    delete this;
  }

  void Start() {
    absl::MutexLock lock(&cursor_->mu);
    Schedule(cursor_);
  }

 private:
  // Finishes the stream, keeping its status for the log line written when gRPC is done with it.
  void End(grpc::Status status) {
    status_ = status;
    Finish(std::move(status));
  }

  // Runs Pump on the executor. If the executor is full, ends the stream: the client resumes from its last
  // token. Called with the cursor's lock held.
  static void Schedule(const std::shared_ptr<Cursor>& cursor) ABSL_EXCLUSIVE_LOCKS_REQUIRED(cursor->mu) {
    if (cursor->reactor == nullptr || cursor->finished) return;
    if (!cursor->reactor->executor_.TrySubmit([cursor] { Pump(cursor); })) {
      cursor->finished = true;
      cursor->reactor->End(
          ToGrpcStatus(Error(absl::StatusCode::kResourceExhausted, "SERVER_BUSY",
                             "the server has too many calls waiting; resume with your last consistency token")));
    }
  }

  // Waits for a commit past `seen`, then pumps again.
  static void Sleep(const std::shared_ptr<Cursor>& cursor, ChangeNotifier& notifier, store::Revision seen) {
    std::weak_ptr<Cursor> weak = cursor;
    notifier.WaitPast(seen, [weak] {
      if (std::shared_ptr<Cursor> cursor = weak.lock()) {
        absl::MutexLock lock(&cursor->mu);
        Schedule(cursor);
      }
    });
  }

  const StreamCall call_;
  grpc::Status status_ = grpc::Status::CANCELLED;  // until End says otherwise (a stream gRPC cut)
  const domain::AuditTrail& trail_;
  ChangeNotifier& notifier_;
  Executor& executor_;
  const domain::AuditTrail::ChangeFilter filter_;
  const StillAllowed still_allowed_;
  std::shared_ptr<Cursor> cursor_;
  v1::WatchChangesResponse response_;
};

}  // namespace

grpc::ServerWriteReactor<v1::WatchChangesResponse>* StartWatch(const domain::AuditTrail& trail,
                                                               ChangeNotifier& notifier, Executor& executor,
                                                               domain::AuditTrail::ChangeFilter filter,
                                                               store::Revision after, StillAllowed still_allowed,
                                                               StreamCall call) {
  auto* reactor =
      new WatchReactor(trail, notifier, executor, std::move(filter), after, std::move(still_allowed), std::move(call));
  reactor->Start();
  return reactor;
}

}  // namespace habilis::api
