#include "store/change_feed.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace habilis::store {

absl::Status ChangeFeed::Observe(CommitObserver& observer, absl::FunctionRef<absl::Status(Reader&, Revision)> load) {
  // Holding the feed: no delivery happens between the snapshot and the attachment, and the observer then gets
  // exactly the commits after its snapshot's revision.
  absl::MutexLock lock(&mu_);
  Revision loaded_at = 0;
  absl::StatusOr<Revision> read = store_.Read(
      [&](Reader& reader) -> absl::Status {
        absl::StatusOr<Revision> revision = reader.SnapshotRevision();
        if (!revision.ok()) return revision.status();
        loaded_at = *revision;
        return load(reader, loaded_at);
      },
      ReadOptions{.bulk = true});
  if (!read.ok()) return read.status();
  observers_.push_back(Attached{&observer, loaded_at});
  return absl::OkStatus();
}

absl::Status ChangeFeed::Resume(CommitObserver& observer, Revision held) {
  // Holding the feed: no delivery happens while the observer catches up to what the feed has applied.
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Revision> latest = store_.LatestRevision();
  if (!latest.ok()) return latest.status();
  if (held > std::max(*latest, applied_)) {
    return absl::FailedPreconditionError(
        absl::StrCat("revision ", held, " is ahead of the store's latest commit (", *latest, ")"));
  }
  // The observer can only be handed commits in order: a feed that skips any of them fails the catch-up.
  Revision reached = held;
  absl::StatusOr<Revision> read = store_.ReadChanges(held, [&](Revision revision, absl::Span<const Change> changes) {
    if (revision > applied_) return false;  // not yet delivered to the others: the feed gives it to all at once
    observer.OnCommit(revision, changes);
    reached = revision;
    return true;
  });
  if (!read.ok()) return read.status();
  if (reached < applied_) {
    return absl::OutOfRangeError(absl::StrCat("the feed stopped at revision ", reached, " before ", applied_));
  }
  observers_.push_back(Attached{&observer, std::max(held, applied_)});
  return absl::OkStatus();
}

void ChangeFeed::StopObserving(CommitObserver& observer) {
  absl::MutexLock lock(&mu_);
  observers_.erase(std::remove_if(observers_.begin(), observers_.end(),
                                  [&](const Attached& attached) { return attached.observer == &observer; }),
                   observers_.end());
}

void ChangeFeed::StopObservingAll() {
  absl::MutexLock lock(&mu_);
  observers_.clear();
}

void ChangeFeed::Deliver(Revision revision, absl::Span<const Change> changes) {
  for (const Attached& attached : observers_) {
    if (revision > attached.loaded_at) attached.observer->OnCommit(revision, changes);
  }
  applied_ = revision;
  applied_published_.store(revision, std::memory_order_release);
}

void ChangeFeed::Publish(Revision revision, absl::Span<const Change> changes) {
  absl::MutexLock lock(&mu_);
  if (revision <= applied_) return;
  Deliver(revision, changes);
}

absl::Status ChangeFeed::CatchUp(Revision at_least) {
  if (applied() >= at_least) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  while (applied_ < at_least) {
    const Revision before = applied_;
    absl::StatusOr<Revision> reached =
        store_.ReadChanges(applied_, [&](Revision revision, absl::Span<const Change> changes) {
          Deliver(revision, changes);
          return true;
        });
    if (!reached.ok()) return reached.status();
    if (applied_ == before) break;  // nothing more committed yet
  }
  return absl::OkStatus();
}

absl::Status ChangeFeed::WaitObserved(Revision revision, absl::Time deadline) {
  absl::Duration pause = absl::Microseconds(200);
  while (true) {
    absl::Status caught_up = CatchUp(revision);
    if (!caught_up.ok()) return caught_up;
    if (applied() >= revision) return absl::OkStatus();
    absl::StatusOr<Revision> latest = store_.LatestRevision();
    if (!latest.ok()) return latest.status();
    // A commit the store has not reached: no process was ever given this revision.
    if (revision > *latest) {
      return absl::InvalidArgumentError(
          absl::StrCat("revision ", revision, " is ahead of the store's latest commit (", *latest, ")"));
    }
    // Committed but not visible to this reader yet (a replica's lag, a commit finishing): wait a little.
    if (absl::Now() + pause > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("this node has applied revision ", applied(), ", not yet ", revision));
    }
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

}  // namespace habilis::store
