// How a unary RPC is served: on the executor, through the gate, then the command; the absl::Status that
// comes out is turned into a grpc::Status exactly once, here.
#ifndef HABILIS_SERVER_API_UNARY_H_
#define HABILIS_SERVER_API_UNARY_H_

#include <cstdlib>
#include <iostream>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "authz/engine.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/grpcpp.h"
#include "server/api/executor.h"
#include "server/api/gate.h"
#include "server/common/errors.h"
#include "server/domain/support.h"

namespace habilis::api {

// What every service needs to serve a call.
struct CallContext {
  const Gate& gate;
  Executor& executor;
};

// The full name ("package.Service/Method") of the one method that takes `Request`. Request types are
// unique per RPC (AIP: <Rpc>Request), so a handler cannot name the wrong method's permission.
template <typename Request>
const std::string& MethodOf() {
  static const std::string name = [] {
    const google::protobuf::Descriptor* input = Request::descriptor();
    std::string found;
    const google::protobuf::FileDescriptor* file = input->file();
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        const google::protobuf::MethodDescriptor* method = file->service(s)->method(m);
        if (method->input_type() != input) continue;
        if (!found.empty()) {
          std::cerr << "habilisd: " << input->full_name() << " is the request of several methods" << std::endl;
          std::abort();
        }
        found = method->service()->full_name() + "/" + method->name();
      }
    }
    if (found.empty()) {
      std::cerr << "habilisd: no method takes " << input->full_name() << std::endl;
      std::abort();
    }
    return found;
  }();
  return name;
}

// Serves one unary call: `command(caller, response)` runs on the executor once the gate admits the caller
// for the target. `target` is an authz::Target, or a callable returning absl::StatusOr<authz::Target> when
// naming the target needs the store (it then runs on the executor too).
template <typename Request, typename Response, typename TargetOrFn, typename Command>
grpc::ServerUnaryReactor* ServeUnary(const CallContext& context, grpc::CallbackServerContext* server_context,
                                     const Request* request, Response* response, TargetOrFn target,
                                     Command command) {
  grpc::ServerUnaryReactor* reactor = server_context->DefaultReactor();
  context.executor.Submit([&context, server_context, request, response, reactor, target = std::move(target),
                           command = std::move(command)]() mutable {
    absl::StatusOr<authz::Target> resolved;
    if constexpr (std::is_invocable_v<TargetOrFn>) {
      resolved = target();
    } else {
      resolved = authz::Target(target);
    }
    absl::StatusOr<authz::Principal> caller =
        resolved.ok() ? context.gate.Admit(*server_context, MethodOf<Request>(), *resolved) : resolved.status();
    absl::Status status = caller.ok() ? command(*caller, *response) : caller.status();
    if (!status.ok()) response->Clear();
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

// For writes: the response carries the consistency token of the revision that holds the change.
template <typename Response>
absl::Status WithToken(const absl::StatusOr<store::Revision>& revision, Response& response) {
  if (!revision.ok()) return revision.status();
  response.set_consistency_token(domain::EncodeConsistencyToken(*revision));
  return absl::OkStatus();
}

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_UNARY_H_
