// A real SMTP server (tests/testing/smtp_sink.py, aiosmtpd) started by a test, and the messages it received.
#ifndef HABILIS_TESTS_TESTING_SMTP_SINK_H_
#define HABILIS_TESTS_TESTING_SMTP_SINK_H_

#include <sys/types.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace habilis::testing {

struct ReceivedMail {
  std::string to;
  std::string subject;
  std::string body;
  std::string message_id;
  std::string kind;
  // Set (with message_id) for a message the sink refused with a temporary failure.
  bool refused = false;
};

struct SmtpSinkOptions {
  int refuse_first = 0;  // messages answered with a temporary failure first
  std::string tls_cert;  // with tls_key: STARTTLS required
  std::string tls_key;
  std::string auth_file;  // user name and password lines: that login required (a line of kind "AUTH" per try,
                          // its subject "accepted" or "refused")
};

class SmtpSink {
 public:
  // Starts the sink; `refuse_first` messages get a temporary failure first.
  static absl::StatusOr<std::unique_ptr<SmtpSink>> Start(int refuse_first = 0);
  static absl::StatusOr<std::unique_ptr<SmtpSink>> Start(const SmtpSinkOptions& options);
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  // "smtp://127.0.0.1:PORT".
  std::string url() const;

  // The first received message (refusals included) matching `match`, waiting for it up to `timeout`; the
  // messages read meanwhile stay available to later calls.
  absl::StatusOr<ReceivedMail> Next(const std::function<bool(const ReceivedMail&)>& match,
                                    absl::Duration timeout = absl::Seconds(30));
  // The next delivered message of `kind` to `to`.
  absl::StatusOr<ReceivedMail> NextTo(const std::string& to, const std::string& kind,
                                      absl::Duration timeout = absl::Seconds(30));

 private:
  SmtpSink(pid_t pid, int in_fd, int out_fd) : pid_(pid), in_fd_(in_fd), out_fd_(out_fd) {}
  // Reads one line, waiting until `deadline`.
  absl::StatusOr<std::string> ReadLine(absl::Time deadline);

  pid_t pid_;
  int in_fd_;
  int out_fd_;
  int port_ = 0;
  std::string buffer_;
  std::deque<ReceivedMail> received_;
};

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_TESTING_SMTP_SINK_H_
