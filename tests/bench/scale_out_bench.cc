// habilis-scale-bench: the numbers of docs/SCALE-OUT.md. A program, not a test: it starts a throwaway
// PostgreSQL 15 cluster and real habilisd nodes, and prints what it measured. Every answer it times is checked;
// a wrong one ends the run with exit code 1.
//
//   build/tests/habilis-scale-bench [--accounts 100000] [--seconds 10] [--samples 300]
//       [--stages checks,writes,join,delay] [--backends rocksdb,postgresql]
//
// - start-up (always): writes the synthetic dataset (server/tools/dataset.h) into each backend, then starts a node on
// it:
//   the time until it listens (its access index loaded), and its resident memory.
// - checks: habilis-loadgen against each node in turn (CheckAccess against the node's own Health, closed
//   loop), with pairs spread over the whole dataset; twice per backend, interleaved.
// - writes: 1, 4 and 16 writers, each calling GrantHabilitation in a loop for --seconds on accounts no other
//   call touches (each grant changes the account's profile of one application); grants per second and
//   latency. Afterwards every grant is checked with its own token: the new profile must be allowed.
// - join (PostgreSQL): a second node started on the store the first one uses (a node joining a cluster).
// - delay (PostgreSQL): a second node B polling the feed every 10 ms (the default). A grant, then a revoke,
//   on A; B is asked without a token until its answer changes: the time from A's acknowledgement to B's new
//   answer. Then an API key revoked on A: the time until B refuses it. And a check on B carrying A's token.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "clients/cpp/client.h"
#include "habilis/v1/access.grpc.pb.h"
#include "habilis/v1/api_keys.grpc.pb.h"
#include "habilis/v1/entitlements.grpc.pb.h"
#include "server/common/clock.h"
#include "server/domain/entitlements/api_keys.h"
#include "server/domain/kernel/resource_names.h"
#include "server/tools/dataset.h"
#include "store/postgres/postgres_store.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/habilisd_process.h"
#include "tests/testing/postgres_cluster.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  int64_t accounts = 100000;
  int seconds = 10;
  int samples = 300;
  std::set<std::string> stages;
  std::vector<std::string> backends;
};

// A wrong answer or a broken run: unwinds to main, which stops the nodes and the cluster and exits 1.
struct BenchFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void Fail(const std::string& what) { throw BenchFailure(what); }

double Micros(SteadyClock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// "p50 … p99 … max …" of `micros`, in milliseconds.
std::string Percentiles(std::vector<double> micros) {
  if (micros.empty()) return "no sample";
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[std::min(micros.size() - 1, static_cast<size_t>(q * micros.size()))]; };
  return absl::StrFormat("p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d samples)", at(0.50) / 1000, at(0.99) / 1000,
                         micros.back() / 1000, micros.size());
}

std::string ResidentMegabytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return absl::StrFormat("%.0f MB", std::atof(line.substr(6).c_str()) / 1024);
    }
  }
  return "?";
}

// The dataset's parameters for `accounts` accounts: 10 per structure, 3 habilitations each.
tools::DatasetParams ParamsFor(int64_t accounts) {
  tools::DatasetParams params;
  params.accounts = accounts;
  params.structures = std::max<int64_t>(1, accounts / 10);
  return params;
}

// One backend: its store's URL or directory, the keys written with its dataset, its node.
struct Backend {
  std::string name;
  std::string store;     // the --store value
  std::string data_dir;  // the node's data directory
  std::string operator_key;
  std::map<std::string, std::string> app_keys;  // "applications/app-N" -> a key of it (it checks its profiles)
  std::vector<tools::GrantedPair> app0_pairs;   // allowed pairs of app-0 (the key-revocation stage)

