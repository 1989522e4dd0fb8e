// Single-use, expiring tokens: the links of invitations, activations and password resets, and login code
// challenges. A token reads "hbl_<id>_<secret>" (64 + 128 random bits); only the SHA-256 of the secret is
// stored.
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_LINK_TOKENS_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_LINK_TOKENS_H_

#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "habilis/internal/records.pb.h"
#include "store/store.h"

namespace habilis::domain {

using LinkKind = internal::LinkTokenRecord::Kind;

// Stores `record` (kind, subject and the kind's own fields set by the caller) with a fresh secret that
// expires at now + ttl; returns the token to hand out.
[[nodiscard]] absl::StatusOr<std::string> IssueLinkToken(store::Transaction& txn, absl::Time now, absl::Duration ttl,
                                                         internal::LinkTokenRecord record);

// Reads the token's record and checks it: INVALID_ARGUMENT (LINK_INVALID) for a token that is malformed,
// unknown, of another kind or with a wrong secret; FAILED_PRECONDITION LINK_ALREADY_USED or LINK_EXPIRED.
// `field` names the request field in errors. *id receives the token id.
// `kinds` lists the kinds accepted.
[[nodiscard]] absl::StatusOr<internal::LinkTokenRecord> ReadLinkToken(store::Reader& reader, absl::Time now,
                                                                      absl::string_view token,
                                                                      std::initializer_list<LinkKind> kinds,
                                                                      absl::string_view field, std::string* id);

// Marks the token used (it will not work again).
[[nodiscard]] absl::Status SpendLinkToken(store::Transaction& txn, absl::Time now, const std::string& id,
                                          internal::LinkTokenRecord record);

// "<base>/<action>?token=<token>".
std::string LinkUrl(absl::string_view base, absl::string_view action, absl::string_view token);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_LINK_TOKENS_H_
