// AUDIT and WATCH (the reading side): the trail that commands/audit_log.h writes, listed, watched as a
// change stream, and pruned by retention.
#ifndef HABILIS_SERVER_DOMAIN_AUDIT_AUDIT_TRAIL_H_
#define HABILIS_SERVER_DOMAIN_AUDIT_AUDIT_TRAIL_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "habilis/v1/audit.pb.h"
#include "store/store.h"

namespace habilis::domain {

class AuditTrail {
 public:
  explicit AuditTrail(store::Store& store) : store_(store) {}
  // Validates the request (scope names, time bounds, paging) and lists the entries, newest first.
  [[nodiscard]] absl::Status List(const v1::ListAuditEntriesRequest& request,
                                  v1::ListAuditEntriesResponse& response) const;

  // WATCH. The filter of a stream: a structure (SIRET) or an application id, exactly one.
  struct ChangeFilter {
    std::string siret;
    std::string application;
  };
  // Validates a WatchChangesRequest: its filter, and the revision it starts after (its token, or the
  // latest revision when it has none).
  [[nodiscard]] absl::StatusOr<std::pair<ChangeFilter, store::Revision>> ParseWatch(
      const v1::WatchChangesRequest& request) const;
  // Reads up to `limit` entries matching `filter` committed after revision `after` and at or before `up_to`,
  // in commit order, into `response`, whose consistency_token says how far the read went: the last entry's
  // revision if it stopped at `limit`, otherwise the revision of the state read or `up_to`, whichever is
  // lower (every match up to there is in `response`).
  [[nodiscard]] absl::StatusOr<store::Revision> ReadChanges(const ChangeFilter& filter, store::Revision after,
                                                            store::Revision up_to, int limit,
                                                            v1::WatchChangesResponse& response) const;
  // The revision every observer of this node (its key cache among them) has applied: what a caller's rights
  // were last judged on, and so how far a stream may read for him.
  store::Revision AppliedRevision() const { return store_.ObservedRevision(); }

  // Retention: removes the entries committed before `cutoff` (server time), oldest first, with their index
  // entries, in commits of at most `batch` entries. The trail's start moves first, so a reader never meets
  // half an entry, and a Watch from a token before it is refused (CONSISTENCY_TOKEN_EXPIRED). Returns how
  // many entries were removed.
  [[nodiscard]] absl::StatusOr<int64_t> Prune(absl::Time cutoff, int batch = 1000);

 private:
  store::Store& store_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_AUDIT_AUDIT_TRAIL_H_
