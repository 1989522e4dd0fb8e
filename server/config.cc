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
  return absl::OkStatus();
}

}  // namespace habilis
