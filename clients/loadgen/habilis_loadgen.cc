// habilis-loadgen: measures habilisd's access API under an honest load, against two no-ops.
//
// The load is drawn over the whole synthetic dataset habilis-dataset wrote (server/tools/dataset_truth.h):
// accounts uniformly or Zipf-skewed, about half the checks allowed and half denied for every reason the
// dataset holds, and every answer (each decision of a batch, each entitlement of a list) is verified against
// the dataset's truth. One wrong answer or failed call fails the run (exit 1).
//
// Modes, run in interleaved one-second slices so that the machine's drift weighs on all alike:
//   bare             Health/Check of a bare gRPC server (habilis-noop-server, --bare-target): the transport
//   health           Health/Check of habilisd: the transport and habilisd's own per-call work
//   check            CheckAccess without a structure
//   check-structure  CheckAccess naming a structure
//   batch            BatchCheck of --batch checks, half naming a structure
//   list             ListEntitlements
// Closed loop (default) keeps --concurrency calls in flight (--batch-concurrency for batches); --rate R sends
// R calls a second on a fixed schedule and measures latency from each call's scheduled time. --write-rate W
// commits W grants and revokes a second (operator key) on accounts the checks never draw, for the whole run.
//
//   habilis-loadgen --target 127.0.0.1:50051 [--bare-target 127.0.0.1:50052] --keys-file KEYS
//                   --accounts 1000000 --structures 100000 [--seconds 10] [--rate 0] [--write-rate 0]
//                   [--zipf 0] [--modes bare,health,check,...]
#include <sys/prctl.h>

#include <iomanip>
#include <iostream>
#include <map>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "clients/loadgen/calls.h"
#include "clients/loadgen/measure.h"

