// AIP-155 request ids are remembered for a retention period (24 hours by default): a retry within it gets the
// first answer; after it, the record is deleted and the id may run again. A background pass, on one node at a
// time (a job lease), deletes the records older than the retention, oldest first, through the by-time index
// (store/keyspace.h IdempotencyByTimeKey): its work follows what expires, not what is kept.
#ifndef HABILIS_SERVER_DOMAIN_COMMANDS_REQUEST_ID_EXPIRY_H_
#define HABILIS_SERVER_DOMAIN_COMMANDS_REQUEST_ID_EXPIRY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/leased_job.h"
#include "store/store.h"

namespace habilis::domain {

class RequestIdExpiry {
 public:
  // Passes every `interval` when it is positive (a thread); zero: only when Expire is called.
  RequestIdExpiry(store::Store& store, const Clock& clock, absl::Duration retention, absl::Duration interval);
  RequestIdExpiry(const RequestIdExpiry&) = delete;
  RequestIdExpiry& operator=(const RequestIdExpiry&) = delete;

  // Deletes every record recorded more than the retention before now, in commits of a bounded size;
  // returns how many.
  [[nodiscard]] absl::StatusOr<int64_t> Expire();

 private:
  store::Store& store_;
  const Clock& clock_;
  const absl::Duration retention_;
  LeasedJob job_;  // last: it stops before the members it uses go
};

// Format 2 -> 3 (habilis-migrate): every record without a time is dated `now` and gets its by-time key, so
// that it expires a retention period after the migration. Idempotent.
[[nodiscard]] absl::Status DateIdempotencyRecords(store::Store& store, absl::Time now);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_COMMANDS_REQUEST_ID_EXPIRY_H_
