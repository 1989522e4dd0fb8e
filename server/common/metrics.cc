#include "server/common/metrics.h"

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace habilis::metrics {
namespace {

// From 100 µs (an access check) to 10 s (a CSV import's batch, a slow relay).
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

prometheus::Family<prometheus::Histogram>& CallDurations() {
  static auto* family = &prometheus::BuildHistogram()
                             .Name("habilis_rpc_duration_seconds")
                             .Help(
                                 "RPCs served, by method and gRPC status code: count and latency from receipt "
                                 "to answer")
                             .Register(*Registry());
  return *family;
}

}  // namespace

std::shared_ptr<prometheus::Registry> Registry() {
  static auto* registry = new std::shared_ptr<prometheus::Registry>(std::make_shared<prometheus::Registry>());
  return *registry;
}

void MethodSeries::Record(absl::StatusCode code, absl::Duration latency) {
  int index = static_cast<int>(code);
  if (index < 0 || index >= 17) {
    code = absl::StatusCode::kUnknown;
    index = static_cast<int>(code);
  }
  prometheus::Histogram* histogram = by_code_[index].load(std::memory_order_acquire);
  if (histogram == nullptr) {
    // Family::Add returns the existing histogram for labels already added, so two threads racing here
    // store the same pointer.
    histogram = &CallDurations().Add({{"method", method_}, {"code", absl::StatusCodeToString(code)}}, LatencyBuckets());
    by_code_[index].store(histogram, std::memory_order_release);
  }
  histogram->Observe(absl::ToDoubleSeconds(latency));
}

MethodSeries& SeriesOf(absl::string_view method) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* series = new absl::flat_hash_map<std::string, std::unique_ptr<MethodSeries>>();
  absl::MutexLock lock(&mu);
  std::unique_ptr<MethodSeries>& found = (*series)[method];
  if (found == nullptr) found = std::make_unique<MethodSeries>(method);
  return *found;
}

IndexedCounters::IndexedCounters(const std::string& name, const std::string& help,
                                 const std::vector<Labels>& label_sets) {
  auto& family = prometheus::BuildCounter().Name(name).Help(help).Register(*Registry());
  for (const Labels& labels : label_sets) {
    counters_.push_back(&family.Add(std::map<std::string, std::string>(labels.begin(), labels.end())));
  }
}

void IndexedCounters::Increment(size_t index) {
  if (index < counters_.size()) counters_[index]->Increment();
}

}  // namespace habilis::metrics
