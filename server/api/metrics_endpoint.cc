#include "server/api/metrics_endpoint.h"

#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "server/common/metrics.h"
#include "server/mail/outbox.h"

namespace habilis::api {

// Values that exist only when asked: read from the store and the index at each scrape, so that they cost
// nothing between scrapes and are never stale.
class ScrapedGauges final : public prometheus::Collectable {
 public:
  ScrapedGauges(store::Store& store, const domain::AccessIndex& index) : store_(store), index_(index) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    auto gauge = [&families](const std::string& name, const std::string& help, double value) {
      prometheus::MetricFamily family{name, help, prometheus::MetricType::Gauge, {}};
      family.metric.emplace_back();
      family.metric.back().gauge.value = value;
      families.push_back(std::move(family));
    };
    const store::StoreStatistics statistics = store_.Statistics();
    gauge("habilis_store_disk_bytes", "Bytes of the store's table files and memory tables",
          static_cast<double>(statistics.disk_bytes));
    gauge("habilis_store_live_data_bytes", "Estimated bytes of data still reachable in the store",
          static_cast<double>(statistics.live_data_bytes));
    gauge("habilis_store_pending_compaction_bytes", "Estimated bytes compaction has still to rewrite",
          static_cast<double>(statistics.pending_compaction_bytes));
    gauge("habilis_store_running_compactions", "Compactions running now",
          static_cast<double>(statistics.running_compactions));
    // Read in this order, the lag can only be over-stated, never hidden by a commit between the two reads.
    const store::Revision indexed = index_.revision();
    const store::Revision latest = store_.LatestRevision().value_or(indexed);
    gauge("habilis_store_revision", "Revision of the latest commit", static_cast<double>(latest));
    gauge("habilis_access_index_revision", "Revision the access index has applied", static_cast<double>(indexed));
    gauge("habilis_access_index_lag_revisions", "Commits the access index has not applied yet",
          static_cast<double>(latest > indexed ? latest - indexed : 0));
    gauge("habilis_access_index_accounts", "Accounts held by the access index",
          static_cast<double>(index_.account_count()));
    gauge("habilis_access_index_bytes", "Bytes of the access index's tables",
          static_cast<double>(index_.MemoryBytes()));
    absl::StatusOr<mail::OutboxBacklog> backlog = mail::BacklogOf(store_);
    if (backlog.ok()) {
      gauge("habilis_outbox_messages", "E-mails waiting in the outbox", static_cast<double>(backlog->messages));
      gauge("habilis_outbox_oldest_age_seconds", "Age of the oldest e-mail waiting in the outbox (0 if none)",
            backlog->oldest ? absl::ToDoubleSeconds(absl::Now() - *backlog->oldest) : 0.0);
    } else {
      std::cerr << "habilisd: metrics: the outbox could not be read: " << backlog.status() << std::endl;
    }
    return families;
  }

 private:
  store::Store& store_;
  const domain::AccessIndex& index_;
};

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& listen, store::Store& store,
                                                                        const domain::AccessIndex& index) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->gauges_ = std::make_shared<ScrapedGauges>(store, index);
  try {
    // One thread: scrapes come every few seconds from one or two collectors.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat("--metrics-listen: cannot listen on ", listen, ": ", error.what()));
  }
  endpoint->exposer_->RegisterCollectable(metrics::Registry());
  endpoint->exposer_->RegisterCollectable(endpoint->gauges_);
  std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  endpoint->port_ = ports.empty() ? 0 : ports.front();
  return endpoint;
}

// The exposer stops (and its threads end) before the gauges and what they read go.
MetricsEndpoint::~MetricsEndpoint() { exposer_.reset(); }

}  // namespace habilis::api