  // The key that may check `profile` (applications/{app}/profiles/{profile}).
  const std::string& KeyFor(const std::string& profile) const {
    auto key = app_keys.find(profile.substr(0, profile.find("/profiles/")));
    if (key == app_keys.end()) Fail("no key for " + profile);
    return key->second;
  }
  std::vector<tools::GrantedPair> pairs;
  std::unique_ptr<testing::HabilisdProcess> node;
};

absl::StatusOr<std::unique_ptr<store::Store>> OpenStore(const std::string& spec) {
  if (spec.rfind("postgresql://", 0) == 0) {
    store::PostgresOptions options;
    options.url = spec;
    return store::PostgresStore::Open(options);
  }
  return store::RocksDbStore::Open(spec.substr(std::string("rocksdb:").size()));
}

// Writes the dataset and the keys into the backend's store (the store is closed before a node opens it).
void Fill(Backend& backend, int64_t accounts) {
  absl::StatusOr<std::unique_ptr<store::Store>> store = OpenStore(backend.store);
  if (!store.ok()) Fail(absl::StrCat("opening ", backend.store, ": ", store.status().ToString()));
  const SteadyClock::time_point start = SteadyClock::now();
  absl::StatusOr<std::vector<tools::GrantedPair>> pairs = tools::GenerateDataset(**store, ParamsFor(accounts), 100000);
  if (!pairs.ok()) Fail(absl::StrCat("the dataset: ", pairs.status().ToString()));
  backend.pairs = *std::move(pairs);
  for (const tools::GrantedPair& pair : backend.pairs) {
    if (pair.profile.rfind("applications/app-0/", 0) == 0) backend.app0_pairs.push_back(pair);
  }
  domain::ApiKeys keys(**store, SystemClock());
  absl::StatusOr<std::string> op_key = keys.CreateFirstOperatorKey("scale bench");
  absl::StatusOr<authz::Principal> op = op_key.ok() ? keys.Authenticate(*op_key) : op_key.status();
  if (!op.ok()) Fail("creating the operator key");
  backend.operator_key = *op_key;
  for (int a = 0; a < ParamsFor(accounts).applications; ++a) {
    const std::string application = domain::ApplicationName(tools::DatasetApplicationId(a));
    v1::CreateApiKeyRequest request;
    request.mutable_api_key()->set_display_name("scale bench");
    request.mutable_api_key()->set_application(application);
    v1::CreateApiKeyResponse response;
    if (!keys.Create(*op, request, response).ok()) Fail("creating the application keys");
    backend.app_keys[application] = response.secret();
  }
  std::cout << backend.name << ": dataset of " << accounts << " accounts written in "
            << absl::StrFormat("%.1f s", Micros(SteadyClock::now() - start) / 1e6) << std::endl;
}

std::unique_ptr<testing::HabilisdProcess> StartNode(const Backend& backend, const std::string& data_dir,
                                                    const std::string& outbox_key) {
  const SteadyClock::time_point start = SteadyClock::now();
  auto node = testing::HabilisdProcess::Start(
      data_dir, {"--store", backend.store, "--outbox-key-file", outbox_key, "--store-connections", "32"},
      data_dir + ".log", absl::Minutes(10));
  if (!node.ok()) Fail(absl::StrCat("starting a node on ", backend.name, ": ", node.status().ToString()));
  std::cout << backend.name << ": node ready (listening, index loaded) in "
            << absl::StrFormat("%.2f s", Micros(SteadyClock::now() - start) / 1e6) << ", resident "
            << ResidentMegabytes((*node)->pid()) << std::endl;
  return *std::move(node);
}

std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  client::Authorize(*context, bearer);
  return context;
}

