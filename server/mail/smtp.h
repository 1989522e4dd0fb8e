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
};

// The whole message (headers and base64 body) as sent, for `message`.
std::string FormatMessage(const SmtpConfig& config, const internal::OutboxRecord& message, absl::Time date);

// UNAVAILABLE when the relay cannot be reached or refuses the message.
[[nodiscard]] absl::Status SendSmtp(const SmtpConfig& config, const internal::OutboxRecord& message);

}  // namespace habilis::mail

#endif  // HABILIS_SERVER_MAIL_SMTP_H_
