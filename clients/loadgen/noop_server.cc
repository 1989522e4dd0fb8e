// habilis-noop-server: a bare gRPC server that answers grpc.health.v1.Health/Check with SERVING and does
// nothing else: no interceptor, no authentication, no store. habilis-loadgen's "bare" mode measures it
// beside habilisd, so that a ratio to it shows what habilisd costs above the transport itself.
//
//   habilis-noop-server --listen 127.0.0.1:50052
#include <iostream>

#include "CLI/CLI.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

class NoopHealth final : public grpc::health::v1::Health::CallbackService {
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context, const grpc::health::v1::HealthCheckRequest*,
                                  grpc::health::v1::HealthCheckResponse* response) override {
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:50052";
  CLI::App app{"habilis-noop-server: Health/Check and nothing else"};
  app.add_option("--listen", listen)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  NoopHealth health;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials());
  builder.RegisterService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::cerr << "habilis-noop-server: cannot listen on " << listen << std::endl;
    return 1;
  }
  std::cout << "habilis-noop-server listening on " << listen << std::endl;
  server->Wait();
  return 0;
}
