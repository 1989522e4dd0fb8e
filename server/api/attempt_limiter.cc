#include "server/api/attempt_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace habilis::api {
namespace {

// Past this many addresses, buckets that have refilled completely are forgotten (they hold nothing a new
// bucket would not): memory stays bounded under a spray of addresses.
constexpr size_t kMaxRememberedPeers = 100000;

}  // namespace

absl::string_view AttemptLimiter::AddressOf(absl::string_view peer) {
  size_t colon = peer.rfind(':');
  size_t first = peer.find(':');
  if (colon == absl::string_view::npos || colon == first) return peer;
  return peer.substr(0, colon);
}

absl::Duration AttemptLimiter::Refill(Bucket& bucket, absl::Time now, double burst, double per_second) {
  if (now > bucket.updated) {
    bucket.tokens = std::min(burst, bucket.tokens + absl::ToDoubleSeconds(now - bucket.updated) * per_second);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1) return absl::ZeroDuration();
  return absl::Seconds((1 - bucket.tokens) / per_second);
}

void AttemptLimiter::ForgetFullBuckets(absl::Time now) {
  const double per_second = limits_.per_peer_per_minute / 60;
  absl::erase_if(peers_, [&](auto& entry) {
    Refill(entry.second, now, limits_.per_peer_burst, per_second);
    return entry.second.tokens >= limits_.per_peer_burst;
  });
}

absl::Status AttemptLimiter::Take(absl::string_view peer) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (!global_started_) {
    global_ = {static_cast<double>(limits_.global_burst), now};
    global_started_ = true;
  }
  if (peers_.size() >= kMaxRememberedPeers) ForgetFullBuckets(now);
  auto [it, inserted] =
      peers_.try_emplace(std::string(AddressOf(peer)), Bucket{static_cast<double>(limits_.per_peer_burst), now});
  absl::Duration wait = std::max(Refill(it->second, now, limits_.per_peer_burst, limits_.per_peer_per_minute / 60),
                                 Refill(global_, now, limits_.global_burst, limits_.global_per_second));
  if (wait > absl::ZeroDuration()) {
    return WithRetryDelay(
        Error(absl::StatusCode::kResourceExhausted, "TOO_MANY_ATTEMPTS",
              absl::StrCat("too many attempts; retry in ", absl::FormatDuration(absl::Ceil(wait, absl::Seconds(1))))),
        wait);
  }
  it->second.tokens -= 1;
  global_.tokens -= 1;
  return absl::OkStatus();
}

}  // namespace habilis::api
