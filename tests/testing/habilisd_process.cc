#include "tests/testing/habilisd_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace habilis::testing {
namespace {

// Forks and execs `program` with `args`, its stdout on a pipe (and its stderr in `stderr_file`, if given;
// `stdin_text` on its standard input, else /dev/null); returns the pid and the read end.
std::pair<pid_t, int> Spawn(const std::string& program, const std::vector<std::string>& args,
                            const std::string& stderr_file = "", const std::map<std::string, std::string>& env = {},
                            const std::string& stdin_text = "") {
  int fds[2];
  int in[2];
  if (pipe2(fds, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) std::abort();
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(in[0], STDIN_FILENO);
    close(in[0]);
    close(in[1]);
    if (!stderr_file.empty()) {
      int err = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (err >= 0) dup2(err, STDERR_FILENO);
    }
    close(fds[0]);
    close(fds[1]);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::string path = program;
    std::vector<char*> argv;
    argv.push_back(path.data());
    std::vector<std::string> copy = args;
    for (std::string& arg : copy) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  close(in[0]);
  // Small inputs (a password, a few lines) fit in the pipe's buffer: written at once, then closed (end of file).
  if (!stdin_text.empty() && write(in[1], stdin_text.data(), stdin_text.size()) < 0) std::abort();
  close(in[1]);
  return {pid, fds[0]};
}

}  // namespace

std::string HabilisdPath() { return HABILISD_PATH; }

RunResult RunHabilisd(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  return RunProgram(HabilisdPath(), args, env);
}

RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env, const std::string& stdin_text) {
  char err_path[] = "/tmp/habilis-stderr-XXXXXX";
  const int err_fd = mkstemp(err_path);
  if (err_fd >= 0) close(err_fd);
  auto [pid, fd] = Spawn(program, args, err_fd >= 0 ? err_path : "", env, stdin_text);
  RunResult result;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) result.out.append(buffer, n);
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (err_fd >= 0) {
    std::ifstream err(err_path);
    result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
    unlink(err_path);
  }
  return result;
}

absl::StatusOr<std::unique_ptr<HabilisdProcess>> HabilisdProcess::Start(const std::string& data_dir,
                                                                        const std::vector<std::string>& extra_args,
                                                                        const std::string& stderr_file,
                                                                        absl::Duration ready_within) {
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--data-dir", data_dir};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto [pid, fd] = Spawn(HabilisdPath(), args, stderr_file);
  std::unique_ptr<HabilisdProcess> process(new HabilisdProcess(pid, fd));

  static const std::regex kListening("listening on (127\\.0\\.0\\.1:[0-9]+)");
  auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(ready_within);
  char buffer[4096];
  while (true) {
    std::smatch match;
    if (std::regex_search(process->banner_, match, kListening)) {
      process->target_ = match[1];
      return process;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return absl::DeadlineExceededError(
          absl::StrCat("habilisd did not report its port in ", absl::FormatDuration(ready_within)));
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("habilisd exited before listening (", process->Wait(), "): ", process->banner_));
    }
    process->banner_.append(buffer, n);
  }
}

HabilisdProcess::~HabilisdProcess() {
  // A server that does not stop cleanly fails the test: under the sanitizers, that is where leaks show.
  if (pid_ > 0) {
    const int code = Terminate();
    if (code != 0) ADD_FAILURE() << "habilisd exited with " << code << " on SIGTERM (see its stderr)";
  }
  if (out_fd_ >= 0) close(out_fd_);
}

void HabilisdProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Wait();
}

int HabilisdProcess::Terminate() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  return Wait();
}

int HabilisdProcess::Wait() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

}  // namespace habilis::testing
