#include "clients/loadgen/measure.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace habilis::loadgen {

void Recorder::Record(Clock::duration latency, bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ok) {
    micros_.push_back(std::chrono::duration<double, std::micro>(latency).count());
  } else {
    ++failures_;
  }
}

void Recorder::AddSlice(double seconds, double loader_cpu_seconds, double server_cpu_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  seconds_ += seconds;
  loader_cpu_ += loader_cpu_seconds;
  server_cpu_ += server_cpu_seconds;
}

long Recorder::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<long>(micros_.size());
}
long Recorder::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}
double Recorder::seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seconds_;
}
double Recorder::Qps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seconds_ > 0 ? static_cast<double>(micros_.size()) / seconds_ : 0;
}
double Recorder::LoaderCores() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seconds_ > 0 ? loader_cpu_ / seconds_ : 0;
}
double Recorder::ServerCores() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seconds_ > 0 ? server_cpu_ / seconds_ : 0;
}
double Recorder::ServerMicrosPerCall() const {
  std::lock_guard<std::mutex> lock(mu_);
  return micros_.empty() ? 0 : server_cpu_ * 1e6 / static_cast<double>(micros_.size());
}

Percentiles Recorder::Latency() {
  std::lock_guard<std::mutex> lock(mu_);
  std::sort(micros_.begin(), micros_.end());
  auto at = [&](double q) { return micros_.empty() ? 0.0 : micros_[static_cast<size_t>(q * (micros_.size() - 1))]; };
  return {at(0.50), at(0.99), at(0.999)};
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double ProcessCpuSeconds(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces), from field 3: state ppid ... utime (14) stime (15).
  const size_t after_command = stat.rfind(')');
  if (after_command == std::string::npos) return 0;
  std::istringstream fields(stat.substr(after_command + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n == 14) utime = std::stod(field);
    if (n == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ClosedLoop(int concurrency, Clock::duration duration, const Issue& issue, Recorder& recorder) {
  std::mutex mu;
  std::condition_variable cv;
  int running = concurrency;
  const auto start = Clock::now();
  const auto end = start + duration;
  std::vector<std::function<void()>> slots(concurrency);  // each re-issues itself from its completion
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

void WaitUntil(Clock::time_point when) {
  // Sleeps until shortly before, then spins: a thread that sleeps wakes 40-90 us late on a virtual machine,
  // which the open loop would count as server latency.
  constexpr auto kSpin = std::chrono::microseconds(150);
  if (Clock::now() < when - kSpin) std::this_thread::sleep_until(when - kSpin);
  while (Clock::now() < when) {
  }
}

double OpenLoop(double rate, Clock::duration duration, const Issue& issue, Recorder& recorder) {
  std::atomic<long> outstanding = 0;
  const auto start = Clock::now();
  const long total = static_cast<long>(rate * std::chrono::duration<double>(duration).count());
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

}  // namespace habilis::loadgen
