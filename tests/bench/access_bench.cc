// Google Benchmark of access decisions in process, on a warm store holding the synthetic dataset.
//
//   build/tests/habilis-bench [--benchmark_filter=...]
// The dataset size is HABILIS_BENCH_ACCOUNTS accounts (default 100000), 10 per structure, 3 habilitations each.
#include <cstdlib>
#include <random>

#include "benchmark/benchmark.h"
#include "server/common/clock.h"
#include "server/domain/access/access.h"
#include "server/tools/dataset.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

struct Fixture {
  Fixture() {
    const char* env = std::getenv("HABILIS_BENCH_ACCOUNTS");
    tools::DatasetParams params;
    params.accounts = env != nullptr ? std::atol(env) : 100000;
    params.structures = std::max<int64_t>(1, params.accounts / 10);
    store = std::move(store::RocksDbStore::Open(dir.Sub("db"))).value();
    pairs = std::move(tools::GenerateDataset(*store, params, 10000)).value();
    index = std::move(domain::AccessIndex::Attach(*store)).value();
    access = std::make_unique<domain::Access>(*store, *index, habilis::SystemClock());
  }
  testing::TempDir dir;
  std::unique_ptr<store::Store> store;
  std::vector<tools::GrantedPair> pairs;
  std::unique_ptr<domain::AccessIndex> index;
  std::unique_ptr<domain::Access> access;
};

Fixture& Shared() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

std::string ApplicationOf(const std::string& profile) {
  return profile.substr(std::string("applications/").size(),
                        profile.find("/profiles/") - std::string("applications/").size());
}

void BM_CheckAccess(benchmark::State& state) {
  Fixture& f = Shared();
  size_t i = 0;
  for (auto _ : state) {
    const tools::GrantedPair& pair = f.pairs[i++ % f.pairs.size()];
    v1::CheckAccessRequest request;
    request.set_account(pair.account);
    request.set_profile(pair.profile);
    v1::CheckAccessResponse response;
    if (!f.access->Check(ApplicationOf(pair.profile), request, response).ok() || !response.allowed()) {
      state.SkipWithError("a granted pair was not allowed");
      break;
    }
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckAccess);

void BM_BatchCheck1000(benchmark::State& state) {
  Fixture& f = Shared();
  // One application's pairs: a batch asks about the caller's application only.
  std::vector<tools::GrantedPair> same_app;
  const std::string app = ApplicationOf(f.pairs[0].profile);
  for (const auto& p : f.pairs) {
    if (ApplicationOf(p.profile) == app) same_app.push_back(p);
  }
  v1::BatchCheckRequest request;
  for (int i = 0; i < 1000; ++i) {
    auto* check = request.add_checks();
    check->set_account(same_app[i % same_app.size()].account);
    check->set_profile(same_app[i % same_app.size()].profile);
  }
  for (auto _ : state) {
    v1::BatchCheckResponse response;
    if (!f.access->BatchCheck(app, request, response).ok()) {
      state.SkipWithError("BatchCheck failed");
      break;
    }
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_BatchCheck1000);

}  // namespace
}  // namespace habilis

BENCHMARK_MAIN();
