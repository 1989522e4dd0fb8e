#include "server/mail/delivery.h"

#include <iostream>
#include <vector>

#include "habilis/internal/records.pb.h"
#include "server/common/clock.h"
#include "server/mail/sealing.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::mail {
namespace {

constexpr int kBatch = 50;

}  // namespace

DeliveryWorker::DeliveryWorker(store::Store& store, const habilis::Clock& clock, SmtpConfig config,
                               absl::Duration poll_interval)
    : store_(store), clock_(clock), config_(std::move(config)), poll_interval_(poll_interval) {
  if (!config_.url.empty()) thread_ = std::thread([this] { Run(); });
}

DeliveryWorker::~DeliveryWorker() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<bool> DeliveryWorker::Claim(const std::string& key, internal::OutboxRecord& record) {
  bool claimed = false;
  absl::Status written = store_
                             .Update([&](store::Transaction& txn) -> absl::Status {
                               claimed = false;
                               absl::StatusOr<std::string> value = txn.Get(key);
                               if (absl::IsNotFound(value.status())) return absl::OkStatus();  // delivered
                               if (!value.ok()) return value.status();
                               if (!record.ParseFromString(*value)) {
                                 return absl::DataLossError("an outbox record does not decode");
                               }
                               const absl::Time now = clock_.Now();
                               if (habilis::FromTimestamp(record.next_attempt_time()) > now) {
                                 return absl::OkStatus();  // another node claimed it meanwhile
                               }
                               habilis::SetTimestamp(now + kClaim, record.mutable_next_attempt_time());
                               claimed = true;
                               return txn.Put(key, record.SerializeAsString());
                             })
                             .status();
  if (!written.ok()) return written;
  return claimed;
}

absl::Duration DeliveryWorker::Backoff(int attempts) {
  return std::min(absl::Seconds(1) * (int64_t{1} << std::min(attempts - 1, 12)), absl::Hours(1));
}

void DeliveryWorker::Run() {
  while (true) {
    DeliverDue();
    absl::MutexLock lock(&mu_);
    // Wakes early only to stop.
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), poll_interval_);
    if (stopping_) return;
  }
}

void DeliveryWorker::DeliverDue() {
  std::vector<std::pair<std::string, internal::OutboxRecord>> due;
  absl::Time now = clock_.Now();
  absl::Status read = store_
                          .Read([&](store::Reader& reader) {
                            return store::ScanPrefix(reader, store::OutboxPrefix(),
                                                     [&](absl::string_view key, absl::string_view value) {
                                                       internal::OutboxRecord record;
                                                       if (record.ParseFromString(std::string(value)) &&
                                                           habilis::FromTimestamp(record.next_attempt_time()) <= now) {
                                                         due.emplace_back(std::string(key), std::move(record));
                                                       }
                                                       return due.size() < kBatch;
                                                     });
                          })
                          .status();
  if (!read.ok()) std::cerr << "habilisd: outbox scan failed: " << read << std::endl;

  for (auto& entry : due) {
    // Named references, not structured bindings: clang 14 cannot capture those in the lambda below.
    const std::string& key = entry.first;
    internal::OutboxRecord& record = entry.second;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::StatusOr<bool> claimed = Claim(key, record);
    if (!claimed.ok()) std::cerr << "habilisd: outbox claim failed: " << claimed.status() << std::endl;
    if (!claimed.ok() || !*claimed) continue;
    // Opened only here, in memory, for the relay.
    absl::StatusOr<std::string> body = OpenBody(record);
    internal::OutboxRecord clear = record;
    clear.clear_sealed_body();
    if (body.ok()) clear.set_body(*body);
    absl::Status sent = body.ok() ? SendSmtp(config_, clear) : body.status();
    absl::Status written =
        store_
            .Update([&](store::Transaction& txn) -> absl::Status {
              if (sent.ok()) return txn.Delete(key);
              record.set_attempts(record.attempts() + 1);
              record.set_last_error(std::string(sent.message()));
              habilis::SetTimestamp(clock_.Now() + Backoff(record.attempts()), record.mutable_next_attempt_time());
              return txn.Put(key, record.SerializeAsString());
            })
            .status();
    if (!sent.ok()) {
      std::cerr << "habilisd: e-mail " << record.message_id() << " not delivered (attempt " << record.attempts()
                << "): " << sent.message() << std::endl;
    }
    if (!written.ok()) std::cerr << "habilisd: outbox update failed: " << written << std::endl;
  }
}

}  // namespace habilis::mail
