// The facts an authorization decision rested on, read again inside the transaction that acts on it.
//
// The gate decides on a snapshot read before the command's transaction begins: the session, the account's
// state and its roles, or the API key. A deactivation, a logout, a revocation or a change of role that
// commits in between would otherwise let a call run on rights its caller no longer has. Reading the same
// facts in the transaction both checks them and watches them, so a change that commits before the
// transaction does makes it run again and fail here.
#ifndef HABILIS_SERVER_DOMAIN_COMMANDS_CALLER_FACTS_H_
#define HABILIS_SERVER_DOMAIN_COMMANDS_CALLER_FACTS_H_

#include "absl/status/status.h"
#include "authz/principal.h"
#include "store/store.h"

namespace habilis::domain {

// OK if `caller` is still what the gate saw:
// - an account: its session still exists, the account is ACTIVE, and each membership the principal carries
//   still holds with the same role and service; otherwise UNAUTHENTICATED CREDENTIALS_INVALID (session or
//   account gone) or PERMISSION_DENIED CALLER_ROLE_CHANGED;
// - an operator or a client application: its API key exists and is not revoked, else UNAUTHENTICATED
//   API_KEY_REVOKED;
// - anonymous: always OK (such calls prove themselves inside the command).
[[nodiscard]] absl::Status CallerStillHolds(store::Reader& reader, const authz::Principal& caller);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_COMMANDS_CALLER_FACTS_H_
