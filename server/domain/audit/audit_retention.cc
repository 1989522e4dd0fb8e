#include "server/domain/audit/audit_retention.h"

#include <iostream>

#include "server/common/clock.h"

namespace habilis::domain {

AuditRetention::AuditRetention(AuditTrail& trail, const Clock& clock, absl::Duration retention, absl::Duration interval)
    : trail_(trail), clock_(clock), retention_(retention), interval_(interval) {
  if (retention_ > absl::ZeroDuration()) thread_ = std::thread([this] { Run(); });
}

AuditRetention::~AuditRetention() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void AuditRetention::Run() {
  while (true) {
    absl::StatusOr<int64_t> removed = trail_.Prune(clock_.Now() - retention_);
    if (!removed.ok()) {
      std::cerr << "habilisd: pruning the audit trail failed (it is tried again later): " << removed.status()
                << std::endl;
    } else if (*removed > 0) {
      std::cerr << "habilisd: pruned " << *removed << " audit entries older than the retention" << std::endl;
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
  }
}

}  // namespace habilis::domain
