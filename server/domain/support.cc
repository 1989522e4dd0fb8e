#include "server/domain/support.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

class WallClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

std::string RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    // Without randomness no credential can be made safely: stop rather than continue weakly.
    std::abort();
  }
  return bytes;
}

// A page token is "p2:" + the first 16 bytes of HMAC-SHA256(key, position) + the position, base64url: a list
// refuses a token it did not make (docs/API.md), instead of starting wherever a forged position points.
constexpr absl::string_view kPageTokenPrefix = "p2:";
constexpr size_t kPageTokenMacBytes = 16;

absl::Mutex page_token_key_mu(absl::kConstInit);
std::string* page_token_key ABSL_GUARDED_BY(page_token_key_mu) = nullptr;

std::string PageTokenKey() {
  absl::MutexLock lock(&page_token_key_mu);
  if (page_token_key == nullptr) page_token_key = new std::string(RandomBytes(32));
  return *page_token_key;
}

std::string PageTokenMac(absl::string_view position) {
  const std::string key = PageTokenKey();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(position.data()),
       position.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), kPageTokenMacBytes);
}

}  // namespace

const Clock& SystemClock() {
  static const WallClock clock;
  return clock;
}

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out) {
  int64_t micros = absl::ToUnixMicros(time);
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

std::string FormatDeadline(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", time, absl::UTCTimeZone());
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
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

absl::StatusOr<int> PageSize(int32_t requested) {
  if (requested < 0 || requested > 1000) {
    return InvalidField("page_size", "PAGE_SIZE_OUT_OF_RANGE", "must be between 0 and 1000");
  }
  return requested == 0 ? 100 : requested;
}

void SetPageTokenKey(absl::string_view key) {
  absl::MutexLock lock(&page_token_key_mu);
  delete page_token_key;
  page_token_key = new std::string(key);
}

absl::Status UsePageTokenKeyOf(store::Store& store) {
  const std::string meta = store::MetaKey("page_token_key");
  std::string key;
  RETURN_IF_ERROR(store
                      .Read([&](store::Reader& reader) -> absl::Status {
                        absl::StatusOr<std::string> stored = reader.Get(meta);
                        if (stored.ok()) key = *stored;
                        return absl::IsNotFound(stored.status()) ? absl::OkStatus() : stored.status();
                      })
                      .status());
  if (key.empty()) {
    // First start of this store: one commit makes the key (or finds the one a concurrent start made).
    RETURN_IF_ERROR(store
                        .Update([&](store::Transaction& txn) -> absl::Status {
                          absl::StatusOr<std::string> stored = txn.Get(meta);
                          if (stored.ok()) {
                            key = *stored;
                            return absl::OkStatus();
                          }
                          if (!absl::IsNotFound(stored.status())) return stored.status();
                          key = RandomBytes(32);
                          return txn.Put(meta, key);
                        })
                        .status());
  }
  SetPageTokenKey(key);
  return absl::OkStatus();
}

std::string EncodePageToken(absl::string_view last_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPageTokenPrefix, PageTokenMac(last_id), last_id));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token) {
  if (token.empty()) return std::string();
  std::string decoded;
  if (absl::WebSafeBase64Unescape(token, &decoded) && absl::StartsWith(decoded, kPageTokenPrefix) &&
      decoded.size() >= kPageTokenPrefix.size() + kPageTokenMacBytes) {
    absl::string_view mac = absl::string_view(decoded).substr(kPageTokenPrefix.size(), kPageTokenMacBytes);
    std::string position = decoded.substr(kPageTokenPrefix.size() + kPageTokenMacBytes);
    if (CRYPTO_memcmp(mac.data(), PageTokenMac(position).data(), kPageTokenMacBytes) == 0) return position;
  }
  return InvalidField("page_token", "PAGE_TOKEN_INVALID",
                      "is not a token returned by this list; start again without page_token");
}

absl::Status ReadPage(store::Reader& reader, absl::string_view prefix, int32_t page_size, absl::string_view page_token,
                      absl::FunctionRef<google::protobuf::Message*(absl::string_view id)> add,
                      std::string* next_page_token) {
  absl::StatusOr<int> size = PageSize(page_size);
  if (!size.ok()) return size.status();
  // The token carries the rest of the last key after the prefix, so any key shape pages the same way.
  absl::StatusOr<std::string> after = DecodePageToken(page_token);
  if (!after.ok()) return after.status();
  std::string begin = absl::StrCat(prefix, *after);
  if (!after->empty()) begin.push_back('\0');  // the smallest key after the last one returned
  int count = 0;
  std::string last_suffix;
  absl::Status status = absl::OkStatus();
  absl::Status scan = reader.Scan(begin, store::PrefixEnd(prefix), [&](absl::string_view key, absl::string_view value) {
    if (count == *size) {
      *next_page_token = EncodePageToken(last_suffix);
      return false;
    }
    absl::string_view suffix = key.substr(prefix.size());
    absl::string_view rest = suffix;
    std::optional<std::string> id = store::ConsumeString(&rest);
    if (!id || !add(*id)->ParseFromString(std::string(value))) {
      status = absl::DataLossError("a stored record does not parse");
      return false;
    }
    last_suffix = std::string(suffix);
    ++count;
    return true;
  });
  return scan.ok() ? status : scan;
}

std::string EncodeConsistencyToken(store::Revision revision) {
  std::string raw;
  store::AppendUint64(&raw, revision);
  return absl::WebSafeBase64Escape(raw);
}

}  // namespace habilis::domain
