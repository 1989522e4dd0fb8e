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
#include "server/common/call_deadline.h"
#include "server/common/call_log.h"
#include "server/common/errors.h"
#include "server/common/metrics.h"
#include "server/common/paging.h"
#include "server/domain/commands/audit_log.h"

namespace habilis::api {

// What every service needs to serve a call.
struct CallContext {
  const Gate& gate;
  Executor& executor;
  // Where refused grants are recorded (domain::RecordsDenialsOf); none if null.
  store::Store* audit_store = nullptr;
  // The node's store, whose applied revision tells whether a consistency token means a wait; none if null.
  const store::Store* store = nullptr;
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

// Runs one call to the end: resolves the target, passes the gate, runs `command(caller, response)`.
// `target` is an authz::Target, or a callable returning absl::StatusOr<authz::Target> when naming the target
// needs the store.
// Records in the audit trail that the call `request` ended in `status` PERMISSION_DENIED, if it grants rights
// (domain::RecordsDenialsOf) and its caller was authenticated. The refusal may come from the engine
// (`judgement`) or from a rule of the command. If recording fails, the caller still gets the refusal, and the
// failure is logged.
inline void RecordRefusal(const CallContext& context, const Gate::Judgement& judgement, const absl::Status& status,
                          const google::protobuf::Message& request) {
  if (!absl::IsPermissionDenied(status) || context.audit_store == nullptr || !domain::RecordsDenialsOf(request)) {
    return;
  }
  const authz::Principal* refused = judgement.caller.ok() ? &*judgement.caller
                                    : judgement.refused   ? &*judgement.refused
                                                          : nullptr;
  if (refused == nullptr) return;
  absl::Status recorded =
      domain::RecordDenial(*context.audit_store, *refused, request,
                           judgement.denial_reason.empty() ? ErrorReason(status) : judgement.denial_reason);
  if (!recorded.ok()) std::cerr << "habilisd: a refusal was not recorded in the audit trail: " << recorded << std::endl;
}

// Every request, before its command: no enum field holds a value its enum does not define. Requests
// without enum fields (the access checks) pay nothing.
template <typename Request>
absl::Status CheckEnumsOf(const Request& request) {
  static const bool has_enums = [] {
    std::vector<const google::protobuf::Descriptor*> pending = {Request::descriptor()};
    for (size_t i = 0; i < pending.size() && i < 64; ++i) {
      for (int f = 0; f < pending[i]->field_count(); ++f) {
        const google::protobuf::FieldDescriptor* field = pending[i]->field(f);
        if (field->enum_type() != nullptr) return true;
        if (field->message_type() != nullptr) pending.push_back(field->message_type());
      }
    }
    return false;
  }();
  return has_enums ? CheckEnumValues(request) : absl::OkStatus();
}

// The request's idempotency key, for the log ("" for requests without one).
template <typename Request>
absl::string_view RequestIdOf(const Request& request) {
  if constexpr (requires { request.request_id(); }) {
    return request.request_id();
  } else {
    return "";
  }
}

// Counts the call in the metrics (server/common/metrics.h) and writes its log line (server/common/call_log.h)
// if its level is logged.
template <typename Request>
void LogCallOf(const Request& request, const Gate::Judgement* judgement, const absl::Status& status,
               absl::Time received) {
  static metrics::MethodSeries& series = metrics::SeriesOf(MethodOf<Request>());
  series.Record(status.code(), absl::Now() - received);
  static const bool routine = MethodOf<Request>().rfind("habilis.v1.AccessService/", 0) == 0;
  CallRecord call{MethodOf<Request>(), status, received, "", RequestIdOf(request), routine};
  if (!Logs(LevelOf(call))) return;
  const authz::Principal* who = judgement == nullptr     ? nullptr
                                : judgement->caller.ok() ? &*judgement->caller
                                : judgement->refused     ? &*judgement->refused
                                                         : nullptr;
  if (who != nullptr && who->kind != authz::PrincipalKind::kAnonymous) call.principal = who->ResourceName();
  LogCall(call);
}

template <typename Request, typename Response, typename TargetOrFn, typename Command>
grpc::Status RunCall(const CallContext& context, const grpc::CallbackServerContext& server_context,
                     const Request& request, Response& response, TargetOrFn& target, Command& command,
                     absl::Time received) {
  // What the domain may wait for (a consistency token ahead of this node) ends with the caller's patience.
  ScopedCallDeadline deadline(absl::FromChrono(server_context.deadline()));
  absl::StatusOr<authz::Target> resolved;
  if constexpr (std::is_invocable_v<TargetOrFn>) {
    resolved = target();
  } else {
    resolved = authz::Target(target);
  }
  Gate::Judgement judgement = resolved.ok() ? context.gate.Judge(server_context, MethodOf<Request>(), *resolved)
                                            : Gate::Judgement{resolved.status()};
  absl::Status status = judgement.caller.ok() ? CheckEnumsOf(request) : judgement.caller.status();
  if (status.ok()) status = command(*judgement.caller, response);
  if (!status.ok()) response.Clear();
  RecordRefusal(context, judgement, status, request);
  LogCallOf(request, &judgement, status, received);
  return ToGrpcStatus(status);
}

// Serves one unary call on the executor: for anything that writes, hashes or may wait.
template <typename Request, typename Response, typename TargetOrFn, typename Command>
grpc::ServerUnaryReactor* ServeUnary(const CallContext& context, grpc::CallbackServerContext* server_context,
                                     const Request* request, Response* response, TargetOrFn target, Command command) {
  grpc::ServerUnaryReactor* reactor = server_context->DefaultReactor();
  const absl::Time received = absl::Now();
  bool queued = context.executor.TrySubmit([&context, server_context, request, response, reactor, received,
                                            target = std::move(target), command = std::move(command)]() mutable {
    reactor->Finish(RunCall<Request>(context, *server_context, *request, *response, target, command, received));
  });
  if (!queued) {
    absl::Status busy = Error(absl::StatusCode::kResourceExhausted, "SERVER_BUSY",
                              "the server has too many calls waiting; retry with backoff");
    LogCallOf(*request, nullptr, busy, received);
    reactor->Finish(ToGrpcStatus(busy));
  }
  return reactor;
}

// Whether `request` carries a consistency token this node has not applied yet (serving it means waiting).
template <typename Request>
bool WaitsForToken(const CallContext& context, const Request& request) {
  if constexpr (requires { request.consistency_token(); }) {
    if (context.store == nullptr || request.consistency_token().empty()) return false;
    std::optional<store::Revision> revision = DecodeConsistencyToken(request.consistency_token());
    return revision && *revision > context.store->ObservedRevision();
  }
  return false;
}

// Serves one unary call on the gRPC thread that received it: for the read-only hot path (access checks),
// whose reads are in memory, so that it pays no hop to the executor. A call that would wait for a consistency
// token ahead of this node (another node's commit, up to 2 s) goes to the executor instead: gRPC's threads
// are few, and they serve every other call.
template <typename Request, typename Response, typename TargetOrFn, typename Command>
grpc::ServerUnaryReactor* ServeInline(const CallContext& context, grpc::CallbackServerContext* server_context,
                                      const Request* request, Response* response, TargetOrFn target, Command command) {
  if (WaitsForToken(context, *request)) {
    return ServeUnary(context, server_context, request, response, std::move(target), std::move(command));
  }
  grpc::ServerUnaryReactor* reactor = server_context->DefaultReactor();
  reactor->Finish(RunCall<Request>(context, *server_context, *request, *response, target, command, absl::Now()));
  return reactor;
}

// For writes: the response carries the consistency token of the revision that holds the change.
template <typename Response>
absl::Status WithToken(const absl::StatusOr<store::Revision>& revision, Response& response) {
  if (!revision.ok()) return revision.status();
  response.set_consistency_token(habilis::EncodeConsistencyToken(*revision));
  return absl::OkStatus();
}

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_UNARY_H_
