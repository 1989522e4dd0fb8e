// Keeps the access index's snapshot recent (AccessIndex::SaveSnapshot): written once at start when the index
// was read from the store, again every interval when the index has moved on, and a last time when the
// schedule stops (a clean shutdown). A restart after a crash catches up from the last one written, through
// the store's kept commits; the interval bounds how many there are.
#ifndef HABILIS_SERVER_DOMAIN_ACCESS_SNAPSHOT_SCHEDULE_H_
#define HABILIS_SERVER_DOMAIN_ACCESS_SNAPSHOT_SCHEDULE_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/periodic.h"
#include "server/domain/access/access_index.h"

namespace habilis::domain {

class SnapshotSchedule {
 public:
  // `file` empty: does nothing. `saved` is the revision the file already holds (the index was restored from
  // it), or 0.
  SnapshotSchedule(const AccessIndex& index, std::string file, absl::Duration interval, store::Revision saved);
  // Writes the last snapshot (if the index moved on since the previous one).
  ~SnapshotSchedule();
  SnapshotSchedule(const SnapshotSchedule&) = delete;
  SnapshotSchedule& operator=(const SnapshotSchedule&) = delete;

 private:
  // Writes a snapshot if the index is past the one written; a failure is logged and tried at the next pass.
  void SaveIfBehind();

  const AccessIndex& index_;
  const std::string file_;
  absl::Mutex mu_;  // one save at a time: the periodic pass and the last one
  store::Revision saved_ ABSL_GUARDED_BY(mu_);
  PeriodicTask task_;  // last: it calls SaveIfBehind, so it stops first
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ACCESS_SNAPSHOT_SCHEDULE_H_
