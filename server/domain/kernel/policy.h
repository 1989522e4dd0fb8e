// The login, password, session and link policy, with its defaults. docs/SECURITY.md explains each choice.
#ifndef HABILIS_SERVER_DOMAIN_KERNEL_POLICY_H_
#define HABILIS_SERVER_DOMAIN_KERNEL_POLICY_H_

#include <string>

#include "absl/time/time.h"
#include "server/domain/kernel/passwords.h"

namespace habilis::domain {

struct IdentityPolicy {
  PasswordPolicy passwords;
  // LOGIN-CODE: administrators confirm each login with a code sent by e-mail.
  bool login_code_for_administrators = true;
  absl::Duration login_code_ttl = absl::Minutes(10);
  // Wrong codes before the challenge is spent and the login must start again.
  int login_code_max_tries = 5;
  // A session ends this long after login at the latest.
  absl::Duration session_lifetime = absl::Hours(24 * 30);
  // DEVICES: a session's last use is written at most this often (a write per call would double the cost of
  // every call made with a session; a person's page shows the last use to this precision).
  absl::Duration session_last_use_step = absl::Minutes(5);
  absl::Duration invitation_ttl = absl::Hours(24 * 7);
  absl::Duration activation_ttl = absl::Hours(24 * 7);
  absl::Duration reset_ttl = absl::Hours(1);
  // SECRETS: the link that confirms a new notification e-mail, or a new login e-mail.
  absl::Duration notification_email_ttl = absl::Hours(24);
  // FIRST-LOGIN: the privacy policy in force. An account that accepted another version (or none) must accept
  // this one before anything else. Accounts that consented before versions were recorded accepted "1".
  std::string privacy_policy_version = "1";
  // PWD: the link e-mailed when an account gets locked.
  absl::Duration unlock_ttl = absl::Hours(24);
  // The portal page that opens links: e-mailed links read "<base>/<action>?token=<token>".
  std::string link_base_url = "http://127.0.0.1:8080";
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_KERNEL_POLICY_H_