// Account i of the dataset, its structure, and the profile a grant gives it: the next profile of the
// application of its first habilitation (from the dataset's ground truth), so that the grant changes it.
struct GrantTarget {
  std::string structure, account, application, profile;
  std::string replaced;  // the profile the dataset gave, which the grant replaces
};
GrantTarget TargetFor(const tools::DatasetParams& params, int64_t i) {
  const tools::GrantedPair held = tools::DatasetGrant(params, i, 0);  // applications/app-N/profiles/profil-P
  const std::string marker = "/profiles/profil-";
  const size_t cut = held.profile.find(marker);
  if (cut == std::string::npos) Fail("an unexpected profile name: " + held.profile);
  GrantTarget target{tools::DatasetStructureOf(params, i), held.account, held.profile.substr(0, cut), "", held.profile};
  const int next = (std::atoi(held.profile.c_str() + cut + marker.size()) + 1) % params.profiles_per_application;
  target.profile = absl::StrCat(target.application, marker, next);
  return target;
}

// The next account from `*next_account` on that can be granted anything (tools::ConditionOf: usable).
int64_t NextUsable(std::atomic<int64_t>& next_account) {
  for (;;) {
    const int64_t i = next_account.fetch_add(1);
    if (tools::ConditionOf(i) == tools::AccountCondition::kUsable) return i;
  }
}

struct Grant {
  GrantTarget target;
  std::string token;
};

v1::GrantHabilitationRequest GrantRequestOf(const GrantTarget& target) {
  v1::GrantHabilitationRequest request;
  request.set_structure(target.structure);
  request.set_account(target.account);
  request.set_profile(target.profile);
  return request;
}

// Each grant checked with its own token: the granted profile allowed, the one it replaced denied.
void VerifyGrants(const Backend& backend, v1::AccessService::Stub& access, const std::vector<Grant>& grants) {
  int wrong = 0;
  std::string first_wrong;
  for (const Grant& grant : grants) {
    for (const auto& [profile, expected] : {std::pair{grant.target.profile, true}, {grant.target.replaced, false}}) {
      v1::CheckAccessRequest check;
      check.set_account(grant.target.account);
      check.set_profile(profile);
      check.set_consistency_token(grant.token);
      v1::CheckAccessResponse answer;
      grpc::Status status = access.CheckAccess(As(backend.KeyFor(profile)).get(), check, &answer);
      if (status.ok() && answer.allowed() == expected) continue;
      if (wrong++ == 0) {
        first_wrong = absl::StrCat(grant.target.account, " ", profile, ": ", status.error_message(), " ",
                                   v1::AccessReason_Name(answer.reason()));
      }
    }
  }
  if (wrong > 0) Fail(absl::StrCat(wrong, " wrong answers after the grants, the first: ", first_wrong));
}

