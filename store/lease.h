// Periodic jobs (audit retention, habilitation expiry, idempotency-record expiry) run on one process at a
// time among those sharing a store: whoever holds the job's lease, kept in the store, runs a pass; the others
// skip theirs until it lapses (a holder that died). The holder renews it at each pass.
#ifndef HABILIS_STORE_LEASE_H_
#define HABILIS_STORE_LEASE_H_

#include <algorithm>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/store.h"

namespace habilis::store {

class JobLease {
 public:
  // `term`: how long a pass's lease lasts; longer than the interval between passes, so that the holder keeps
  // it from one pass to the next.
  JobLease(Store& store, std::string job, absl::Duration term);

  // True if this process holds the job's lease from `now` until `now + term` (it held it, nobody did, or the
  // holder's lapsed); false if another process holds it.
  [[nodiscard]] absl::StatusOr<bool> Hold(absl::Time now);
  // Gives the lease up if this process holds it, so that another (a restarted node) takes it at once instead
  // of when it lapses. For an orderly shutdown, once no pass runs any more.
  [[nodiscard]] absl::Status Release();

  const std::string& holder() const { return holder_; }

  // The term for a job run every `interval`: two intervals (the holder renews at each pass), at least 30 s.
  static absl::Duration TermFor(absl::Duration interval) { return std::max(2 * interval, absl::Seconds(30)); }

 private:
  Store& store_;
  const std::string key_;
  const absl::Duration term_;
  const std::string holder_;  // random, one per JobLease (per process and job)
};

}  // namespace habilis::store

#endif  // HABILIS_STORE_LEASE_H_
