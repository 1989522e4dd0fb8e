// The Prometheus endpoint (--metrics-listen, GET /metrics): the registry of server/common/metrics.h, and the
// values read when scraped: store size and compaction, outbox depth and age, the access index's revision lag.
#ifndef HABILIS_SERVER_API_METRICS_ENDPOINT_H_
#define HABILIS_SERVER_API_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/domain/access/access_index.h"
#include "store/store.h"

namespace prometheus {
class Exposer;
}

namespace habilis::api {

class MetricsEndpoint {
 public:
  // Serves on `listen` (HOST:PORT, port 0 picks one). `store` and `index` must outlive the endpoint.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& listen,
                                                                              store::Store& store,
                                                                              const domain::AccessIndex& index);
  ~MetricsEndpoint();
  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;
  std::shared_ptr<class ScrapedGauges> gauges_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_METRICS_ENDPOINT_H_
