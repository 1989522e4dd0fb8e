// Requests that do not even parse get the error contract too.
//
// A request whose bytes are not a valid message (invalid UTF-8 in a string field, a truncated field) never
// reaches a handler: gRPC's callback API answers UNIMPLEMENTED with an empty message and no ErrorInfo, and
// protobuf logs one ERROR line per such request (an anonymous log flood). The interceptor below sees the
// failed parse and turns the answer into INVALID_ARGUMENT REQUEST_UNDECODABLE with an ErrorInfo; the log
// handler bounds protobuf's own lines.
#ifndef HABILIS_SERVER_API_UNDECODABLE_REQUESTS_H_
#define HABILIS_SERVER_API_UNDECODABLE_REQUESTS_H_

#include <memory>
#include <vector>

#include "grpcpp/support/server_interceptor.h"

namespace habilis::api {

// INVALID_ARGUMENT REQUEST_UNDECODABLE: the answer to a request of `method` that does not parse.
grpc::Status UndecodableRequest(const std::string& method);

// For every unary and server-streaming method (their one request is parsed before the handler runs; the
// streams a client writes are parsed by their handlers, which answer for them).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewUndecodableRequestInterceptorFactory();

// Routes protobuf's and gRPC core's log lines to standard error, at most one a minute for each place that logs
// (with the count of those left out), so that no request or connection attempt (a failed TLS handshake) can
// make the server write a line of its own.
void LimitProtobufLogging();

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_UNDECODABLE_REQUESTS_H_
