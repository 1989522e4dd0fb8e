#include "server/domain/access/snapshot_schedule.h"

#include <filesystem>
#include <iostream>

#include "absl/time/clock.h"

namespace habilis::domain {

SnapshotSchedule::SnapshotSchedule(const AccessIndex& index, std::string file, absl::Duration interval,
                                   store::Revision saved)
    : index_(index),
      file_(std::move(file)),
      saved_(saved),
      task_(file_.empty() ? absl::ZeroDuration() : interval, [this] { SaveIfBehind(); }) {}

SnapshotSchedule::~SnapshotSchedule() {
  task_.Stop();
  if (!file_.empty()) SaveIfBehind();
}

void SnapshotSchedule::SaveIfBehind() {
  absl::MutexLock lock(&mu_);
  if (index_.revision() == saved_) return;
  const absl::Time start = absl::Now();
  // A node on a shared store may have no local directory yet: the store did not create one.
  std::error_code ignored;  // a failure shows as the write's
  std::filesystem::create_directories(std::filesystem::path(file_).parent_path(), ignored);
  absl::StatusOr<store::Revision> saved = index_.SaveSnapshot(file_);
  if (!saved.ok()) {
    std::cerr << "habilisd: the access index snapshot was not written: " << saved.status().message() << std::endl;
    return;
  }
  saved_ = *saved;
  std::cerr << "habilisd: access index snapshot of revision " << saved_ << " written to " << file_ << " in "
            << absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(1))) << std::endl;
}

}  // namespace habilis::domain
