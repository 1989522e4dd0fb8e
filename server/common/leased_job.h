// A periodic job of habilisd (audit retention, habilitation expiry, request-id expiry) that runs on one
// process at a time among those sharing a store: each pass first takes the job's lease (store/lease.h); a
// process that does not hold it skips the pass. A failed pass is logged and tried again at the next one.
#ifndef HABILIS_SERVER_COMMON_LEASED_JOB_H_
#define HABILIS_SERVER_COMMON_LEASED_JOB_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/periodic.h"
#include "store/lease.h"
#include "store/store.h"

namespace habilis {

class LeasedJob {
 public:
  // Runs `pass` every `interval` on a thread when `interval` is positive; otherwise never. `job` names the
  // lease in the store and the job in the log.
  LeasedJob(store::Store& store, const Clock& clock, std::string job, absl::Duration interval,
            std::function<absl::Status()> pass);
  // Stops the passes, then gives the lease up (a restarted node runs the job at once).
  ~LeasedJob();
  LeasedJob(const LeasedJob&) = delete;
  LeasedJob& operator=(const LeasedJob&) = delete;

 private:
  void Pass();

  const Clock& clock_;
  const std::string job_;
  const std::function<absl::Status()> pass_;
  store::JobLease lease_;
  PeriodicTask task_;  // last: it stops before the members it uses go
};

}  // namespace habilis

#endif  // HABILIS_SERVER_COMMON_LEASED_JOB_H_
