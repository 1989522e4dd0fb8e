#include "server/domain/commands/caller_facts.h"

#include <optional>

#include "habilis/internal/records.pb.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/kernel/records.h"
#include "server/domain/organisation/memberships.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

bool SameMembership(const authz::Membership& a, const authz::Membership& b) {
  return a.structure == b.structure && a.role == b.role && a.service == b.service;
}

absl::Status AccountStillHolds(store::Reader& reader, const authz::Principal& caller) {
  const absl::Status ended = Error(absl::StatusCode::kUnauthenticated, "CREDENTIALS_INVALID",
                                   "the session ended while the call ran; log in again");
  ASSIGN_OR_RETURN(bool session, Exists(reader, store::SessionKey(caller.session_id)));
  if (!session) return ended;
  absl::StatusOr<internal::AccountRecord> account = LoadAccount(reader, caller.id);
  if (absl::IsNotFound(account.status())) return ended;
  RETURN_IF_ERROR(account.status());
  if (account->account().state() != v1::Account::ACTIVE) return ended;
  for (const authz::Membership& seen : caller.memberships) {
    ASSIGN_OR_RETURN(std::optional<v1::Membership> now, MembershipIn(reader, seen.structure, caller.id));
    if (!now || Suspended(*now) || !SameMembership(ToAuthz(*now), seen)) {
      return Error(absl::StatusCode::kPermissionDenied, "CALLER_ROLE_CHANGED",
                   "the caller's role changed while the call ran; send it again to be judged on the new role");
    }
  }
  return absl::OkStatus();
}

absl::Status KeyStillHolds(store::Reader& reader, const authz::Principal& caller) {
  internal::ApiKeyRecord record;
  absl::Status loaded = LoadRecord(reader, store::ApiKeyKey(caller.credential_id), record, "", "");
  if (loaded.ok() && !record.api_key().has_revoke_time()) return absl::OkStatus();
  if (!loaded.ok() && !absl::IsNotFound(loaded)) return loaded;
  return Error(absl::StatusCode::kUnauthenticated, "API_KEY_REVOKED", "this api key was revoked");
}

}  // namespace

absl::Status CallerStillHolds(store::Reader& reader, const authz::Principal& caller) {
  switch (caller.kind) {
    case authz::PrincipalKind::kAnonymous:
      return absl::OkStatus();
    case authz::PrincipalKind::kAccount:
      return AccountStillHolds(reader, caller);
    case authz::PrincipalKind::kOperator:
    case authz::PrincipalKind::kApplication:
      return KeyStillHolds(reader, caller);
  }
  return absl::InternalError("unknown principal kind");
}

}  // namespace habilis::domain
