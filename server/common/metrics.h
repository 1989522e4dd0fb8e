// The process's metrics, in Prometheus' model (docs/OPERATIONS.md "Metrics"): what every call costs and how it
// ended, and what the access checks decided. Values read at scrape time (store, outbox, index) are collected by
// server/api/metrics_endpoint.h.
//
// Labels are bounded by construction: a method name comes from the service definitions, a code from the 17
// gRPC codes, a reason from the AccessReason enum. Nothing a caller sends becomes a label.
#ifndef HABILIS_SERVER_COMMON_METRICS_H_
#define HABILIS_SERVER_COMMON_METRICS_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
}  // namespace prometheus

namespace habilis::metrics {

// The registry the metrics of this file live in; shared by every server of the process.
std::shared_ptr<prometheus::Registry> Registry();

// The series of one RPC method, one histogram per status code, made on first use.
class MethodSeries {
 public:
  explicit MethodSeries(absl::string_view method) : method_(method) {}
  // Counts one finished call and its latency (habilis_rpc_duration_seconds{method,code}).
  void Record(absl::StatusCode code, absl::Duration latency);

 private:
  const std::string method_;
  std::array<std::atomic<prometheus::Histogram*>, 17> by_code_{};
};

// The series of `method`, made once per method and kept for the life of the process.
MethodSeries& SeriesOf(absl::string_view method);

// Counters of one family told apart by a small, fixed set of label sets, chosen by index: for example the
// access decisions by reason. Made once, at start-up; incrementing takes no lock.
class IndexedCounters {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  IndexedCounters(const std::string& name, const std::string& help, const std::vector<Labels>& label_sets);
  // Adds one to the counter of `index`; an index out of range is ignored.
  void Increment(size_t index);

 private:
  std::vector<prometheus::Counter*> counters_;
};

}  // namespace habilis::metrics

#endif  // HABILIS_SERVER_COMMON_METRICS_H_