// `writers` threads granting for `seconds`, from account `*next_account` on; every grant checked afterwards.
void MeasureWrites(Backend& backend, const tools::DatasetParams& params, int writers, int seconds,
                   std::atomic<int64_t>& next_account) {
  auto channel = client::Connect(backend.node->target());
  auto entitlements = v1::EntitlementService::NewStub(channel);
  auto access = v1::AccessService::NewStub(channel);
  std::mutex mu;
  std::vector<Grant> grants;
  std::vector<double> latencies;
  std::atomic<int> errors{0};
  const SteadyClock::time_point end = SteadyClock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      while (SteadyClock::now() < end) {
        const int64_t i = NextUsable(next_account);
        if (i >= params.accounts) {
          ++errors;  // the dataset has too few accounts for this run
          return;
        }
        const GrantTarget target = TargetFor(params, i);
        const v1::GrantHabilitationRequest request = GrantRequestOf(target);
        v1::GrantHabilitationResponse response;
        const SteadyClock::time_point start = SteadyClock::now();
        grpc::Status status = entitlements->GrantHabilitation(As(backend.operator_key).get(), request, &response);
        const double micros = Micros(SteadyClock::now() - start);
        std::lock_guard<std::mutex> lock(mu);
        if (!status.ok()) {
          std::cerr << "grant: " << status.error_message() << std::endl;
          ++errors;
          continue;
        }
        latencies.push_back(micros);
        grants.push_back({target, response.consistency_token()});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (errors > 0)
    Fail(absl::StrCat(errors.load(), " grants failed (or the dataset ran out of accounts: give more --accounts)"));
  VerifyGrants(backend, *access, grants);
  std::cout << backend.name << ": " << writers
            << " writer(s): " << absl::StrFormat("%.0f grants/s", static_cast<double>(grants.size()) / seconds) << " ("
            << grants.size() << " in " << seconds << " s, each verified), latency " << Percentiles(latencies)
            << std::endl;
}

// Asks `node` without a token until the answer for (account, profile) is `allowed`; the time it took.
double UntilSeen(v1::AccessService::Stub& access, const Backend& backend, const GrantTarget& target, bool allowed,
                 SteadyClock::time_point since) {
  while (true) {
    v1::CheckAccessRequest check;
    check.set_account(target.account);
    check.set_profile(target.profile);
    v1::CheckAccessResponse answer;
    grpc::Status status = access.CheckAccess(As(backend.KeyFor(target.profile)).get(), check, &answer);
    if (!status.ok()) Fail("CheckAccess on B: " + status.error_message());
    if (answer.allowed() == allowed) return Micros(SteadyClock::now() - since);
    if (SteadyClock::now() - since > std::chrono::seconds(5)) Fail("node B did not see A's write within 5 s");
  }
}

// An API key used on B (so B has it in its cache), revoked on A: the time from A's acknowledgement until B
// refuses it.
void MeasureKeyRevocation(const Backend& backend, const testing::HabilisdProcess& b, int samples) {
  auto keys_a = v1::ApiKeyService::NewStub(client::Connect(backend.node->target()));
  auto access_b = v1::AccessService::NewStub(client::Connect(b.target()));
  const tools::GrantedPair& pair = backend.app0_pairs.back();  // untouched by the other stages
  std::vector<double> refused;
  for (int k = 0; k < samples; ++k) {
    v1::CreateApiKeyRequest create;
    create.mutable_api_key()->set_display_name("revoked");
    create.mutable_api_key()->set_application("applications/app-0");
    v1::CreateApiKeyResponse key;
    if (!keys_a->CreateApiKey(As(backend.operator_key).get(), create, &key).ok()) Fail("creating a key on A");
    v1::CheckAccessRequest check;
    check.set_account(pair.account);
    check.set_profile(pair.profile);
    check.set_consistency_token(key.consistency_token());
    v1::CheckAccessResponse answer;
    if (!access_b->CheckAccess(As(key.secret()).get(), check, &answer).ok() || !answer.allowed()) {
      Fail("the new key was not accepted on B");
    }
    // Once B has applied the key's creation from the feed (which drops the key from its cache), the key is
    // verified once more: B now holds it in memory, and only the feed can tell it of the revocation.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    check.clear_consistency_token();
    if (!access_b->CheckAccess(As(key.secret()).get(), check, &answer).ok() || !answer.allowed()) {
      Fail("the new key was not accepted on B");
    }
    v1::RevokeApiKeyRequest revoke;
    revoke.set_name(key.api_key().name());
    v1::RevokeApiKeyResponse revoked;
    if (!keys_a->RevokeApiKey(As(backend.operator_key).get(), revoke, &revoked).ok()) Fail("revoking on A");
    const SteadyClock::time_point acknowledged = SteadyClock::now();
    while (true) {
      grpc::Status status = access_b->CheckAccess(As(key.secret()).get(), check, &answer);
      if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) break;
      if (!status.ok()) Fail("CheckAccess with a revoked key on B: " + status.error_message());
      if (SteadyClock::now() - acknowledged > std::chrono::seconds(5)) Fail("B kept a revoked key 5 s");
    }
    refused.push_back(Micros(SteadyClock::now() - acknowledged));
  }
  std::cout << backend.name << ": an API key revoked on A refused on B after: " << Percentiles(refused) << std::endl;
}

