#include "server/domain/kernel/passwords.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/text.h"
#include "server/domain/kernel/common_passwords.h"

namespace habilis::domain {
namespace {

constexpr uint32_t kTimeCost = 2;
constexpr uint32_t kMemoryKiB = 19 * 1024;
constexpr uint32_t kParallelism = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

std::string Random(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) std::abort();
  return bytes;
}

const std::string& NothingHash() {
  static const std::string hash = HashPassword(Random(16));
  return hash;
}

}  // namespace

std::string HashPassword(absl::string_view password) {
  const std::string salt = Random(kSaltBytes);
  std::vector<char> encoded(argon2_encodedlen(kTimeCost, kMemoryKiB, kParallelism, kSaltBytes, kHashBytes, Argon2_id));
  int result = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kParallelism, password.data(), password.size(), salt.data(),
                                     salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (result != ARGON2_OK) std::abort();  // only out of memory gets here
  return std::string(encoded.data());
}

bool VerifyPassword(absl::string_view password, absl::string_view hash) {
  if (hash.empty()) return false;
  std::string encoded(hash);
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void VerifyAgainstNothing(absl::string_view password) { (void)VerifyPassword(password, NothingHash()); }

absl::Status CheckPasswordStrength(const PasswordPolicy& policy, absl::string_view field, absl::string_view password,
                                   absl::string_view login_email) {
  long length = Utf8Length(password);
  if (length < 0) return InvalidField(field, "NOT_UTF8", "must be valid UTF-8");
  if (length < policy.min_length) {
    return InvalidField(field, "PASSWORD_TOO_SHORT",
                        absl::StrCat("must be at least ", policy.min_length, " characters; a passphrase works well"));
  }
  if (length > policy.max_length) {
    return InvalidField(field, "PASSWORD_TOO_LONG", absl::StrCat("must be at most ", policy.max_length, " characters"));
  }
  std::string lowered = absl::AsciiStrToLower(password);
  std::string local_part = absl::AsciiStrToLower(login_email.substr(0, login_email.find('@')));
  bool built_on_login = local_part.size() >= 4 && absl::StrContains(lowered, local_part);
  bool one_character = lowered.find_first_not_of(lowered[0]) == std::string::npos;
  if (built_on_login || one_character || IsCommonPassword(lowered)) {
    return InvalidField(field, "PASSWORD_TOO_COMMON",
                        "is too easy to guess (a common password, or built on the login); choose another");
  }
  return absl::OkStatus();
}

std::string SuggestPassword() {
  // No look-alike characters (0/O, 1/l/I), so that the password can be read aloud and typed.
  static constexpr absl::string_view kAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  constexpr unsigned kUnbiasedLimit = 256 - 256 % kAlphabet.size();
  std::string password;
  int count = 0;
  while (count < 24) {
    unsigned char b = static_cast<unsigned char>(Random(1)[0]);
    if (b >= kUnbiasedLimit) continue;  // rejection sampling: every character equally likely
    if (count > 0 && count % 4 == 0) password.push_back('-');
    password.push_back(kAlphabet[b % kAlphabet.size()]);
    ++count;
  }
  return password;
}

absl::Duration LockDuration(const PasswordPolicy& policy, int failed_attempts) {
  if (failed_attempts < policy.lockout_threshold) return absl::ZeroDuration();
  int doublings = std::min(failed_attempts - policy.lockout_threshold, 30);
  return std::min(policy.first_lock * (int64_t{1} << doublings), policy.max_lock);
}

}  // namespace habilis::domain
