// Habilitations with an end date (issue 14, item 11): a background sweep tells the holder and his
// structure's administrators a week before a habilitation ends, and records the expiry when it comes, as
// an audited update of the habilitation that Watch streams carry. CheckAccess does not wait for the sweep:
// the access index knows each end date and answers HABILITATION_EXPIRED from that instant.
#ifndef HABILIS_SERVER_DOMAIN_ENTITLEMENTS_HABILITATION_EXPIRY_H_
#define HABILIS_SERVER_DOMAIN_ENTITLEMENTS_HABILITATION_EXPIRY_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/leased_job.h"
#include "store/store.h"

namespace habilis::domain {

class HabilitationExpiry {
 public:
  // The actor of the sweep's entries in the audit trail.
  static constexpr absl::string_view kActor = "system";

  // Sweeps every `interval` when it is positive (a thread); zero: only when Sweep is called.
  HabilitationExpiry(store::Store& store, const Clock& clock, absl::Duration interval,
                     absl::Duration notice = absl::Hours(24 * 7));
  HabilitationExpiry(const HabilitationExpiry&) = delete;
  HabilitationExpiry& operator=(const HabilitationExpiry&) = delete;

  // One pass over the habilitations ending within the notice period: each one not yet announced is
  // announced (e-mails, expiry_notice_time), each one past its end gets expiry_recorded_time. One commit per
  // habilitation; returns how many changed.
  [[nodiscard]] absl::StatusOr<int> Sweep();

 private:
  store::Store& store_;
  const Clock& clock_;
  const absl::Duration notice_;
  LeasedJob job_;  // last: it stops before the members it uses go
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ENTITLEMENTS_HABILITATION_EXPIRY_H_
