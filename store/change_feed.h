// Delivers a store's commits to its observers in revision order, each once: the part of Store's observing
// contract (Observe, StopObserving, WaitObserved) that is the same for every backend. A backend owns one and
// feeds it either way:
// - Publish: the backend is the only writer and hands over each of its commits in order (RocksDB does it
//   under its commit lock);
// - CatchUp: other processes commit too; the feed reads the store's change feed (Store::ReadChanges) from
//   what it applied, on every local commit, on WaitObserved, and from a poller (PostgreSQL).
#ifndef HABILIS_STORE_CHANGE_FEED_H_
#define HABILIS_STORE_CHANGE_FEED_H_

#include <atomic>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/store.h"

namespace habilis::store {

class ChangeFeed {
 public:
  // `applied`: the revision the store holds when the feed starts (nothing before it is delivered).
  ChangeFeed(Store& store, Revision applied) : store_(store), applied_(applied), applied_published_(applied) {}
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Store::Observe and Store::StopObserving.
  [[nodiscard]] absl::Status Observe(CommitObserver& observer, absl::FunctionRef<absl::Status(Reader&, Revision)> load);
  void StopObserving(CommitObserver& observer);
  // Store::Resume.
  [[nodiscard]] absl::Status Resume(CommitObserver& observer, Revision held);
  // Detaches every observer: for a backend's destructor, before it commits anything of its own.
  void StopObservingAll();

  // Delivers a commit of the only writer; calls come in revision order. A revision already applied is ignored.
  void Publish(Revision revision, absl::Span<const Change> changes);
  // Reads and delivers every commit after the one applied, until the feed has applied `at_least` or holds
  // nothing more. UNAVAILABLE (or the feed's error) when the store cannot be read.
  [[nodiscard]] absl::Status CatchUp(Revision at_least);

  // Store::WaitObserved: catches up, then polls until `revision` is applied or `deadline` passes.
  [[nodiscard]] absl::Status WaitObserved(Revision revision, absl::Time deadline);
  // The latest revision every observer has applied.
  Revision applied() const { return applied_published_.load(std::memory_order_acquire); }

 private:
  struct Attached {
    CommitObserver* observer;
    Revision loaded_at;  // the observer's load held every commit up to here
  };
  void Deliver(Revision revision, absl::Span<const Change> changes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store& store_;
  absl::Mutex mu_;  // one delivery at a time, in order
  Revision applied_ ABSL_GUARDED_BY(mu_);
  std::vector<Attached> observers_ ABSL_GUARDED_BY(mu_);
  std::atomic<Revision> applied_published_;
};

}  // namespace habilis::store

#endif  // HABILIS_STORE_CHANGE_FEED_H_
