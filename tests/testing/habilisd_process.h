// Starts the real habilisd binary as a child process on a loopback port, for integration tests.
#ifndef HABILIS_TESTS_TESTING_HABILISD_PROCESS_H_
#define HABILIS_TESTS_TESTING_HABILISD_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace habilis::testing {

// The path of the habilisd binary under test (set by the build).
std::string HabilisdPath();

struct RunResult {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs habilisd with `args` (and `env` added to its environment) to completion.
RunResult RunHabilisd(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});
// Runs any program the same way (an absolute path), with `stdin_text` on its standard input.
RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env = {}, const std::string& stdin_text = "");

class HabilisdProcess {
 public:
  // Starts `habilisd --listen 127.0.0.1:0 --data-dir <data_dir> <extra_args>` and returns once it
  // reports the port it listens on (or fails after `ready_within`). With `stderr_file`, its log goes there.
  static absl::StatusOr<std::unique_ptr<HabilisdProcess>> Start(const std::string& data_dir,
                                                                const std::vector<std::string>& extra_args = {},
                                                                const std::string& stderr_file = "",
                                                                absl::Duration ready_within = absl::Seconds(30));
  // Stops the process (SIGTERM) if it still runs.
  ~HabilisdProcess();
  HabilisdProcess(const HabilisdProcess&) = delete;
  HabilisdProcess& operator=(const HabilisdProcess&) = delete;

  // "127.0.0.1:PORT".
  const std::string& target() const { return target_; }
  pid_t pid() const { return pid_; }
  // What the process printed up to and including its "listening on" line.
  const std::string& banner() const { return banner_; }
  // SIGKILL: no shutdown code runs.
  void Kill9();
  // SIGTERM, then waits; returns the exit code.
  int Terminate();

 private:
  HabilisdProcess(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  int Wait();

  pid_t pid_;
  int out_fd_;
  std::string target_;
  std::string banner_;
};

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_TESTING_HABILISD_PROCESS_H_
