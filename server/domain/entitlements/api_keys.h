// API keys: the machine credentials of operators and client applications.
//
// A key reads "hbk_<key id>_<secret>": the key id (64 random bits, hex) finds the record, the secret (256
// random bits from OpenSSL, base64url) proves possession. Only the SHA-256 of the secret is stored: a
// secret of 256 random bits needs no slow hash. The full key is returned once, at creation.
#ifndef HABILIS_SERVER_DOMAIN_ENTITLEMENTS_API_KEYS_H_
#define HABILIS_SERVER_DOMAIN_ENTITLEMENTS_API_KEYS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "authz/principal.h"
#include "habilis/v1/api_keys.pb.h"
#include "server/common/clock.h"
#include "store/store.h"

namespace habilis::domain {

// Observes the store: a key changed by any node (a revocation) leaves the cache of every node within the
// store's feed delay, and this node's own revocations before they are answered.
class ApiKeys final : public store::CommitObserver {
 public:
  ApiKeys(store::Store& store, const Clock& clock);
  ~ApiKeys() override;
  ApiKeys(const ApiKeys&) = delete;
  ApiKeys& operator=(const ApiKeys&) = delete;

  [[nodiscard]] absl::StatusOr<store::Revision> Create(const authz::Principal& caller,
                                                       const v1::CreateApiKeyRequest& request,
                                                       v1::CreateApiKeyResponse& response);
  [[nodiscard]] absl::Status List(const v1::ListApiKeysRequest& request, v1::ListApiKeysResponse& response);
  // Revoking a revoked key changes nothing. The last active operator key cannot be revoked
  // (FAILED_PRECONDITION LAST_OPERATOR_KEY): nobody could administer the platform any more.
  [[nodiscard]] absl::StatusOr<store::Revision> Revoke(const authz::Principal& caller,
                                                       const v1::RevokeApiKeyRequest& request,
                                                       v1::RevokeApiKeyResponse& response);

  // The principal a bearer key authenticates; UNAUTHENTICATED (CREDENTIALS_INVALID or API_KEY_REVOKED)
  // otherwise. Says nothing about which part of a bad key was wrong. Keys found once are kept in memory
  // (client applications call many times a second) until a commit changes them; without the store's feed
  // (Observe failed), nothing is kept.
  [[nodiscard]] absl::StatusOr<authz::Principal> Authenticate(absl::string_view bearer) const;

  // Creates an operator key if the store has no active one (a fresh data directory); returns the full key.
  // FAILED_PRECONDITION (OPERATOR_KEY_EXISTS) otherwise: further keys are created over the API.
  [[nodiscard]] absl::StatusOr<std::string> CreateFirstOperatorKey(absl::string_view display_name);

  // True if `bearer` has the shape of an API key (as opposed to a session token).
  static bool LooksLikeApiKey(absl::string_view bearer);

 private:
  struct CachedKey {
    std::string secret_sha256;
    authz::Principal principal;
    bool revoked = false;
  };
  [[nodiscard]] absl::StatusOr<store::Revision> RevokeInStore(const authz::Principal& caller, const std::string& key_id,
                                                              const v1::RevokeApiKeyRequest& request,
                                                              v1::RevokeApiKeyResponse& response);
  void OnCommit(store::Revision revision, absl::Span<const store::Change> changes) override;
  // Checks `secret` against a cached or stored key.
  static absl::StatusOr<authz::Principal> Verify(const CachedKey& key, absl::string_view secret);

  store::Store& store_;
  const Clock& clock_;
  mutable absl::Mutex cache_mu_;
  mutable absl::flat_hash_map<std::string, CachedKey> cache_ ABSL_GUARDED_BY(cache_mu_);
  // Bumped by every change of a key, so that a lookup that read the store before it does not cache a stale key.
  mutable uint64_t cache_generation_ ABSL_GUARDED_BY(cache_mu_) = 0;
  bool observing_ = false;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ENTITLEMENTS_API_KEYS_H_
