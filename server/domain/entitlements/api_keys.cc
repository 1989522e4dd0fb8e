#include "server/domain/entitlements/api_keys.h"

#include <openssl/crypto.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "habilis/internal/records.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/commands/audit_log.h"
#include "server/domain/commands/mutation.h"
#include "server/domain/kernel/existence.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

constexpr absl::string_view kKeyPrefix = "hbk_";
constexpr size_t kKeyIdHexLength = 16;

struct ParsedKey {
  absl::string_view id;
  absl::string_view secret;
};

std::optional<ParsedKey> ParseKey(absl::string_view bearer) {
  if (!absl::StartsWith(bearer, kKeyPrefix)) return std::nullopt;
  bearer.remove_prefix(kKeyPrefix.size());
  if (bearer.size() < kKeyIdHexLength + 2 || bearer[kKeyIdHexLength] != '_') return std::nullopt;
  return ParsedKey{bearer.substr(0, kKeyIdHexLength), bearer.substr(kKeyIdHexLength + 1)};
}

absl::Status InvalidCredentials() {
  return Error(absl::StatusCode::kUnauthenticated, "CREDENTIALS_INVALID",
               "the bearer credential is not valid; check the key or log in again");
}

// A new key record for `api_key` (holder and display name set); returns the full bearer key.
std::string MintKey(v1::ApiKey api_key, absl::Time now, internal::ApiKeyRecord& record) {
  const std::string id = RandomHex(kKeyIdHexLength / 2);
  const std::string secret = RandomBase64Url(32);
  api_key.set_name(ApiKeyName(id));
  SetTimestamp(now, api_key.mutable_create_time());
  *record.mutable_api_key() = std::move(api_key);
  record.set_secret_sha256(Sha256(secret));
  return absl::StrCat(kKeyPrefix, id, "_", secret);
}

std::string KeyIdOf(const v1::ApiKey& api_key) { return ParseApiKeyName(api_key.name()).value_or(""); }

bool ActiveOperatorKey(const v1::ApiKey& key) { return key.operator_() && !key.has_revoke_time(); }

// Keys that authenticate operators, still active.
absl::StatusOr<int> CountActiveOperatorKeys(store::Reader& reader) {
  int count = 0;
  absl::Status parse_status;
  RETURN_IF_ERROR(store::ScanPrefix(reader, store::ApiKeyPrefix(), [&](absl::string_view, absl::string_view value) {
    internal::ApiKeyRecord record;
    if (!record.ParseFromString(std::string(value))) {
      parse_status = absl::DataLossError("a stored api key does not parse");
      return false;
    }
    if (ActiveOperatorKey(record.api_key())) ++count;
    return true;
  }));
  RETURN_IF_ERROR(parse_status);
  return count;
}

// Read and written by every change to the set of active operator keys, so two concurrent revocations
// cannot both see another active key.
const std::string& OperatorKeysGuard() {
  static const std::string key = store::MetaKey("operator_keys_guard");
  return key;
}

}  // namespace

bool ApiKeys::LooksLikeApiKey(absl::string_view bearer) { return absl::StartsWith(bearer, kKeyPrefix); }

absl::StatusOr<store::Revision> ApiKeys::Create(const authz::Principal& caller, const v1::CreateApiKeyRequest& request,
                                                v1::CreateApiKeyResponse& response) {
  const v1::ApiKey& in = request.api_key();
  FieldViolations violations;
  CheckText(violations, "api_key.display_name", in.display_name(), 200, true);
  std::optional<std::string> application_id;
  switch (in.holder_case()) {
    case v1::ApiKey::kOperator:
      if (!in.operator_()) violations.Add("api_key.operator", "HOLDER_REQUIRED", "set operator to true");
      break;
    case v1::ApiKey::kApplication:
      application_id = ParseApplicationName(in.application());
      if (!application_id) violations.Add("api_key.application", "NAME_FORMAT", "must be applications/{application}");
      break;
    case v1::ApiKey::HOLDER_NOT_SET:
      violations.Add("api_key", "HOLDER_REQUIRED", "set either operator: true or application");
      break;
  }
  RETURN_IF_ERROR(violations.ToStatus());

  v1::ApiKey api_key;
  api_key.set_display_name(NormalizeSpaces(in.display_name()));
  if (application_id) {
    api_key.set_application(in.application());
  } else {
    api_key.set_operator_(true);
  }
  internal::ApiKeyRecord record;
  const std::string secret = MintKey(api_key, clock_.Now(), record);

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       if (application_id) {
                         RETURN_IF_ERROR(ApplicationMustExist(txn, *application_id));
                       } else {
                         RETURN_IF_ERROR(TouchGuard(txn, OperatorKeysGuard()));
                       }
                       RETURN_IF_ERROR(StoreRecord(txn, store::ApiKeyKey(KeyIdOf(record.api_key())), record));
                       *response.mutable_api_key() = record.api_key();
                       // A dry run shows no usable secret: none was stored.
                       if (!request.validate_only()) response.set_secret(secret);
                       return absl::OkStatus();
                     });
}

absl::Status ApiKeys::List(const v1::ListApiKeysRequest& request, v1::ListApiKeysResponse& response) {
  std::vector<internal::ApiKeyRecord> records;
  ASSIGN_OR_RETURN(store::Revision revision, store_.Read([&](store::Reader& reader) {
    return ReadPage(
        reader, store::ApiKeyPrefix(), request.page_size(), request.page_token(),
        [&](absl::string_view) { return &records.emplace_back(); }, response.mutable_next_page_token());
  }));
  (void)revision;
  for (internal::ApiKeyRecord& record : records) *response.add_api_keys() = std::move(*record.mutable_api_key());
  return absl::OkStatus();
}