namespace habilis::loadgen {
namespace {

struct Options {
  std::string target = "127.0.0.1:50051", bare_target, keys_file, modes;
  tools::DatasetParams params;
  int seconds = 10, concurrency = 32, batch = 1000, batch_concurrency = 4, connections = 4;
  double rate = 0, write_rate = 0, zipf = 0;
  uint64_t seed = 1;
  int server_pid = 0, bare_pid = 0;  // whose CPU to sample per slice
};

struct Mode {
  std::string name;
  int pid;  // the server that answers this mode
  Issue issue;
  int concurrency;
  int decisions_per_call;
  Recorder recorder;
};

// The modes asked for, in the order given.
std::vector<std::unique_ptr<Mode>> MakeModes(const Options& options, Calls& calls) {
  std::string names = options.modes;
  if (names.empty()) {
    names = options.bare_target.empty() ? "health" : "bare,health";
    names += options.rate > 0 ? ",check,check-structure" : ",check,check-structure,batch,list";
  }
  std::vector<std::unique_ptr<Mode>> modes;
  for (const std::string& name : std::vector<std::string>(absl::StrSplit(names, ','))) {
    auto mode = std::make_unique<Mode>();
    mode->name = name;
    mode->concurrency = options.concurrency;
    mode->decisions_per_call = 1;
    mode->pid = name == "bare" ? options.bare_pid : options.server_pid;
    if (name == "bare") {
      mode->issue = [&calls](auto done) { calls.BareNoop(std::move(done)); };
    } else if (name == "health") {
      mode->issue = [&calls](auto done) { calls.Health(std::move(done)); };
    } else if (name == "check") {
      mode->issue = [&calls](auto done) { calls.Check(0, std::move(done)); };
    } else if (name == "check-structure") {
      mode->issue = [&calls](auto done) { calls.Check(1, std::move(done)); };
    } else if (name == "batch") {
      mode->issue = [&calls, size = options.batch](auto done) { calls.Batch(size, std::move(done)); };
      mode->concurrency = options.batch_concurrency;
      mode->decisions_per_call = options.batch;
    } else if (name == "list") {
      mode->issue = [&calls](auto done) { calls.List(std::move(done)); };
    } else {
      std::cerr << "habilis-loadgen: unknown mode " << name << std::endl;
      return {};
    }
    modes.push_back(std::move(mode));
  }
  return modes;
}

void RunSlices(const Options& options, std::vector<std::unique_ptr<Mode>>& modes) {
  for (int slice = 0; slice < options.seconds; ++slice) {
    for (auto& mode : modes) {
      const double loader = ProcessCpuSeconds();
      const double server = ProcessCpuSeconds(mode->pid);
      const double seconds = options.rate > 0
                                 ? OpenLoop(options.rate, std::chrono::seconds(1), mode->issue, mode->recorder)
                                 : ClosedLoop(mode->concurrency, std::chrono::seconds(1), mode->issue, mode->recorder);
      mode->recorder.AddSlice(seconds, ProcessCpuSeconds() - loader, ProcessCpuSeconds(mode->pid) - server);
    }
  }
}

void PrintMode(Mode& mode) {
  const Percentiles latency = mode.recorder.Latency();
  const double qps = mode.recorder.Qps();
  std::cout << std::left << std::setw(16) << mode.name << std::right << std::fixed << std::setprecision(0)
            << std::setw(8) << qps << " calls/s";
  if (mode.decisions_per_call > 1) std::cout << " (" << qps * mode.decisions_per_call << " verified decisions/s)";
  std::cout << std::setprecision(3) << "  p50 " << latency.p50 / 1000 << " ms  p99 " << latency.p99 / 1000
            << " ms  p99.9 " << latency.p999 / 1000 << " ms  loader " << std::setprecision(2)
            << mode.recorder.LoaderCores() << " cores (" << std::setprecision(1)
            << (qps > 0 ? mode.recorder.LoaderCores() * 1e6 / qps : 0) << " us a call)";
  if (mode.pid > 0) {
    std::cout << std::setprecision(2) << "  server " << mode.recorder.ServerCores() << " cores ("
              << std::setprecision(1) << mode.recorder.ServerMicrosPerCall() / mode.decisions_per_call
              << (mode.decisions_per_call > 1 ? " us a decision)" : " us a call)");
  }
  std::cout << "  " << mode.recorder.calls() << " calls, " << mode.recorder.failures() << " failed or wrong"
            << std::endl;
}

// QPS ratios, and capacity ratios: the server CPU a no-op call takes over the CPU a measured call takes,
// which is the ratio of their QPS on a saturated server core whatever the loader can send.
void PrintRatios(std::vector<std::unique_ptr<Mode>>& modes) {
  std::map<std::string, Mode*> by_name;
  for (auto& mode : modes) by_name[mode->name] = mode.get();
  for (const char* base : {"bare", "health"}) {
    if (by_name.count(base) == 0 || by_name[base]->recorder.Qps() <= 0) continue;
    const Recorder& noop = by_name[base]->recorder;
    for (const char* measured : {"check", "check-structure", "list"}) {
      if (by_name.count(measured) == 0) continue;
      const Recorder& call = by_name[measured]->recorder;
      std::cout << measured << " / " << base << ": QPS " << std::setprecision(3) << call.Qps() / noop.Qps();
      if (call.ServerMicrosPerCall() > 0) {
        std::cout << ", capacity (server CPU a call) " << noop.ServerMicrosPerCall() / call.ServerMicrosPerCall();
      }
      std::cout << std::endl;
    }
  }
}

// Prints the report; returns the exit code (1 if anything was wrong or failed).
int Report(const Options& options, std::vector<std::unique_ptr<Mode>>& modes, const Verifier& verifier, Writer* writer,
           double elapsed) {
  std::cout << "dataset " << options.params.accounts << " accounts, " << options.params.structures
            << " structures; accounts drawn " << (options.zipf > 0 ? "Zipf-skewed" : "uniformly")
            << (options.rate > 0 ? ", open loop at " + std::to_string(static_cast<long>(options.rate)) + "/s"
                                 : ", closed loop")
            << std::endl;
  for (auto& mode : modes) PrintMode(*mode);
  if (options.rate <= 0) PrintRatios(modes);  // an open loop sends every mode at the same rate
  std::cout << std::setprecision(1) << "checks answered allowed: " << verifier.AllowedShare() * 100 << "%" << std::endl;
  if (writer != nullptr) {
    const Percentiles latency = writer->recorder().Latency();
    std::cout << "writes: " << writer->recorder().calls() << " committed (" << std::setprecision(0)
              << static_cast<double>(writer->recorder().calls()) / elapsed << "/s), p50 " << std::setprecision(2)
              << latency.p50 / 1000 << " ms, p99 " << latency.p99 / 1000 << " ms, " << writer->recorder().failures()
              << " failed" << std::endl;
  }
  std::cout << "verification: " << verifier.wrong() << " wrong answers, " << verifier.failed() << " failed calls"
            << std::endl;
  for (const std::string& example : verifier.Examples()) std::cout << "  " << example << std::endl;
  return verifier.wrong() == 0 && verifier.failed() == 0 ? 0 : 1;
}

int Run(const Options& options) {
  std::optional<Keys> keys = ReadKeys(options.keys_file, options.params.applications);
  if (!keys) {
    std::cerr << "habilis-loadgen: " << options.keys_file << " lacks the operator's or an application's key"
              << std::endl;
    return 2;
  }
  auto server = Connect(options.target, options.connections);
  std::optional<std::vector<std::shared_ptr<grpc::Channel>>> bare;
  if (!options.bare_target.empty()) bare = Connect(options.bare_target, options.connections);
  if (!server || (!options.bare_target.empty() && !bare)) {
    std::cerr << "habilis-loadgen: cannot connect" << std::endl;
    return 1;
  }
  Verifier verifier;
  Calls calls(*server, bare.value_or(std::vector<std::shared_ptr<grpc::Channel>>{}), options.params, *keys,
              {.zipf_exponent = options.zipf, .seed = options.seed}, verifier);
  std::vector<std::unique_ptr<Mode>> modes = MakeModes(options, calls);
  if (modes.empty()) return 2;
  const auto start = Clock::now();
  std::unique_ptr<Writer> writer;
  if (options.write_rate > 0) {
    writer = std::make_unique<Writer>(*server, options.params, keys->operator_key, options.write_rate, verifier);
  }
  RunSlices(options, modes);
  if (writer) writer->Stop();
  return Report(options, modes, verifier, writer.get(), std::chrono::duration<double>(Clock::now() - start).count());
}

}  // namespace
}  // namespace habilis::loadgen

