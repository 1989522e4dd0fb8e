// habilis-loadgen: measures habilisd's CheckAccess against a no-op RPC of the same server (Health/Check).
//
// Closed loop (default): keeps --concurrency calls in flight for --seconds of Health/Check and --seconds of
// CheckAccess, alternating one-second slices of each, and prints QPS, p50 and p99 of each and the ratio of
// their QPS.
// Open loop (--rate R): sends Health/Check, then CheckAccess, at R calls per second on a fixed schedule for
// --seconds each, and prints
// p50 and p99 measured from each call's scheduled time (so a slow server cannot hide its queueing).
// Batches (--batch N): BatchCheck calls of N checks each, closed loop; prints decisions per second.
// --probe-jitter: no RPC; how late a sleeping thread wakes on this machine (the floor of any latency).
//
//   habilis-loadgen --target 127.0.0.1:50051 --key-file KEY --pairs-file PAIRS [--seconds 10]
//                   [--concurrency 64] [--rate 0] [--batch 0]
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "clients/cpp/client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "habilis/v1/access.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Pair {
  std::string account, profile;
};

// Latencies of completed calls, and failures.
class Recorder {
 public:
  void Record(Clock::duration latency, bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    if (ok) {
      micros_.push_back(std::chrono::duration<double, std::micro>(latency).count());
    } else {
      ++errors_;
    }
  }
  void Print(const std::string& name, double seconds, int per_call = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    std::sort(micros_.begin(), micros_.end());
    auto at = [&](double q) { return micros_.empty() ? 0.0 : micros_[static_cast<size_t>(q * (micros_.size() - 1))]; };
    std::cout << name << ": " << micros_.size() << " calls in " << seconds << " s, " << qps(seconds) << " calls/s"
              << (per_call > 1 ? " (" + std::to_string(static_cast<long>(qps(seconds) * per_call)) + " decisions/s)"
                               : "")
              << ", p50 " << at(0.50) << " us, p99 " << at(0.99) << " us, errors " << errors_ << std::endl;
  }
  double qps(double seconds) const { return micros_.size() / seconds; }
  double QpsLocked(double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    return qps(seconds);
  }

 private:
  std::mutex mu_;
  std::vector<double> micros_;
  long errors_ = 0;
};

// Issues one call and calls `done(ok)` when it completes.
using Issue = std::function<void(std::function<void(bool)>)>;

// Keeps `concurrency` calls in flight until `duration` has passed; returns the measured duration in seconds.
double ClosedLoop(int concurrency, std::chrono::seconds duration, const Issue& issue, Recorder& recorder) {
  std::mutex mu;
  std::condition_variable cv;
  int running = concurrency;
  const auto start = Clock::now();
  const auto end = start + duration;
  std::function<void()> next;  // per slot, recursive through the completion callback
  std::vector<std::function<void()>> slots(concurrency);
  for (int s = 0; s < concurrency; ++s) {
    slots[s] = [&, s] {
      const auto sent = Clock::now();
      issue([&, s, sent](bool ok) {
        const auto now = Clock::now();
        recorder.Record(now - sent, ok);
        if (now < end) {
          slots[s]();
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        if (--running == 0) cv.notify_all();
      });
    };
  }
  for (auto& slot : slots) slot();
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return running == 0; });
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Returns at `when`, give or take a microsecond: a thread that sleeps wakes tens of microseconds late on a
// virtual machine (measured: 40-90 us at the median), which the open loop would count as server latency.
// So it sleeps until shortly before, then spins.
void WaitUntil(Clock::time_point when) {
  constexpr auto kSpin = std::chrono::microseconds(150);
  if (Clock::now() < when - kSpin) std::this_thread::sleep_until(when - kSpin);
  while (Clock::now() < when) {
  }
}