absl::StatusOr<store::Revision> ApiKeys::Revoke(const authz::Principal& caller, const v1::RevokeApiKeyRequest& request,
                                                v1::RevokeApiKeyResponse& response) {
  std::optional<std::string> id = ParseApiKeyName(request.name());
  if (!id) return InvalidField("name", "NAME_FORMAT", "must be apiKeys/{key} with the 16-hex-digit key id");
  // The commit reaches OnCommit before Update returns: the next call with this key is refused.
  return RevokeInStore(caller, *id, request, response);
}

ApiKeys::ApiKeys(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {
  observing_ = store_.Observe(*this, [](store::Reader&, store::Revision) { return absl::OkStatus(); }).ok();
}

ApiKeys::~ApiKeys() {
  if (observing_) store_.StopObserving(*this);
}

void ApiKeys::OnCommit(store::Revision, absl::Span<const store::Change> changes) {
  const std::string prefix = store::ApiKeyPrefix();
  for (const store::Change& change : changes) {
    if (!absl::StartsWith(change.key, prefix)) continue;
    absl::MutexLock lock(&cache_mu_);
    cache_.erase(store::LastComponent(change.key, prefix));
    ++cache_generation_;
  }
}

absl::StatusOr<store::Revision> ApiKeys::RevokeInStore(const authz::Principal& caller, const std::string& key_id,
                                                       const v1::RevokeApiKeyRequest& request,
                                                       v1::RevokeApiKeyResponse& response) {
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       internal::ApiKeyRecord record;
                       RETURN_IF_ERROR(LoadRecord(txn, store::ApiKeyKey(key_id), record, "API_KEY_NOT_FOUND",
                                                  absl::StrCat("api key ", key_id, " does not exist")));
                       if (ActiveOperatorKey(record.api_key())) {
                         RETURN_IF_ERROR(TouchGuard(txn, OperatorKeysGuard()));
                         ASSIGN_OR_RETURN(int active, CountActiveOperatorKeys(txn));
                         if (active <= 1) {
                           return Error(absl::StatusCode::kFailedPrecondition, "LAST_OPERATOR_KEY",
                                        "this is the last active operator key; create another one first");
                         }
                       }
                       if (!record.api_key().has_revoke_time()) {
                         SetTimestamp(clock_.Now(), record.mutable_api_key()->mutable_revoke_time());
                         RETURN_IF_ERROR(StoreRecord(txn, store::ApiKeyKey(key_id), record));
                       }
                       *response.mutable_api_key() = record.api_key();
                       return absl::OkStatus();
                     });
}

absl::StatusOr<authz::Principal> ApiKeys::Verify(const CachedKey& key, absl::string_view secret) {
  const std::string digest = Sha256(secret);
  if (digest.size() != key.secret_sha256.size() ||
      CRYPTO_memcmp(digest.data(), key.secret_sha256.data(), digest.size()) != 0) {
    return InvalidCredentials();
  }
  if (key.revoked) return Error(absl::StatusCode::kUnauthenticated, "API_KEY_REVOKED", "this api key was revoked");
  return key.principal;
}

absl::StatusOr<authz::Principal> ApiKeys::Authenticate(absl::string_view bearer) const {
  std::optional<ParsedKey> key = ParseKey(bearer);
  if (!key) return InvalidCredentials();
  uint64_t generation;
  {
    absl::ReaderMutexLock lock(&cache_mu_);
    auto it = cache_.find(key->id);
    if (it != cache_.end()) return Verify(it->second, key->secret);
    generation = cache_generation_;
  }
  const std::string id(key->id);
  internal::ApiKeyRecord record;
  absl::StatusOr<store::Revision> read = store_.Read([&](store::Reader& reader) {
    return LoadRecord(reader, store::ApiKeyKey(id), record, "CREDENTIALS_INVALID", "");
  });
  if (absl::IsNotFound(read.status())) return InvalidCredentials();
  RETURN_IF_ERROR(read.status());
  CachedKey found;
  found.secret_sha256 = record.secret_sha256();
  found.revoked = record.api_key().has_revoke_time();
  if (record.api_key().operator_()) {
    found.principal = authz::Principal::Operator(id);
  } else {
    std::optional<std::string> application = ParseApplicationName(record.api_key().application());
    if (!application) return absl::DataLossError("an api key names no holder");
    found.principal = authz::Principal::Application(*application, id);
  }
  if (observing_) {
    absl::MutexLock lock(&cache_mu_);
    if (cache_generation_ == generation) cache_.emplace(id, found);
  }
  return Verify(found, key->secret);
}

absl::StatusOr<std::string> ApiKeys::CreateFirstOperatorKey(absl::string_view display_name) {
  v1::ApiKey api_key;
  api_key.set_display_name(std::string(display_name));
  api_key.set_operator_(true);
  internal::ApiKeyRecord record;
  const std::string secret = MintKey(api_key, clock_.Now(), record);
  // The first operator key comes from a shell on the host, not from a caller.
  const AuditContext audit{"host", "habilisd.CreateOperatorKey", ""};
  absl::StatusOr<store::Revision> revision = AuditedUpdate(store_, audit, [&](store::Transaction& txn) -> absl::Status {
    RETURN_IF_ERROR(TouchGuard(txn, OperatorKeysGuard()));
    ASSIGN_OR_RETURN(int active, CountActiveOperatorKeys(txn));
    if (active > 0) {
      return Error(absl::StatusCode::kFailedPrecondition, "OPERATOR_KEY_EXISTS",
                   "this data directory already has an operator key; create further keys with CreateApiKey");
    }
    return StoreRecord(txn, store::ApiKeyKey(KeyIdOf(record.api_key())), record);
  });
  RETURN_IF_ERROR(revision.status());
  return secret;
}

}  // namespace habilis::domain