int main(int argc, char** argv) {
  prctl(PR_SET_TIMERSLACK, 1UL);  // timers as precise as the kernel makes them (default slack: 50 us)
  habilis::loadgen::Options options;
  CLI::App app{"habilis-loadgen: the access API under an honest, verified load"};
  app.add_option("--target", options.target, "habilisd")->capture_default_str();
  app.add_option("--bare-target", options.bare_target, "habilis-noop-server, for the 'bare' mode");
  app.add_option("--keys-file", options.keys_file, "the keys habilis-dataset wrote");
  app.add_option("--accounts", options.params.accounts, "as given to habilis-dataset")->capture_default_str();
  app.add_option("--structures", options.params.structures, "as given to habilis-dataset")->capture_default_str();
  app.add_option("--seconds", options.seconds, "one-second slices of each mode")->capture_default_str();
  app.add_option("--concurrency", options.concurrency, "calls in flight (closed loop)")->capture_default_str();
  app.add_option("--batch", options.batch, "checks per BatchCheck call")->capture_default_str();
  app.add_option("--batch-concurrency", options.batch_concurrency, "BatchCheck calls in flight")->capture_default_str();
  app.add_option("--connections", options.connections, "HTTP/2 connections to each server")->capture_default_str();
  app.add_option("--rate", options.rate, "calls per second (open loop); 0 for closed loop")->capture_default_str();
  app.add_option("--write-rate", options.write_rate, "grants and revokes per second during the run")
      ->capture_default_str();
  app.add_option("--zipf", options.zipf, "Zipf exponent of the account draw; 0 for uniform")->capture_default_str();
  app.add_option("--modes", options.modes, "comma-separated: bare,health,check,check-structure,batch,list");
  app.add_option("--seed", options.seed)->capture_default_str();
  app.add_option("--server-pid", options.server_pid, "habilisd's pid: report its CPU per call");
  app.add_option("--bare-pid", options.bare_pid, "habilis-noop-server's pid: report its CPU per call");
  bool jitter = false;
  app.add_flag("--probe-jitter", jitter, "only measure how late a sleeping thread wakes (no server needed)");
  CLI11_PARSE(app, argc, argv);
  if (jitter) {
    habilis::loadgen::ProbeJitter(std::chrono::seconds(options.seconds));
    return 0;
  }
  return habilis::loadgen::Run(options);
}