// Sends at `rate` calls per second on a fixed schedule; latency counts from the scheduled time.
double OpenLoop(double rate, std::chrono::seconds duration, const Issue& issue, Recorder& recorder) {
  std::atomic<long> outstanding = 0;
  const auto start = Clock::now();
  const long total = static_cast<long>(rate * duration.count());
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  for (long n = 0; n < total; ++n) {
    const auto scheduled = start + std::chrono::duration_cast<Clock::duration>(interval * n);
    WaitUntil(scheduled);
    ++outstanding;
    issue([&, scheduled](bool ok) {
      recorder.Record(Clock::now() - scheduled, ok);
      --outstanding;
    });
  }
  while (outstanding > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Measures how late a bare thread wakes from a 200 us sleep, with no RPC at all: the scheduling floor of the
// machine, which no server latency can go below.
void ProbeJitter(std::chrono::seconds duration) {
  std::vector<double> late;
  long stalls = 0;
  const auto start = Clock::now();
  for (long n = 0; Clock::now() < start + duration; ++n) {
    const auto scheduled = start + std::chrono::microseconds(200) * n;
    std::this_thread::sleep_until(scheduled);
    late.push_back(std::chrono::duration<double, std::micro>(Clock::now() - scheduled).count());
    if (late.back() > 1000) ++stalls;
  }
  std::sort(late.begin(), late.end());
  std::cout << "sleep lateness over " << late.size() << " wake-ups: p50 " << late[late.size() / 2] << " us, p99 "
            << late[late.size() * 99 / 100] << " us, max " << late.back() << " us, " << stalls
            << " wake-ups more than 1 ms late" << std::endl;
}

// The calls a run issues, over several channels, so that the client is not the bottleneck of one HTTP/2
// connection.
class Calls {
 public:
  Calls(const std::vector<std::shared_ptr<grpc::Channel>>& channels, std::string key, std::vector<Pair> pairs)
      : key(std::move(key)), pairs(std::move(pairs)) {
    for (auto& c : channels) {
      health.push_back(grpc::health::v1::Health::NewStub(c));
      access.push_back(habilis::v1::AccessService::NewStub(c));
    }
  }

  // Health/Check: the floor that the transport and the load generator set.
  void Noop(std::function<void(bool)> done) {
    unsigned long n = counter++;
    auto* call = new std::tuple<grpc::ClientContext, grpc::health::v1::HealthCheckRequest,
                                grpc::health::v1::HealthCheckResponse>();
    health[n % health.size()]->async()->Check(
        &std::get<0>(*call), &std::get<1>(*call), &std::get<2>(*call), [call, done](grpc::Status s) {
          static std::atomic<bool> told = false;
          if (!s.ok() && !told.exchange(true)) {
            std::cerr << "first Health/Check error: " << s.error_code() << " " << s.error_message() << std::endl;
          }
          done(s.ok());
          delete call;
        });
  }

  // CheckAccess of the next pair; counts as done only if the answer is "allowed", as every pair is.
  void Check(std::function<void(bool)> done) {
    unsigned long n = counter++;
    auto* call =
        new std::tuple<grpc::ClientContext, habilis::v1::CheckAccessRequest, habilis::v1::CheckAccessResponse>();
    habilis::client::Authorize(std::get<0>(*call), key);
    const Pair& p = pairs[n % pairs.size()];
    std::get<1>(*call).set_account(p.account);
    std::get<1>(*call).set_profile(p.profile);
    access[n % access.size()]->async()->CheckAccess(&std::get<0>(*call), &std::get<1>(*call), &std::get<2>(*call),
                                                    [call, done](grpc::Status s) {
                                                      done(s.ok() && std::get<2>(*call).allowed());
                                                      delete call;
                                                    });
  }

  // BatchCheck of the next `batch` pairs.
  void BatchCheck(int batch, std::function<void(bool)> done) {
    unsigned long n = counter++;
    auto* call = new std::tuple<grpc::ClientContext, habilis::v1::BatchCheckRequest, habilis::v1::BatchCheckResponse>();
    habilis::client::Authorize(std::get<0>(*call), key);
    for (int i = 0; i < batch; ++i) {
      const Pair& p = pairs[(n * batch + i) % pairs.size()];
      auto* c = std::get<1>(*call).add_checks();
      c->set_account(p.account);
      c->set_profile(p.profile);
    }
    access[n % access.size()]->async()->BatchCheck(&std::get<0>(*call), &std::get<1>(*call), &std::get<2>(*call),
                                                   [call, done](grpc::Status s) {
                                                     done(s.ok());
                                                     delete call;
                                                   });
  }

 private:
  std::string key;
  std::vector<Pair> pairs;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health;
  std::vector<std::unique_ptr<habilis::v1::AccessService::Stub>> access;
  std::atomic<unsigned long> counter = 0;
};

// Four channels with distinct arguments (distinct connections), connected before anything is measured.
std::optional<std::vector<std::shared_ptr<grpc::Channel>>> Connect(const std::string& target) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 4; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // distinct arguments: distinct connections
    channels.push_back(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  }
  for (auto& c : channels) {
    // Measure the server, not connection set-up: calls on an unconnected channel fail fast.
    if (!c->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) return std::nullopt;
  }
  return channels;
}

// Alternating slices of one second, so that a change in the machine's speed during the run (other tenants
// of the host) weighs on both RPCs alike instead of on whichever ran at the time.
void CompareClosedLoops(int seconds, int concurrency, const Issue& noop, const Issue& check) {
  Recorder noop_recorder, check_recorder;
  double t_noop = 0, t_check = 0;
  for (int slice = 0; slice < seconds; ++slice) {
    t_noop += ClosedLoop(concurrency, std::chrono::seconds(1), noop, noop_recorder);
    t_check += ClosedLoop(concurrency, std::chrono::seconds(1), check, check_recorder);
  }
  noop_recorder.Print("Health/Check (no-op)", t_noop);
  check_recorder.Print("CheckAccess", t_check);
  std::cout << "CheckAccess QPS / no-op QPS = " << check_recorder.QpsLocked(t_check) / noop_recorder.QpsLocked(t_noop)
            << std::endl;
}

// The no-op at the same rate first: its latencies are the floor the transport and the load generator set.
void CompareOpenLoops(double rate, std::chrono::seconds duration, const Issue& noop, const Issue& check) {
  const std::string at = " at " + std::to_string(static_cast<long>(rate)) + "/s (open loop)";
  Recorder noop_recorder, check_recorder;
  double t_noop = OpenLoop(rate, duration, noop, noop_recorder);
  double t_check = OpenLoop(rate, duration, check, check_recorder);
  noop_recorder.Print("Health/Check (no-op)" + at, t_noop);
  check_recorder.Print("CheckAccess" + at, t_check);
}

}  // namespace

