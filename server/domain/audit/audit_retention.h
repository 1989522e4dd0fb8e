// AUDIT retention: the trail's entries older than the configured retention are pruned in the background,
// once at start and then every hour. Without a retention the trail is kept forever and nothing runs.
#ifndef HABILIS_SERVER_DOMAIN_AUDIT_AUDIT_RETENTION_H_
#define HABILIS_SERVER_DOMAIN_AUDIT_AUDIT_RETENTION_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/leased_job.h"
#include "server/domain/audit/audit_trail.h"

namespace habilis::domain {

class AuditRetention {
 public:
  // `retention` zero: keep everything (no thread). Otherwise entries committed more than `retention` ago
  // are pruned every `interval`.
  AuditRetention(store::Store& store, AuditTrail& trail, const Clock& clock, absl::Duration retention,
                 absl::Duration interval = absl::Hours(1));
  AuditRetention(const AuditRetention&) = delete;
  AuditRetention& operator=(const AuditRetention&) = delete;

 private:
  absl::Status Prune();

  AuditTrail& trail_;
  const Clock& clock_;
  const absl::Duration retention_;
  LeasedJob job_;  // last: it stops before the members it uses go
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_AUDIT_AUDIT_RETENTION_H_
