#include "server/domain/audit/audit_retention.h"

#include <iostream>

#include "server/common/clock.h"

namespace habilis::domain {

AuditRetention::AuditRetention(store::Store& store, AuditTrail& trail, const Clock& clock, absl::Duration retention,
                               absl::Duration interval)
    : trail_(trail),
      clock_(clock),
      retention_(retention),
      job_(store, clock, "audit_retention", retention > absl::ZeroDuration() ? interval : absl::ZeroDuration(),
           [this] { return Prune(); }) {}

absl::Status AuditRetention::Prune() {
  absl::StatusOr<int64_t> removed = trail_.Prune(clock_.Now() - retention_);
  if (removed.ok() && *removed > 0) {
    std::cerr << "habilisd: pruned " << *removed << " audit entries older than the retention" << std::endl;
  }
  return removed.status();
}

}  // namespace habilis::domain
