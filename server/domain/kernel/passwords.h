// Passwords (PWD): how they are hashed, which ones are accepted, how failed logins lock an account.
// docs/SECURITY.md explains the policy and its defaults.
#ifndef HABILIS_SERVER_DOMAIN_KERNEL_PASSWORDS_H_
#define HABILIS_SERVER_DOMAIN_KERNEL_PASSWORDS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace habilis::domain {

struct PasswordPolicy {
  // Shortest password accepted.
  int min_length = 12;
  // Longest password accepted (at least 64, as ASVS asks).
  int max_length = 128;
  // A password is valid this long after it is set (the documents' one year); zero means forever.
  absl::Duration max_age = absl::Hours(24 * 365);
  // Failed logins in a row after which the account locks.
  int lockout_threshold = 5;
  // The first lock lasts this long; each further failure doubles it, up to max_lock.
  absl::Duration first_lock = absl::Minutes(1);
  absl::Duration max_lock = absl::Hours(24);
};

// Argon2id, m = 19 MiB, t = 2, p = 1 (the OWASP ASVS 5.0 minimum), 16-byte random salt, PHC string out.
// Takes tens of milliseconds on purpose: never call it on a gRPC completion thread.
std::string HashPassword(absl::string_view password);

// True if `password` matches the PHC string `hash`.
bool VerifyPassword(absl::string_view password, absl::string_view hash);

// Spends the time of a verification without a stored hash, so that a login for an unknown identifier
// takes as long as one for a known identifier.
void VerifyAgainstNothing(absl::string_view password);

// INVALID_ARGUMENT on `field` when the password is too short or too long (PASSWORD_TOO_SHORT,
// PASSWORD_TOO_LONG), in the list of common passwords, or built on the login (PASSWORD_TOO_COMMON).
[[nodiscard]] absl::Status CheckPasswordStrength(const PasswordPolicy& policy, absl::string_view field,
                                                 absl::string_view password, absl::string_view login_email);

// A strong random password that the policy accepts: 24 characters from OpenSSL's CSPRNG in groups of four.
std::string SuggestPassword();

// How long the account stays locked after `failed_attempts` failures in a row (zero below the threshold).
absl::Duration LockDuration(const PasswordPolicy& policy, int failed_attempts);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_KERNEL_PASSWORDS_H_
