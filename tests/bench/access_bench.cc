// habilis-bench: access decisions in process (domain::Access on the in-memory index, no gRPC), on the
// synthetic dataset, under the same honest load as habilis-loadgen (server/tools/dataset_truth.h): queries
// drawn over the whole dataset, about half allowed, half of them naming a structure, every answer verified
// against the dataset's truth (a wrong answer exits 1).
//
// It times a pass of single checks and a pass of batches of 1,000. Run under callgrind, it counts the
// instructions of exactly those two passes (the dataset, the drawing and the verification are outside
// them), which does not drift with the machine's noise; tests/bench/count_instructions.sh does that and
// divides (docs/PERFORMANCE.md).
//
//   build/tests/habilis-bench [--accounts 100000] [--queries 200000]
#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>

#include <chrono>
#include <iostream>

#include "CLI/CLI.hpp"
#include "server/common/clock.h"
#include "server/domain/access/access.h"
#include "server/tools/dataset.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Under valgrind the decisions read a clock frozen when the run starts. absl's clock takes its slow path (a
// recalibration against the kernel's) a number of times that depends on real time, which valgrind and the
// machine's load stretch: that alone moved the count by up to 2% a check. Timed natively, the decisions read
// the wall clock, as habilisd's do.
class FrozenClock final : public Clock {
 public:
  absl::Time Now() const override { return now_; }

 private:
  const absl::Time now_ = absl::Now();
};

struct Drawn {
  std::vector<tools::Query> singles;
  std::vector<std::pair<int, v1::BatchCheckRequest>> batches;  // (application, request)
  std::vector<std::vector<tools::ExpectedCheck>> batch_truth;
};

Drawn Draw(const tools::DatasetParams& params, int queries) {
  Drawn drawn;
  tools::QueryDrawer drawer(params, {.zipf_exponent = 0, .seed = 7});
  for (int i = 0; i < queries; ++i) drawn.singles.push_back(drawer.Draw(drawer.DrawApplication(), 0.5));
  for (int b = 0; b < queries / 1000; ++b) {
    const int application = drawer.DrawApplication();
    auto& [app, request] = drawn.batches.emplace_back(application, v1::BatchCheckRequest());
    std::vector<tools::ExpectedCheck>& truth = drawn.batch_truth.emplace_back();
    for (int i = 0; i < 1000; ++i) {
      tools::Query query = drawer.Draw(application, 0.5);
      *request.add_checks() = std::move(query.request);
      truth.push_back(std::move(query.expected));
    }
  }
  return drawn;
}

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "habilis-bench: " << what << std::endl;
  std::exit(1);
}

// One pass of single checks; returns seconds. Answers are kept and verified after the pass.
double SinglePass(const domain::Access& access, const Drawn& drawn, std::vector<v1::CheckAccessResponse>& answers) {
  answers.assign(drawn.singles.size(), v1::CheckAccessResponse());
  const auto start = SteadyClock::now();
  CALLGRIND_ZERO_STATS;
  for (size_t i = 0; i < drawn.singles.size(); ++i) {
    const tools::Query& query = drawn.singles[i];
    if (!access.Check(tools::DatasetApplicationId(query.application), query.request, answers[i]).ok()) {
      Fail("a check failed");
    }
  }
  CALLGRIND_DUMP_STATS_AT("single checks");
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

double BatchPass(const domain::Access& access, const Drawn& drawn, std::vector<v1::BatchCheckResponse>& answers) {
  answers.assign(drawn.batches.size(), v1::BatchCheckResponse());
  // The application ids, made before the pass as the server has them from the caller's key.
  std::vector<std::string> applications;
  for (const auto& [application, request] : drawn.batches)
    applications.push_back(tools::DatasetApplicationId(application));
  const auto start = SteadyClock::now();
  CALLGRIND_ZERO_STATS;
  for (size_t b = 0; b < drawn.batches.size(); ++b) {
    if (!access.BatchCheck(applications[b], drawn.batches[b].second, answers[b]).ok()) Fail("a batch failed");
  }
  CALLGRIND_DUMP_STATS_AT("batches");
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

void Verify(const Drawn& drawn, const std::vector<v1::CheckAccessResponse>& singles,
            const std::vector<v1::BatchCheckResponse>& batches) {
  for (size_t i = 0; i < singles.size(); ++i) {
    if (!tools::AnswersAsExpected(drawn.singles[i].expected, singles[i]))
      Fail("wrong answer: " + drawn.singles[i].request.ShortDebugString());
  }
  for (size_t b = 0; b < batches.size(); ++b) {
    if (batches[b].results_size() != 1000) Fail("a batch answered a different number of checks");
    for (int i = 0; i < 1000; ++i) {
      if (!tools::AnswersAsExpected(drawn.batch_truth[b][i], batches[b].results(i))) Fail("wrong answer in a batch");
    }
  }
}

int Run(int64_t accounts, int queries) {
  tools::DatasetParams params;
  params.accounts = accounts;
  params.structures = std::max<int64_t>(1, accounts / 10);
  testing::TempDir dir;
  std::unique_ptr<store::Store> store = std::move(store::RocksDbStore::Open(dir.Sub("db"))).value();
  if (!tools::GenerateDataset(*store, params, 0).ok()) Fail("writing the dataset");
  std::unique_ptr<domain::AccessIndex> index = std::move(domain::AccessIndex::Attach(*store)).value();
  const FrozenClock frozen;
  const Clock& clock = RUNNING_ON_VALGRIND ? static_cast<const Clock&>(frozen) : SystemClock();
  domain::Access access(*store, *index, clock);
  const Drawn drawn = Draw(params, queries);
  std::vector<v1::CheckAccessResponse> singles;
  std::vector<v1::BatchCheckResponse> batches;
  SinglePass(access, drawn, singles);  // warm-up, verified too
  BatchPass(access, drawn, batches);
  Verify(drawn, singles, batches);
  CALLGRIND_START_INSTRUMENTATION;
  const double single_seconds = SinglePass(access, drawn, singles);
  const double batch_seconds = BatchPass(access, drawn, batches);
  CALLGRIND_STOP_INSTRUMENTATION;
  Verify(drawn, singles, batches);
  long allowed = 0;
  for (const auto& answer : singles) allowed += answer.allowed() ? 1 : 0;
  std::cout << "dataset " << accounts << " accounts; " << drawn.singles.size() << " single checks ("
            << 100.0 * static_cast<double>(allowed) / static_cast<double>(singles.size()) << "% allowed) and "
            << drawn.batches.size() << " batches of 1000, every answer verified\n"
            << "single checks: " << single_seconds * 1e9 / static_cast<double>(drawn.singles.size()) << " ns a check, "
            << static_cast<double>(drawn.singles.size()) / single_seconds << " checks/s on one thread\n"
            << "batches: " << batch_seconds * 1e9 / (1000.0 * static_cast<double>(drawn.batches.size()))
            << " ns a decision, " << 1000.0 * static_cast<double>(drawn.batches.size()) / batch_seconds
            << " decisions/s on one thread" << std::endl;
  return 0;
}

}  // namespace
}  // namespace habilis

int main(int argc, char** argv) {
  int64_t accounts = 100000;
  int queries = 200000;
  CLI::App app{"habilis-bench: access decisions in process, verified"};
  app.add_option("--accounts", accounts, "accounts in the dataset (10 per structure)")->capture_default_str();
  app.add_option("--queries", queries, "single checks, and as many decisions in batches of 1000")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return habilis::Run(accounts, queries);
}
