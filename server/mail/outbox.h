// The durable outbox (NOTIFY): an e-mail is written in the same transaction as the change it reports, so it
// exists exactly when the change does, and survives a crash until the delivery worker has sent it.
#ifndef HABILIS_SERVER_MAIL_OUTBOX_H_
#define HABILIS_SERVER_MAIL_OUTBOX_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/mail/templates.h"
#include "store/store.h"

namespace habilis::mail {

// Renders `kind` in `language` and queues it for `to` in `txn`.
[[nodiscard]] absl::Status Enqueue(store::Transaction& txn, absl::Time now, absl::string_view to, MailKind kind,
                                   absl::string_view language, const std::map<std::string, std::string>& params);

// What waits in the outbox: for the metrics (a relay that refuses mail shows as a growing age).
struct OutboxBacklog {
  size_t messages = 0;
  std::optional<absl::Time> oldest;  // when the oldest waiting message was queued; none if empty
};
[[nodiscard]] absl::StatusOr<OutboxBacklog> BacklogOf(store::Store& store);

}  // namespace habilis::mail

#endif  // HABILIS_SERVER_MAIL_OUTBOX_H_