void MeasureDelay(Backend& backend, const tools::DatasetParams& params, int samples, const std::string& outbox_key,
                  const std::string& dir_b, std::atomic<int64_t>& next_account) {
  std::unique_ptr<testing::HabilisdProcess> b = StartNode(backend, dir_b, outbox_key);
  auto on_a = client::Connect(backend.node->target());
  auto on_b = client::Connect(b->target());
  auto entitlements_a = v1::EntitlementService::NewStub(on_a);
  auto access_b = v1::AccessService::NewStub(on_b);
  auto grant_on_a = [&](const GrantTarget& target) {
    v1::GrantHabilitationResponse granted;
    if (!entitlements_a->GrantHabilitation(As(backend.operator_key).get(), GrantRequestOf(target), &granted).ok()) {
      Fail("grant on A");
    }
    return granted.consistency_token();
  };
  std::vector<double> grant_seen, revoke_seen, with_token;
  for (int k = 0; k < samples; ++k) {
    const GrantTarget target = TargetFor(params, NextUsable(next_account));
    grant_on_a(target);
    grant_seen.push_back(UntilSeen(*access_b, backend, target, true, SteadyClock::now()));

    v1::RevokeHabilitationRequest revoke;
    revoke.set_structure(target.structure);
    revoke.set_account(target.account);
    revoke.set_application(target.application);
    v1::RevokeHabilitationResponse revoked;
    if (!entitlements_a->RevokeHabilitation(As(backend.operator_key).get(), revoke, &revoked).ok()) Fail("revoke");
    revoke_seen.push_back(UntilSeen(*access_b, backend, target, false, SteadyClock::now()));

    // Granted again, then asked on B at once with the grant's token: B catches up before it answers.
    v1::CheckAccessRequest check;
    check.set_account(target.account);
    check.set_profile(target.profile);
    check.set_consistency_token(grant_on_a(target));
    const SteadyClock::time_point acknowledged = SteadyClock::now();
    v1::CheckAccessResponse answer;
    if (!access_b->CheckAccess(As(backend.KeyFor(target.profile)).get(), check, &answer).ok() || !answer.allowed()) {
      Fail("a check on B carrying the grant's token was not allowed");
    }
    with_token.push_back(Micros(SteadyClock::now() - acknowledged));
  }
  std::cout << backend.name << ": a grant on A seen on B without a token: " << Percentiles(grant_seen) << "\n"
            << backend.name << ": a revoke on A seen on B without a token: " << Percentiles(revoke_seen) << "\n"
            << backend.name
            << ": a check on B carrying the grant's token, answered (allowed) in: " << Percentiles(with_token)
            << std::endl;
  MeasureKeyRevocation(backend, *b, samples / 10);
}

// habilis-loadgen against `backend`'s node: CheckAccess against the node's Health, closed loop, drawn over
// the whole dataset and verified against its truth.
void MeasureChecks(const Backend& backend, const std::string& dir, int64_t accounts, int seconds) {
  const std::string keys_file = dir + "/" + backend.name + ".keys";
  std::ofstream keys(keys_file);
  keys << "operator " << backend.operator_key << "\n";
  for (const auto& [application, key] : backend.app_keys) {
    keys << application.substr(std::string("applications/").size()) << " " << key << "\n";
  }
  keys.close();
  chmod(keys_file.c_str(), 0600);
  const tools::DatasetParams params = ParamsFor(accounts);
  testing::RunResult run = testing::RunProgram(
      HABILIS_LOADGEN_PATH, {"--target", backend.node->target(), "--keys-file", keys_file, "--accounts",
                             std::to_string(params.accounts), "--structures", std::to_string(params.structures),
                             "--modes", "health,check", "--seconds", std::to_string(seconds)});
  if (run.exit_code != 0) Fail("habilis-loadgen: " + run.err + run.out);
  std::cout << backend.name << ": habilis-loadgen:\n" << run.out << std::flush;
}

