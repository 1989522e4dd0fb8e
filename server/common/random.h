// Randomness and digests from OpenSSL: the material of every secret habilis makes.
#ifndef HABILIS_SERVER_COMMON_RANDOM_H_
#define HABILIS_SERVER_COMMON_RANDOM_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace habilis {

// `count` random bytes from OpenSSL's CSPRNG; aborts if it has none (no credential can be made safely).
std::string RandomBytes(size_t count);
// `bytes` random bytes from OpenSSL's CSPRNG, hex-encoded.
std::string RandomHex(size_t bytes);
// `count` random decimal digits from OpenSSL's CSPRNG (a one-time code).
std::string RandomDigits(int count);
// `bytes` random bytes from OpenSSL's CSPRNG, base64url-encoded without padding.
std::string RandomBase64Url(size_t bytes);

// The SHA-256 digest of `data`, 32 raw bytes.
std::string Sha256(absl::string_view data);

}  // namespace habilis

#endif  // HABILIS_SERVER_COMMON_RANDOM_H_
