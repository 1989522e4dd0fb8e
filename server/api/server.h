// habilisd's gRPC server: every service, reflection and health, wired to one store.
#ifndef HABILIS_SERVER_API_SERVER_H_
#define HABILIS_SERVER_API_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/common/clock.h"
#include "server/config.h"
#include "server/domain/kernel/policy.h"
#include "store/store.h"

namespace habilis::api {

// The identity rules' settings (passwords, login codes, links) as the configuration gives them.
domain::IdentityPolicy IdentityPolicyOf(const Config& config);

class Server {
 public:
  // Starts serving on config.listen. `store` and `clock` must outlive the server.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Server>> Start(const Config& config, store::Store& store,
                                                                     const habilis::Clock& clock);
  ~Server();

  // The port actually bound (useful with port 0).
  int port() const;
  // The port of the HTTP/JSON API (--http-listen), 0 if none.
  int http_port() const;
  // The port of the Prometheus endpoint (--metrics-listen), 0 if none.
  int metrics_port() const;
  // Full names of every service the gRPC server registered, reflection's and health's included.
  const std::vector<std::string>& registered_services() const;
  // Stops accepting calls, cancels open streams after a grace period, and waits for handlers to finish.
  void Shutdown();
  // Blocks until Shutdown has completed.
  void Wait();

  struct Parts;

 private:
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_SERVER_H_
