// Sends one e-mail to an SMTP relay with libcurl.
#ifndef HABILIS_SERVER_MAIL_SMTP_H_
#define HABILIS_SERVER_MAIL_SMTP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "habilis/internal/records.pb.h"

namespace habilis::mail {

struct SmtpConfig {
  // "smtp://host:port" (or "smtps://..."); empty means no relay: messages wait in the outbox.
  std::string url;
  // The envelope and header sender.
  std::string from = "habilis@localhost";
  // smtp:// only: upgrade with STARTTLS and refuse a relay that does not offer it.
  bool require_starttls = false;
  // The CA (PEM) the relay's certificate must chain to; empty: the system's CAs.
  std::string ca_file;
  // SMTP AUTH, when both are set; sent only over TLS (Config::Validate refuses them on plain text).
  std::string username;
  std::string password;
};

// Reads --smtp-credentials-file: the user name on the first line, the password on the second (so that it never
// appears in a URL, argv or the environment). INVALID_ARGUMENT naming the setting if it cannot be read.
[[nodiscard]] absl::Status ReadSmtpCredentials(const std::string& path, SmtpConfig& config);

// The whole message (headers and base64 body) as sent, for `message`.
std::string FormatMessage(const SmtpConfig& config, const internal::OutboxRecord& message, absl::Time date);

// UNAVAILABLE when the relay cannot be reached or refuses the message.
[[nodiscard]] absl::Status SendSmtp(const SmtpConfig& config, const internal::OutboxRecord& message);

}  // namespace habilis::mail

#endif  // HABILIS_SERVER_MAIL_SMTP_H_
