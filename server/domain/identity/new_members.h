// NEW-CREATE, written once: how a person becomes a member of a structure, and how the answer to "create
// this person" stays the same whatever exists outside the caller's reach (no existence oracle).
//
// Logins are unique on the whole platform, so creating "jeanne@example.fr" in structure A finds out whether
// she has an account anywhere. An administrator of A may not learn that (one client company of an accounting
// firm would learn the firm's staff). So when the login already belongs to an account outside A, A gets a
// *joining* account: an account of A like any other (same answer, same later calls), whose login is not in
// the login index. At activation, instead of a link to set a password, the person is e-mailed at that login
// a link to join A with the account she has (AcceptJoin); accepting merges the joining account into hers.
// Operators see every structure: their request attaches the existing account at once.
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_NEW_MEMBERS_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_NEW_MEMBERS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "authz/principal.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/accounts.pb.h"
#include "server/domain/kernel/policy.h"
#include "store/store.h"

namespace habilis::domain {

struct PlacedPerson {
  enum class How { kCreated, kJoining, kAttached };
  How how;
  std::string account_id;
  // The account as stored (for kAttached, the existing account).
  internal::AccountRecord record;
};

// Makes `draft` (normalised and checked: CheckAccountFields) a member of `siret` with `membership`, in `txn`:
// - ALREADY_EXISTS LOGIN_TAKEN when an account of this structure (joining or not) has this login, and
//   LOGIN_CONFUSABLE when one has a login that looks like it;
// - a caller who is not an operator, for a login that belongs (or looks like one that belongs) to an account
//   outside the structure: a joining account, kJoining;
// - an operator, for a login that belongs to an account elsewhere: the membership is added to it, kAttached;
//   LOGIN_CONFUSABLE for a look-alike;
// - otherwise a new INACTIVE account with id `new_id`, kCreated.
// Checks everything before it writes; the caller touches the structure's guard.
[[nodiscard]] absl::StatusOr<PlacedPerson> PlaceNewPerson(store::Transaction& txn, const authz::Principal& caller,
                                                          absl::string_view siret, const v1::Account& draft,
                                                          const v1::Membership& membership, absl::Time now,
                                                          absl::string_view new_id);

// The member of `siret` whose login is `login_email` (a joining account included), or nullopt: the same
// answer whether the login exists elsewhere or nowhere.
[[nodiscard]] absl::StatusOr<std::optional<std::string>> MemberIdByLogin(store::Reader& reader, absl::string_view siret,
                                                                         absl::string_view login_email);

// NEW-ACTIVATE of a joining account: e-mails the existing account's login a single-use link to join `siret`
// (nothing when the login only looks like another's: nobody proved to be that person).
[[nodiscard]] absl::Status OfferJoin(store::Transaction& txn, const internal::AccountRecord& joining, absl::Time now,
                                     const IdentityPolicy& policy, absl::string_view siret);

// The password hash of the existing account a JOIN link joins ("" when it has none), to verify the person's
// password against outside the transaction (Argon2 is slow). Errors as AcceptJoin's for the link.
[[nodiscard]] absl::StatusOr<std::string> JoiningAccountPasswordHash(store::Reader& reader, absl::Time now,
                                                                     absl::string_view link_token);

// AcceptJoin: follows a JOIN link (LINK_* errors as for every link; FAILED_PRECONDITION JOIN_WITHDRAWN when the
// structure deleted the joining account). `verified_hash` is the hash the person's password was verified
// against (JoiningAccountPasswordHash); INVALID_ARGUMENT EXISTING_ACCOUNT_PASSWORD when the account's differs
// now. The joining account's membership, habilitations and delegations move to the existing account and the
// joining account is deleted; when the existing account became a member of the structure meanwhile, it keeps
// its own membership and the joining account is deleted. Sets *siret and *account_id to the structure joined
// and the account that is its member now.
[[nodiscard]] absl::Status AcceptJoin(store::Transaction& txn, absl::Time now, absl::string_view link_token,
                                      absl::string_view verified_hash, std::string* siret, std::string* account_id);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_NEW_MEMBERS_H_
