// Handlers of ApplicationService, ApiKeyService and the health service.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/api/services.h"
#include "server/api/stream_call.h"
#include "server/domain/kernel/resource_names.h"
#include "store/keyspace.h"

namespace habilis::api {
namespace {

// The health methods' names, for the gate and the log (MethodOf cannot tell them apart: both take
// HealthCheckRequest).
const std::string kHealthCheck = "grpc.health.v1.Health/Check";
const std::string kHealthWatch = "grpc.health.v1.Health/Watch";

}  // namespace

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

grpc::ServerUnaryReactor* ApplicationService::CreateApplication(grpc::CallbackServerContext* ctx,
                                                                const v1::CreateApplicationRequest* req,
                                                                v1::CreateApplicationResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, authz::Target{.application = req->application_id()},
                    [this, req](const authz::Principal& caller, auto& out) {
                      return WithToken(applications_.Create(caller, *req, out), out);
                    });
}

grpc::ServerUnaryReactor* ApplicationService::GetApplication(grpc::CallbackServerContext* ctx,
                                                             const v1::GetApplicationRequest* req,
                                                             v1::GetApplicationResponse* resp) {
  authz::Target target{.application = domain::ParseApplicationName(req->name()).value_or("")};
  return ServeUnary(
      context_, ctx, req, resp, std::move(target),
      [this, req](const authz::Principal& caller, auto& out) { return applications_.Get(caller, *req, out); });
}

grpc::ServerUnaryReactor* ApplicationService::ListApplications(grpc::CallbackServerContext* ctx,
                                                               const v1::ListApplicationsRequest* req,
                                                               v1::ListApplicationsResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, authz::Target{},
                    [this, req](const authz::Principal&, auto& out) { return applications_.List(*req, out); });
}

grpc::ServerUnaryReactor* ApplicationService::CreateProfile(grpc::CallbackServerContext* ctx,
                                                            const v1::CreateProfileRequest* req,
                                                            v1::CreateProfileResponse* resp) {
  authz::Target target{.application = domain::ParseApplicationName(req->parent()).value_or("")};
  return ServeUnary(context_, ctx, req, resp, std::move(target),
                    [this, req](const authz::Principal& caller, auto& out) {
                      return WithToken(applications_.CreateProfile(caller, *req, out), out);
                    });
}

grpc::ServerUnaryReactor* ApplicationService::ListProfiles(grpc::CallbackServerContext* ctx,
                                                           const v1::ListProfilesRequest* req,
                                                           v1::ListProfilesResponse* resp) {
  authz::Target target{.application = domain::ParseApplicationName(req->parent()).value_or("")};
  return ServeUnary(
      context_, ctx, req, resp, std::move(target),
      [this, req](const authz::Principal& caller, auto& out) { return applications_.ListProfiles(caller, *req, out); });
}

grpc::ServerUnaryReactor* ApplicationService::RetireProfile(grpc::CallbackServerContext* ctx,
                                                            const v1::RetireProfileRequest* req,
                                                            v1::RetireProfileResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, authz::Target{}, [this, req](const authz::Principal& caller, auto& out) {
    return WithToken(applications_.RetireProfile(caller, *req, out), out);
  });
}

grpc::ServerUnaryReactor* ApiKeyService::CreateApiKey(grpc::CallbackServerContext* ctx,
                                                      const v1::CreateApiKeyRequest* req,
                                                      v1::CreateApiKeyResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, authz::Target{}, [this, req](const authz::Principal& caller, auto& out) {
    return WithToken(api_keys_.Create(caller, *req, out), out);
  });
}

grpc::ServerUnaryReactor* ApiKeyService::ListApiKeys(grpc::CallbackServerContext* ctx,
                                                     const v1::ListApiKeysRequest* req, v1::ListApiKeysResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, authz::Target{},
                    [this, req](const authz::Principal&, auto& out) { return api_keys_.List(*req, out); });
}