// A backend's store with the dataset, and a node on it.
void SetUp(Backend& backend, testing::TempDir& dir, std::unique_ptr<testing::PostgresCluster>& cluster,
           int64_t accounts) {
  backend.data_dir = dir.Sub(backend.name + "-a");
  if (backend.name == "rocksdb") {
    backend.store = "rocksdb:" + dir.Sub("rocksdb-store");
  } else if (backend.name == "postgresql") {
    auto started = testing::PostgresCluster::Start();
    if (!started.ok()) Fail(started.status().ToString());
    cluster = *std::move(started);
    auto url = cluster->CreateDatabase("habilis");
    if (!url.ok()) Fail(url.status().ToString());
    backend.store = *url;
  } else {
    Fail("unknown backend " + backend.name);
  }
  Fill(backend, accounts);
  backend.node = StartNode(backend, backend.data_dir, dir.Sub(backend.name + "-outbox.key"));
}

int Run(const Options& options) {
  testing::TempDir dir;
  std::unique_ptr<testing::PostgresCluster> cluster;
  std::vector<Backend> backends(options.backends.size());
  for (size_t b = 0; b < backends.size(); ++b) {
    backends[b].name = options.backends[b];
    SetUp(backends[b], dir, cluster, options.accounts);
  }
  const tools::DatasetParams params = ParamsFor(options.accounts);
  // Checks first: they verify answers against the dataset as written, which the writes change.
  for (int round = 0; options.stages.count("checks") != 0 && round < 2; ++round) {
    for (const Backend& backend : backends) MeasureChecks(backend, dir.path(), options.accounts, options.seconds);
  }
  std::map<std::string, std::atomic<int64_t>> next_account;
  for (int writers : {1, 4, 16}) {
    if (options.stages.count("writes") == 0) break;
    for (Backend& backend : backends) {
      MeasureWrites(backend, params, writers, options.seconds, next_account[backend.name]);
    }
  }
  for (Backend& backend : backends) {
    if (options.stages.count("join") == 0 || backend.name != "postgresql") continue;
    StartNode(backend, dir.Sub("postgresql-joining"), dir.Sub("postgresql-outbox.key"))->Terminate();
  }
  for (Backend& backend : backends) {
    if (options.stages.count("delay") == 0 || backend.name != "postgresql") continue;
    MeasureDelay(backend, params, options.samples, dir.Sub("postgresql-outbox.key"), dir.Sub("postgresql-b"),
                 next_account[backend.name]);
  }
  for (Backend& backend : backends) {
    if (backend.node->Terminate() != 0) Fail(backend.name + ": the node did not stop cleanly");
  }
  return 0;
}

}  // namespace
}  // namespace habilis

int main(int argc, char** argv) {
  habilis::Options options;
  std::string stages = "checks,writes,join,delay";
  std::string backends = "rocksdb,postgresql";
  CLI::App app{"habilis-scale-bench: the numbers of docs/SCALE-OUT.md"};
  app.add_option("--accounts", options.accounts, "accounts in the dataset")->capture_default_str();
  app.add_option("--seconds", options.seconds, "length of each timed run")->capture_default_str();
  app.add_option("--samples", options.samples, "grant/revoke pairs timed between two nodes")->capture_default_str();
  app.add_option("--stages", stages, "checks, writes, join, delay (the start-up is always measured)")
      ->capture_default_str();
  app.add_option("--backends", backends, "rocksdb, postgresql")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (absl::string_view stage : absl::StrSplit(stages, ',', absl::SkipEmpty())) options.stages.emplace(stage);
  for (absl::string_view backend : absl::StrSplit(backends, ',', absl::SkipEmpty())) {
    options.backends.emplace_back(backend);
  }
  try {
    return habilis::Run(options);
  } catch (const habilis::BenchFailure& failure) {
    std::cerr << "FAILED: " << failure.what() << std::endl;
    return 1;
  }
}
