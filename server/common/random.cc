#include "server/common/random.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "absl/strings/escaping.h"

namespace habilis {

std::string RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    // Without randomness no credential can be made safely: stop rather than continue weakly.
    std::abort();
  }
  return bytes;
}

std::string Sha256(absl::string_view data) {
  // Fetched once: OpenSSL 3's one-shot SHA256() looks the algorithm up on every call, and this runs on
  // every call authenticated with an API key.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int length = 0;
  if (kSha256 == nullptr || EVP_Digest(data.data(), data.size(), digest, &length, kSha256, nullptr) != 1 ||
      length != sizeof(digest)) {
    std::abort();  // the default provider is always there; without it nothing can be verified
  }
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

std::string RandomHex(size_t bytes) { return absl::BytesToHexString(RandomBytes(bytes)); }

std::string RandomDigits(int count) {
  std::string digits;
  while (static_cast<int>(digits.size()) < count) {
    unsigned char b = static_cast<unsigned char>(RandomBytes(1)[0]);
    if (b >= 250) continue;  // 250 = 25 * 10: keeps every digit equally likely
    digits.push_back(static_cast<char>('0' + b % 10));
  }
  return digits;
}

std::string RandomBase64Url(size_t bytes) { return absl::WebSafeBase64Escape(RandomBytes(bytes)); }

}  // namespace habilis
