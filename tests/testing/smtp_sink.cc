#include "tests/testing/smtp_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace habilis::testing {
namespace {

std::string Field(const google::protobuf::Struct& line, const std::string& name) {
  auto it = line.fields().find(name);
  return it == line.fields().end() ? "" : it->second.string_value();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SmtpSink>> SmtpSink::Start(int refuse_first) {
  return Start(SmtpSinkOptions{.refuse_first = refuse_first});
}

absl::StatusOr<std::unique_ptr<SmtpSink>> SmtpSink::Start(const SmtpSinkOptions& options) {
  int to_child[2], from_child[2];
  // Close-on-exec: a process the test starts later (a PostgreSQL server) must not keep the sink's input open,
  // or the sink never sees it close and never stops. dup2 below clears the flag on the child's own ends.
  if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
    return absl::InternalError("pipe failed");
  }
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    close(to_child[1]);
    close(from_child[0]);
    std::vector<std::string> args = {"python3", SMTP_SINK_PATH, "--refuse-first", std::to_string(options.refuse_first)};
    if (!options.tls_cert.empty()) {
      args.insert(args.end(), {"--tls-cert", options.tls_cert, "--tls-key", options.tls_key});
    }
    if (!options.auth_file.empty()) args.insert(args.end(), {"--auth-file", options.auth_file});
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv("/usr/bin/python3", argv.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  std::unique_ptr<SmtpSink> sink(new SmtpSink(pid, to_child[1], from_child[0]));
  absl::StatusOr<std::string> ready = sink->ReadLine(absl::Now() + absl::Seconds(30));
  if (!ready.ok()) return ready.status();
  google::protobuf::Struct line;
  if (!google::protobuf::util::JsonStringToMessage(*ready, &line).ok() || !line.fields().contains("ready")) {
    return absl::InternalError(absl::StrCat("the SMTP sink said: ", *ready));
  }
  sink->port_ = static_cast<int>(line.fields().at("ready").number_value());
  return sink;
}

SmtpSink::~SmtpSink() {
  close(in_fd_);  // the sink stops when its input closes
  int status = 0;
  waitpid(pid_, &status, 0);
  close(out_fd_);
}

std::string SmtpSink::url() const { return absl::StrCat("smtp://127.0.0.1:", port_); }

absl::StatusOr<std::string> SmtpSink::ReadLine(absl::Time deadline) {
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    int left_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (left_ms <= 0) return absl::DeadlineExceededError("no message from the SMTP sink in time");
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, left_ms) <= 0) continue;
    char chunk[8192];
    ssize_t n = read(out_fd_, chunk, sizeof(chunk));
    if (n <= 0) return absl::UnavailableError("the SMTP sink stopped");
    buffer_.append(chunk, n);
  }
}

absl::StatusOr<ReceivedMail> SmtpSink::Next(const std::function<bool(const ReceivedMail&)>& match,
                                            absl::Duration timeout) {
  for (auto it = received_.begin(); it != received_.end(); ++it) {
    if (match(*it)) {
      ReceivedMail mail = *it;
      received_.erase(it);
      return mail;
    }
  }
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::string> text = ReadLine(deadline);
    if (!text.ok()) return text.status();
    google::protobuf::Struct line;
    if (!google::protobuf::util::JsonStringToMessage(*text, &line).ok()) continue;
    ReceivedMail mail;
    if (line.fields().contains("auth")) {
      mail.kind = "AUTH";
      mail.subject = Field(line, "auth");
    } else if (line.fields().contains("refused")) {
      mail.refused = true;
      mail.message_id = Field(line, "refused");
    } else {
      mail = {Field(line, "to"),         Field(line, "subject"), Field(line, "body"),
              Field(line, "message_id"), Field(line, "kind"),    false};
    }
    if (match(mail)) return mail;
    received_.push_back(std::move(mail));
  }
}

absl::StatusOr<ReceivedMail> SmtpSink::NextTo(const std::string& to, const std::string& kind, absl::Duration timeout) {
  return Next([&](const ReceivedMail& m) { return !m.refused && m.to == to && m.kind == kind; }, timeout);
}

}  // namespace habilis::testing