grpc::ServerUnaryReactor* ApiKeyService::RevokeApiKey(grpc::CallbackServerContext* ctx,
                                                      const v1::RevokeApiKeyRequest* req,
                                                      v1::RevokeApiKeyResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, authz::Target{}, [this, req](const authz::Principal& caller, auto& out) {
    return WithToken(api_keys_.Revoke(caller, *req, out), out);
  });
}

grpc::ServerUnaryReactor* OperationsService::CreateBackup(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateBackupRequest* request,
                                                          v1::CreateBackupResponse* response) {
  return ServeUnary(context_, ctx, request, response, authz::Target{},
                    [this, request](const authz::Principal&, auto& out) { return backups_.Create(*request, out); });
}

// A Watch stream: the status when it opens, then each change, until the client leaves or the server stops.
class HealthService::WatchStream final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  WatchStream(HealthService& health, StreamCall call, std::string service, HealthCheckResponse::ServingStatus status)
      : health_(health), call_(std::move(call)), service_(std::move(service)) {
    Offer(status);
  }

  const std::string& service() const { return service_; }

  // Writes `status` unless it is the last one written or being written; one write at a time, the latest wins.
  void Offer(HealthCheckResponse::ServingStatus status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || status == latest_) return;
      latest_ = status;
      if (writing_) return;
      writing_ = true;
      response_.set_status(status);
    }
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return FinishOnce(grpc::Status::CANCELLED);
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (finished_ || latest_ == response_.status()) return;
      writing_ = true;
      response_.set_status(latest_);
    }
    StartWrite(&response_);
  }
  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
  void OnDone() override {
    health_.Forget(this);
    delete this;
  }

 private:
  void FinishOnce(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(call_.Logged(status));
  }

  HealthService& health_;
  const StreamCall call_;
  const std::string service_;
  absl::Mutex mu_;
  HealthCheckResponse response_;  // the status being written; changed only while no write is under way
  HealthCheckResponse::ServingStatus latest_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

