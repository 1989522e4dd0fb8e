// The delivery worker: sends what the outbox holds, at least once, retrying with exponential backoff. Every
// node sharing a store runs one; a message is claimed in the store before it is sent, so two nodes never send
// it at the same time (a node that dies after its claim leaves the message to the others once the claim ends).
#ifndef HABILIS_SERVER_MAIL_DELIVERY_H_
#define HABILIS_SERVER_MAIL_DELIVERY_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "habilis/internal/records.pb.h"
#include "server/common/clock.h"
#include "server/mail/smtp.h"
#include "store/store.h"

namespace habilis::mail {

class DeliveryWorker {
 public:
  // Polls the outbox every `poll_interval`. Does nothing when config.url is empty.
  DeliveryWorker(store::Store& store, const habilis::Clock& clock, SmtpConfig config, absl::Duration poll_interval);
  // Stops after the message being sent, if any.
  ~DeliveryWorker();
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  // The delay before attempt `attempts` + 1: 1 s, 2 s, 4 s... up to one hour.
  static absl::Duration Backoff(int attempts);

 private:
  void Run();
  // Claims a due message for kClaim: true if this node now holds it (`record` then holds the stored record),
  // false if it was delivered or claimed by another node meanwhile.
  absl::StatusOr<bool> Claim(const std::string& key, internal::OutboxRecord& record);
  // Longer than a relay's answer can take (the SMTP client's timeouts are shorter).
  static constexpr absl::Duration kClaim = absl::Minutes(5);
  // Sends every message that is due; a message leaves the outbox only once the relay accepted it, so a
  // crash in between sends it again (same Message-ID) after the restart.
  void DeliverDue();

  store::Store& store_;
  const habilis::Clock& clock_;
  const SmtpConfig config_;
  const absl::Duration poll_interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace habilis::mail

#endif  // HABILIS_SERVER_MAIL_DELIVERY_H_
