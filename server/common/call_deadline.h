// The deadline of the call the current thread is serving, for domain code that may wait (a consistency token
// ahead of this node): it then waits no longer than the caller does. Set by the API layer around each call;
// absl::InfiniteFuture() outside one.
#ifndef HABILIS_SERVER_COMMON_CALL_DEADLINE_H_
#define HABILIS_SERVER_COMMON_CALL_DEADLINE_H_

#include "absl/time/time.h"

namespace habilis {

class ScopedCallDeadline {
 public:
  explicit ScopedCallDeadline(absl::Time deadline);
  ~ScopedCallDeadline();
  ScopedCallDeadline(const ScopedCallDeadline&) = delete;
  ScopedCallDeadline& operator=(const ScopedCallDeadline&) = delete;

 private:
  absl::Time previous_;
};

absl::Time CallDeadline();

}  // namespace habilis

#endif  // HABILIS_SERVER_COMMON_CALL_DEADLINE_H_
