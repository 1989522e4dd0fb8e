#include "server/api/server.h"

#include "absl/strings/str_cat.h"
#include "authz/engine.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "server/api/services.h"

namespace habilis::api {

struct Server::Parts {
  Parts(const Config& config, store::Store& store, const domain::Clock& clock)
      : engine(authz::NewRoleEngine()),
        structures(store, clock),
        org_chart(store, clock),
        applications(store, clock),
        api_keys(store, clock),
        gate(api_keys, *engine),
        executor(config.worker_threads),
        context{gate, executor},
        structure_service(context, structures),
        org_chart_service(context, org_chart),
        application_service(context, applications),
        api_key_service(context, api_keys),
        health_service(gate) {}

  std::unique_ptr<authz::Engine> engine;
  domain::Structures structures;
  domain::OrgChart org_chart;
  domain::Applications applications;
  domain::ApiKeys api_keys;
  Gate gate;
  Executor executor;
  CallContext context;
  StructureService structure_service;
  OrgChartService org_chart_service;
  ApplicationService application_service;
  ApiKeyService api_key_service;
  HealthService health_service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Config& config, store::Store& store,
                                                      const domain::Clock& clock) {
  auto parts = std::make_unique<Parts>(config, store, clock);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, grpc::InsecureServerCredentials(), &parts->port);
  builder.SetMaxReceiveMessageSize(config.max_message_bytes);
  builder.RegisterService(&parts->structure_service);
  builder.RegisterService(&parts->org_chart_service);
  builder.RegisterService(&parts->application_service);
  builder.RegisterService(&parts->api_key_service);
  builder.RegisterService(&parts->health_service);
  parts->server = builder.BuildAndStart();
  if (parts->server == nullptr || parts->port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.listen));
  }
  return std::unique_ptr<Server>(new Server(std::move(parts)));
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { Shutdown(); }

int Server::port() const { return parts_->port; }

void Server::Shutdown() { parts_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5)); }

void Server::Wait() { parts_->server->Wait(); }

}  // namespace habilis::api
