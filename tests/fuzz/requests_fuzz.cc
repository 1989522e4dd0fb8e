// libFuzzer target: the request validation of every RPC, through the real server in this process.
//
// The first byte picks one unary method of the habilis.v1 services; the rest is its request. A request
// that parses is sent with validate_only set (so the store stays as seeded) with the operator's key or the
// demo application's, chosen by the second byte, so that it gets past the gate into validation; one that
// does not parse is sent as it is. Whatever comes back must follow the error contract: OK, or a
// canonical code with exactly one ErrorInfo; never INTERNAL, UNKNOWN or DATA_LOSS, which would mean a
// request reached a path nobody meant it to.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "clients/cpp/client.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/grpcpp.h"
#include "habilis/v1/access.pb.h"
#include "habilis/v1/account_files.pb.h"
#include "habilis/v1/accounts.pb.h"
#include "habilis/v1/api_keys.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/audit.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/invitations.pb.h"
#include "habilis/v1/org_chart.pb.h"
#include "habilis/v1/sessions.pb.h"
#include "habilis/v1/structures.pb.h"
#include "server/api/server.h"
#include "server/common/clock.h"
#include "server/config.h"
#include "server/domain/operations/demo.h"
#include "store/rocksdb/rocksdb_store.h"

namespace {

struct World {
  std::unique_ptr<habilis::store::Store> store;
  std::unique_ptr<habilis::api::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::vector<const google::protobuf::MethodDescriptor*> methods;
  std::string keys[2];
};

World& TheWorld() {
  static World* world = [] {
    auto* w = new World();
    const std::string dir =
        (std::filesystem::temp_directory_path() / ("habilis-requests-fuzz-" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(dir);
    auto store = habilis::store::RocksDbStore::Open(dir);
    if (!store.ok()) std::abort();
    w->store = std::move(store).value();
    auto demo = habilis::domain::SeedDemo(*w->store, habilis::SystemClock(), {});
    if (!demo.ok() || !demo->has_value()) std::abort();
    w->keys[0] = (*demo)->operator_key;
    w->keys[1] = (*demo)->application_key;
    habilis::Config config;
    config.listen = "127.0.0.1:0";
    config.data_dir = dir;
    // One address sends everything here: the attempt limits are for people, not for this loop.
    config.attempts_per_peer_burst = 1000000;
    config.attempts_per_peer_per_minute = 1e9;
    config.attempts_global_burst = 1000000;
    config.attempts_global_per_second = 1e9;
    auto server = habilis::api::Server::Start(config, *w->store, habilis::SystemClock());
    if (!server.ok()) std::abort();
    w->server = std::move(server).value();
    w->channel = habilis::client::Connect("127.0.0.1:" + std::to_string(w->server->port()));
    const google::protobuf::FileDescriptor* files[] = {habilis::v1::CheckAccessRequest::descriptor()->file(),
                                                       habilis::v1::ExportAccountsRequest::descriptor()->file(),
                                                       habilis::v1::CreateAccountRequest::descriptor()->file(),
                                                       habilis::v1::CreateApiKeyRequest::descriptor()->file(),
                                                       habilis::v1::CreateApplicationRequest::descriptor()->file(),
                                                       habilis::v1::ListAuditEntriesRequest::descriptor()->file(),
                                                       habilis::v1::GrantHabilitationRequest::descriptor()->file(),
                                                       habilis::v1::SendInvitationsRequest::descriptor()->file(),
                                                       habilis::v1::CreateServiceRequest::descriptor()->file(),
                                                       habilis::v1::LoginRequest::descriptor()->file(),
                                                       habilis::v1::CreateStructureRequest::descriptor()->file()};
    for (const auto* file : files) {
      for (int s = 0; s < file->service_count(); ++s) {
        for (int m = 0; m < file->service(s)->method_count(); ++m) {
          const auto* method = file->service(s)->method(m);
          if (!method->client_streaming() && !method->server_streaming()) w->methods.push_back(method);
        }
      }
    }
    return w;
  }();
  return *world;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  World& world = TheWorld();
  const google::protobuf::MethodDescriptor* method = world.methods[data[0] % world.methods.size()];
  const std::string& key = world.keys[data[1] % 2];
  std::string bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> request(factory.GetPrototype(method->input_type())->New());
  if (request->ParseFromString(bytes)) {
    if (const auto* field = method->input_type()->FindFieldByName("validate_only")) {
      request->GetReflection()->SetBool(request.get(), field, true);
    }
    // Mutating calls without validate_only change the store for real: keep to those that read.
    else if (!method->name().starts_with("Get") && !method->name().starts_with("List") &&
             !method->name().starts_with("Check") && !method->name().starts_with("BatchCheck") &&
             !method->name().starts_with("Lookup") && !method->name().starts_with("Suggest")) {
      return 0;
    }
    bytes = request->SerializeAsString();
  }
  const std::string full_name = "/" + method->service()->full_name() + "/" + method->name();
  grpc::Status status = habilis::client::CallRaw(world.channel, full_name, bytes, key);
  if (status.ok()) return 0;
  const grpc::StatusCode code = status.error_code();
  if (code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN || code == grpc::StatusCode::DATA_LOSS ||
      code == grpc::StatusCode::UNIMPLEMENTED) {
    std::cerr << full_name << " answered " << code << ": " << status.error_message() << std::endl;
    std::abort();
  }
  if (habilis::client::DetailsOf(status).error_info_count != 1) {
    std::cerr << full_name << " answered without exactly one ErrorInfo: " << status.error_message() << std::endl;
    std::abort();
  }
  return 0;
}
