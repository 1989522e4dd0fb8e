#include "server/domain/audit/audit_retention.h"

#include <iostream>

#include "server/common/clock.h"

namespace habilis::domain {

AuditRetention::AuditRetention(store::Store& store, AuditTrail& trail, const Clock& clock, absl::Duration retention,
                               absl::Duration interval)
    : trail_(trail),
      clock_(clock),
      retention_(retention),
      lease_(store, "audit_retention", store::JobLease::TermFor(interval)),
      task_(retention > absl::ZeroDuration() ? interval : absl::ZeroDuration(), [this] { Pass(); }) {}

AuditRetention::~AuditRetention() {
  task_.Stop();
  (void)lease_.Release();  // if the store is unreachable, the lease lapses by itself
}

void AuditRetention::Pass() {
  absl::StatusOr<bool> held = lease_.Hold(clock_.Now());
  if (!held.ok()) std::cerr << "habilisd: the audit retention lease: " << held.status() << std::endl;
  if (!held.ok() || !*held) return;  // another node prunes
  absl::StatusOr<int64_t> removed = trail_.Prune(clock_.Now() - retention_);
  if (!removed.ok()) {
    std::cerr << "habilisd: pruning the audit trail failed (it is tried again later): " << removed.status()
              << std::endl;
  } else if (*removed > 0) {
    std::cerr << "habilisd: pruned " << *removed << " audit entries older than the retention" << std::endl;
  }
}

}  // namespace habilis::domain
