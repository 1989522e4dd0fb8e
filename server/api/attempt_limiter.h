// How fast callers may try proofs — passwords, login codes, links, reset requests — against the platform.
//
// Every self-proving RPC (authz::Action::kSelfProving) takes one token from its peer's bucket and one from a
// bucket shared by all peers before it runs. Without this, one address could make about 37 Argon2 hashes a
// second and lock any account whose login it knows with five guesses. The decision depends only on the
// peer and the time, never on the login asked about, so it tells nothing about which logins exist.
//
// Written here rather than taken from a library: Debian has no C++ rate limiter, and a token bucket is a few
// lines of arithmetic (RFC 2697's single-rate form).
#ifndef HABILIS_SERVER_API_ATTEMPT_LIMITER_H_
#define HABILIS_SERVER_API_ATTEMPT_LIMITER_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"

namespace habilis::api {

struct AttemptLimits {
  // One address: a burst, then this many a minute.
  int per_peer_burst = 20;
  double per_peer_per_minute = 10;
  // All addresses together: a burst, then this many a second (about what the machine hashes).
  int global_burst = 100;
  double global_per_second = 30;
};

class AttemptLimiter {
 public:
  AttemptLimiter(AttemptLimits limits, const habilis::Clock& clock) : limits_(limits), clock_(clock) {}

  // Takes one attempt for `peer` (gRPC's peer string, "ipv4:1.2.3.4:5678"; the port is ignored). OK, or
  // RESOURCE_EXHAUSTED TOO_MANY_ATTEMPTS with a RetryInfo delay after which one attempt is available again.
  // Nothing is taken when it refuses.
  [[nodiscard]] absl::Status Take(absl::string_view peer);

  // The address part of a gRPC peer string: "ipv4:1.2.3.4:5678" -> "ipv4:1.2.3.4".
  static absl::string_view AddressOf(absl::string_view peer);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  // Refills `bucket` to `now`; returns the delay until it holds one token (zero if it does).
  static absl::Duration Refill(Bucket& bucket, absl::Time now, double burst, double per_second);
  void ForgetFullBuckets(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AttemptLimits limits_;
  const habilis::Clock& clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> peers_ ABSL_GUARDED_BY(mu_);
  Bucket global_ ABSL_GUARDED_BY(mu_);
  bool global_started_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_ATTEMPT_LIMITER_H_