int main(int argc, char** argv) {
  prctl(PR_SET_TIMERSLACK, 1UL);  // timers as precise as the kernel makes them (default slack: 50 us)
  std::string target = "127.0.0.1:50051", key_file, pairs_file;
  int seconds = 10, concurrency = 64, batch = 0;
  double rate = 0;
  CLI::App app{"habilis-loadgen: CheckAccess against a no-op RPC of the same server"};
  app.add_option("--target", target)->capture_default_str();
  app.add_option("--key-file", key_file, "the client application's API key");
  app.add_option("--pairs-file", pairs_file, "'account profile' lines to check");
  app.add_option("--seconds", seconds)->capture_default_str();
  app.add_option("--concurrency", concurrency, "calls in flight (closed loop)")->capture_default_str();
  app.add_option("--rate", rate, "calls per second (open loop); 0 for closed loop")->capture_default_str();
  app.add_option("--batch", batch, "checks per BatchCheck call; 0 for CheckAccess")->capture_default_str();
  bool jitter = false;
  app.add_flag("--probe-jitter", jitter, "only measure how late a sleeping thread wakes (no server needed)");
  CLI11_PARSE(app, argc, argv);
  if (jitter) {
    ProbeJitter(std::chrono::seconds(seconds));
    return 0;
  }

  std::string key;
  std::ifstream(key_file) >> key;
  std::vector<Pair> pairs;
  std::ifstream in(pairs_file);
  for (Pair p; in >> p.account >> p.profile;) pairs.push_back(p);
  if (key.empty() || pairs.empty()) {
    std::cerr << "habilis-loadgen: no key or no pairs" << std::endl;
    return 2;
  }

  auto channels = Connect(target);
  if (!channels) {
    std::cerr << "habilis-loadgen: cannot connect to " << target << std::endl;
    return 1;
  }
  Calls calls(*channels, key, std::move(pairs));
  Issue noop = [&](std::function<void(bool)> done) { calls.Noop(std::move(done)); };
  Issue check = [&](std::function<void(bool)> done) { calls.Check(std::move(done)); };
  const auto duration = std::chrono::seconds(seconds);
  if (batch > 0) {
    Recorder r;
    Issue batch_check = [&](std::function<void(bool)> done) { calls.BatchCheck(batch, std::move(done)); };
    double t = ClosedLoop(concurrency, duration, batch_check, r);
    r.Print("BatchCheck x" + std::to_string(batch), t, batch);
  } else if (rate > 0) {
    CompareOpenLoops(rate, duration, noop, check);
  } else {
    CompareClosedLoops(seconds, concurrency, noop, check);
  }
  return 0;
}
