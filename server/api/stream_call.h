// The log line and metrics of a streaming call (server/common/call_log.h, metrics.h), written once, with the
// status the stream ends with. Unary calls have theirs in unary.h (LogCallOf), but for health checks, which
// do not go through ServeUnary and use this too.
#ifndef HABILIS_SERVER_API_STREAM_CALL_H_
#define HABILIS_SERVER_API_STREAM_CALL_H_

#include <string>

#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "server/common/call_log.h"
#include "server/common/errors.h"
#include "server/common/metrics.h"

namespace habilis::api {

struct StreamCall {
  const std::string& method;  // MethodOf<Request>(): lives for the process
  absl::Time received;
  std::string principal;  // "" until the gate has admitted the caller
  bool routine = false;   // a DEBUG line (call_log.h): health probes
  // Writes the line and counts the call; returns `status` so that a refusal reads Finish(call.Logged(...)).
  grpc::Status Logged(grpc::Status status) const {
    metrics::SeriesOf(method).Record(static_cast<absl::StatusCode>(status.error_code()), absl::Now() - received);
    LogCall({method, FromGrpcStatus(status), received, principal, "", routine});
    return status;
  }
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_STREAM_CALL_H_
