// How habilis-loadgen drives calls and measures them: closed and open loops, latency percentiles, and the
// load generator's own CPU (a loader that saturates its core measures itself, not the server).
#ifndef HABILIS_CLIENTS_LOADGEN_MEASURE_H_
#define HABILIS_CLIENTS_LOADGEN_MEASURE_H_

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace habilis::loadgen {

using Clock = std::chrono::steady_clock;

// Issues one call and calls `done(ok)` when it completes; ok: the call succeeded and its answer was right.
using Issue = std::function<void(std::function<void(bool)>)>;

struct Percentiles {
  double p50 = 0, p99 = 0, p999 = 0;  // microseconds
};

// Latencies of completed calls, failures, and the time and loader CPU spent in this mode's slices.
class Recorder {
 public:
  void Record(Clock::duration latency, bool ok);
  // Adds one slice: its wall time, and the CPU time the loader and the server spent during it, in seconds.
  void AddSlice(double seconds, double loader_cpu_seconds, double server_cpu_seconds);

  long calls() const;
  long failures() const;
  double seconds() const;
  double Qps() const;
  // Cores of loader (server) CPU per second of the mode's slices.
  double LoaderCores() const;
  double ServerCores() const;
  // Server CPU microseconds a call: what the server can serve per core, whoever sets the QPS.
  double ServerMicrosPerCall() const;
  Percentiles Latency();

 private:
  mutable std::mutex mu_;
  std::vector<double> micros_;
  long failures_ = 0;
  double seconds_ = 0, loader_cpu_ = 0, server_cpu_ = 0;
};

// The CPU time (user and system) this process has used, in seconds.
double ProcessCpuSeconds();
// The same for another process, from /proc (10 ms resolution); 0 if `pid` is 0 or cannot be read.
double ProcessCpuSeconds(int pid);

// Keeps `concurrency` calls in flight until `duration` has passed; returns the measured duration in seconds.
double ClosedLoop(int concurrency, Clock::duration duration, const Issue& issue, Recorder& recorder);
// Sends at `rate` calls per second on a fixed schedule for `duration`; latency counts from each call's
// scheduled time, so that a slow server cannot hide its queueing. Returns the measured duration in seconds.
double OpenLoop(double rate, Clock::duration duration, const Issue& issue, Recorder& recorder);
// Returns at `when`, give or take a microsecond (a sleeping thread wakes tens of microseconds late here).
void WaitUntil(Clock::time_point when);
// How late a bare thread wakes from a 200 us sleep, with no RPC at all: the floor of any latency here.
void ProbeJitter(std::chrono::seconds duration);

}  // namespace habilis::loadgen

#endif  // HABILIS_CLIENTS_LOADGEN_MEASURE_H_
