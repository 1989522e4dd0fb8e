// The delivery worker: sends what the outbox holds, at least once, retrying with exponential backoff.
#ifndef HABILIS_SERVER_MAIL_DELIVERY_H_
#define HABILIS_SERVER_MAIL_DELIVERY_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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
