// AUDIT retention: the trail's entries older than the configured retention are pruned in the background,
// once at start and then every hour. Without a retention the trail is kept forever and nothing runs.
#ifndef HABILIS_SERVER_DOMAIN_AUDIT_AUDIT_RETENTION_H_
#define HABILIS_SERVER_DOMAIN_AUDIT_AUDIT_RETENTION_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/domain/audit/audit_trail.h"

namespace habilis::domain {

class AuditRetention {
 public:
  // `retention` zero: keep everything (no thread). Otherwise entries committed more than `retention` ago
  // are pruned every `interval`.
  AuditRetention(AuditTrail& trail, const Clock& clock, absl::Duration retention,
                 absl::Duration interval = absl::Hours(1));
  // Stops after the pass under way, if any.
  ~AuditRetention();
  AuditRetention(const AuditRetention&) = delete;
  AuditRetention& operator=(const AuditRetention&) = delete;

 private:
  void Run();

  AuditTrail& trail_;
  const Clock& clock_;
  const absl::Duration retention_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_AUDIT_AUDIT_RETENTION_H_
