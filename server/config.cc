#include "server/config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace habilis {

absl::Status Config::Validate() const {
  size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--listen must be HOST:PORT, got '", listen, "'"));
  }
  if (data_dir.empty()) return absl::InvalidArgumentError("--data-dir must name a directory");
  if (max_message_bytes < 1024 || max_message_bytes > (64 << 20)) {
    return absl::InvalidArgumentError("--max-message-bytes must be between 1024 and 67108864");
  }
  if (worker_threads < 1 || worker_threads > 256) {
    return absl::InvalidArgumentError("--workers must be between 1 and 256");
  }
  if (max_queued_calls < 1 || max_queued_calls > 1000000) {
    return absl::InvalidArgumentError("--max-queued-calls must be between 1 and 1000000");
  }
  if (mail_poll_ms < 10 || mail_poll_ms > 60000) {
    return absl::InvalidArgumentError("--mail-poll-ms must be between 10 and 60000");
  }
  if (!smtp_url.empty() && smtp_url.rfind("smtp://", 0) != 0 && smtp_url.rfind("smtps://", 0) != 0) {
    return absl::InvalidArgumentError("--smtp-url must start with smtp:// or smtps://");
  }
  if (password_max_age_days < 0 || password_max_age_days > 3650) {
    return absl::InvalidArgumentError("--password-max-age-days must be between 0 and 3650");
  }
  if (!(audit_retention_days >= 0 && audit_retention_days <= 36500)) {
    return absl::InvalidArgumentError("--audit-retention-days must be between 0 (keep forever) and 36500");
  }
  if (attempts_per_peer_burst < 1 || attempts_global_burst < 1) {
    return absl::InvalidArgumentError("--attempts-per-peer-burst and --attempts-global-burst must be at least 1");
  }
  if (!(attempts_per_peer_per_minute > 0) || !(attempts_global_per_second > 0)) {
    return absl::InvalidArgumentError(
        "--attempts-per-peer-per-minute and --attempts-global-per-second must be greater than 0");
  }
  return absl::OkStatus();
}

}  // namespace habilis