namespace {

class FailedWatch final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  explicit FailedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

HealthService::~HealthService() {
  {
    absl::MutexLock lock(&watches_mu_);
    stopping_ = true;
  }
  if (poller_.joinable()) poller_.join();
}

void HealthService::PollWatches() {
  absl::MutexLock lock(&watches_mu_);
  while (!watches_mu_.AwaitWithTimeout(absl::Condition(&stopping_), kWatchPollInterval)) {
    absl::flat_hash_map<std::string, HealthCheckResponse::ServingStatus> statuses;
    for (WatchStream* stream : watches_) {
      auto [status, fresh] = statuses.try_emplace(stream->service());
      if (fresh) status->second = StatusOf(stream->service()).value_or(HealthCheckResponse::SERVICE_UNKNOWN);
      stream->Offer(status->second);
    }
  }
}

void HealthService::Forget(WatchStream* stream) {
  absl::MutexLock lock(&watches_mu_);
  watches_.erase(stream);
}

bool HealthService::StoreReadable() const {
  {
    absl::MutexLock lock(&probe_mu_);
    // While another call probes, the last answer stands.
    if (probing_ || absl::Now() < probed_at_ + kStoreProbeInterval) return store_readable_;
    probing_ = true;
  }
  const bool readable = store_
                            .Read([](store::Reader& reader) -> absl::Status {
                              return reader.Get(store::MetaKey(store::kMetaFormatVersion)).status();
                            })
                            .ok();
  absl::MutexLock lock(&probe_mu_);
  probing_ = false;
  probed_at_ = absl::Now();
  store_readable_ = readable;
  return readable;
}

std::optional<HealthCheckResponse::ServingStatus> HealthService::StatusOf(absl::string_view service) const {
  const bool known = service.empty() || std::find(services_.begin(), services_.end(), service) != services_.end();
  if (!known) return std::nullopt;
  const bool store_readable = StoreReadable();
  const bool needs_index = service.empty() || service == "habilis.v1.AccessService";
  const bool index_healthy = !needs_index || index_.Read().Healthy().ok();
  return store_readable && index_healthy ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

// Load balancers probe every few seconds: the lines are DEBUG (routine), the metrics count every probe.
grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* ctx, const HealthCheckRequest* req,
                                               HealthCheckResponse* resp) {
  StreamCall call{kHealthCheck, absl::Now(), "", /*routine=*/true};
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::StatusOr<authz::Principal> caller = gate_.Admit(*ctx, kHealthCheck, {});
  if (!caller.ok()) {
    reactor->Finish(call.Logged(ToGrpcStatus(caller.status())));
    return reactor;
  }
  std::optional<HealthCheckResponse::ServingStatus> status = StatusOf(req->service());
  if (!status) {
    reactor->Finish(call.Logged(
        ToGrpcStatus(Error(absl::StatusCode::kNotFound, "SERVICE_UNKNOWN", "this server has no such service"))));
    return reactor;
  }
  resp->set_status(*status);
  reactor->Finish(call.Logged(grpc::Status::OK));
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(grpc::CallbackServerContext* ctx,
                                                                    const HealthCheckRequest* req) {
  StreamCall call{kHealthWatch, absl::Now(), "", /*routine=*/true};
  absl::StatusOr<authz::Principal> caller = gate_.Admit(*ctx, kHealthWatch, {});
  if (!caller.ok()) return new FailedWatch(call.Logged(ToGrpcStatus(caller.status())));
  auto* stream = new WatchStream(*this, std::move(call), req->service(),
                                 StatusOf(req->service()).value_or(HealthCheckResponse::SERVICE_UNKNOWN));
  absl::MutexLock lock(&watches_mu_);
  watches_.insert(stream);
  if (!poller_.joinable()) poller_ = std::thread([this] { PollWatches(); });
  return stream;
}

grpc::ServerUnaryReactor* AuditService::ListAuditEntries(grpc::CallbackServerContext* ctx,
                                                         const v1::ListAuditEntriesRequest* request,
                                                         v1::ListAuditEntriesResponse* response) {
  // A structure's trail is its administrators', and so is an account's or an actor's within their structure;
  // the rest (by account, by actor, everything) is operators'.
  authz::Target target;
  if (request->scope_case() == v1::ListAuditEntriesRequest::kStructure) {
    target.structure = domain::StructureSegment(request->structure());
  } else if (!request->within_structure().empty()) {
    target.structure = domain::StructureSegment(request->within_structure());
  }
  return ServeUnary(context_, ctx, request, response, target,
                    [this, request](const authz::Principal&, auto& out) { return trail_.List(*request, out); });
}

namespace {

// A stream refused before it starts.
class RefusedStream final : public grpc::ServerWriteReactor<v1::WatchChangesResponse> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::WatchChangesResponse>* AuditService::WatchChanges(grpc::CallbackServerContext* ctx,
                                                                               const v1::WatchChangesRequest* request) {
  // The application filter is the application's own (or an operator's); the structure filter, its
  // administrators' (or an operator's).
  authz::Target target;
  if (request->filter_case() == v1::WatchChangesRequest::kStructure) {
    target.structure = domain::StructureSegment(request->structure());
  } else if (request->filter_case() == v1::WatchChangesRequest::kApplication) {
    target.application = domain::ParseApplicationName(request->application()).value_or("");
  }
  StreamCall call{MethodOf<v1::WatchChangesRequest>(), absl::Now(), ""};
  absl::StatusOr<authz::Principal> caller = context_.gate.Admit(*ctx, MethodOf<v1::WatchChangesRequest>(), target);
  if (!caller.ok()) return new RefusedStream(call.Logged(ToGrpcStatus(caller.status())));
  call.principal = caller->ResourceName();
  auto parsed = trail_.ParseWatch(*request);
  if (!parsed.ok()) return new RefusedStream(call.Logged(ToGrpcStatus(parsed.status())));
  // The gate again, before every delivery: the CallbackServerContext (and its credentials) lives as long as
  // the stream.
  StillAllowed still_allowed = [gate = &context_.gate, ctx, target] {
    return gate->Admit(*ctx, MethodOf<v1::WatchChangesRequest>(), target).status();
  };
  return StartWatch(trail_, notifier_, context_.executor, parsed->first, parsed->second, std::move(still_allowed),
                    std::move(call));
}

}  // namespace habilis::api
