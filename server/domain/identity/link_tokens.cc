#include "server/domain/identity/link_tokens.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "server/domain/kernel/records.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

constexpr absl::string_view kPrefix = "hbl_";
constexpr size_t kIdHex = 16;

}  // namespace

absl::StatusOr<std::string> IssueLinkToken(store::Transaction& txn, absl::Time now, absl::Duration ttl,
                                           internal::LinkTokenRecord record) {
  const std::string id = RandomHex(kIdHex / 2);
  const std::string secret = RandomBase64Url(16);
  record.set_secret_sha256(Sha256(secret));
  SetTimestamp(now + ttl, record.mutable_expire_time());
  RETURN_IF_ERROR(StoreRecord(txn, store::LinkTokenKey(id), record));
  return absl::StrCat(kPrefix, id, "_", secret);
}

absl::StatusOr<internal::LinkTokenRecord> ReadLinkToken(store::Reader& reader, absl::Time now, absl::string_view token,
                                                        std::initializer_list<LinkKind> kinds, absl::string_view field,
                                                        std::string* id) {
  absl::Status invalid = InvalidField(field, "LINK_INVALID", "is not a valid link; ask for a new one");
  if (!absl::StartsWith(token, kPrefix) || token.size() < kPrefix.size() + kIdHex + 2 ||
      token[kPrefix.size() + kIdHex] != '_') {
    return invalid;
  }
  *id = std::string(token.substr(kPrefix.size(), kIdHex));
  const std::string secret_hash = Sha256(token.substr(kPrefix.size() + kIdHex + 1));
  internal::LinkTokenRecord record;
  absl::Status loaded = LoadRecord(reader, store::LinkTokenKey(*id), record, "LINK_INVALID", "");
  if (absl::IsNotFound(loaded)) return invalid;
  RETURN_IF_ERROR(loaded);
  bool kind_ok = std::find(kinds.begin(), kinds.end(), record.kind()) != kinds.end();
  if (!kind_ok || record.secret_sha256().size() != secret_hash.size() ||
      CRYPTO_memcmp(record.secret_sha256().data(), secret_hash.data(), secret_hash.size()) != 0) {
    return invalid;
  }
  if (record.has_use_time()) {
    return Error(absl::StatusCode::kFailedPrecondition, "LINK_ALREADY_USED",
                 "this link was already used; ask for a new one");
  }
  if (FromTimestamp(record.expire_time()) <= now) {
    return Error(absl::StatusCode::kFailedPrecondition, "LINK_EXPIRED", "this link has expired; ask for a new one");
  }
  return record;
}

absl::Status SpendLinkToken(store::Transaction& txn, absl::Time now, const std::string& id,
                            internal::LinkTokenRecord record) {
  SetTimestamp(now, record.mutable_use_time());
  return StoreRecord(txn, store::LinkTokenKey(id), record);
}

std::string LinkUrl(absl::string_view base, absl::string_view action, absl::string_view token) {
  return absl::StrCat(base, "/", action, "?token=", token);
}

}  // namespace habilis::domain
