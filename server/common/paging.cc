#include "server/common/paging.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/errors.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis {
namespace {

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

std::optional<store::Revision> DecodeConsistencyToken(absl::string_view token) {
  std::string raw;
  absl::string_view in;
  if (absl::WebSafeBase64Unescape(token, &raw)) in = raw;
  std::optional<uint64_t> revision = store::ConsumeUint64(&in);
  if (!revision || !in.empty()) return std::nullopt;
  return *revision;
}

}  // namespace habilis
