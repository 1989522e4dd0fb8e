#include "server/common/leased_job.h"

#include <iostream>
#include <utility>

namespace habilis {

LeasedJob::LeasedJob(store::Store& store, const Clock& clock, std::string job, absl::Duration interval,
                     std::function<absl::Status()> pass)
    : clock_(clock),
      job_(std::move(job)),
      pass_(std::move(pass)),
      lease_(store, job_, store::JobLease::TermFor(interval)),
      task_(interval, [this] { Pass(); }) {}

LeasedJob::~LeasedJob() {
  task_.Stop();
  (void)lease_.Release();  // if the store is unreachable, the lease lapses by itself
}

void LeasedJob::Pass() {
  absl::StatusOr<bool> held = lease_.Hold(clock_.Now());
  if (!held.ok()) std::cerr << "habilisd: the lease of the job " << job_ << ": " << held.status() << std::endl;
  if (!held.ok() || !*held) return;  // another node runs it
  if (absl::Status done = pass_(); !done.ok()) {
    std::cerr << "habilisd: the job " << job_ << " failed (it is tried again at its next pass): " << done << std::endl;
  }
}

}  // namespace habilis
