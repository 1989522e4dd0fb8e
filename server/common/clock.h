// Time, injected wherever it matters so that tests can set it, and its conversions to and from the wire.
#ifndef HABILIS_SERVER_COMMON_CLOCK_H_
#define HABILIS_SERVER_COMMON_CLOCK_H_

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace habilis {

// Injected wherever time matters, so tests can set it.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock.
const Clock& SystemClock();

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out);
// How e-mails show a deadline: "2027-01-08 14:00 UTC".
std::string FormatDeadline(absl::Time time);
absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp);

}  // namespace habilis

#endif  // HABILIS_SERVER_COMMON_CLOCK_H_
