// AUDIT (the writing side): every change records who asked, when, with which request id, what was done, and the before
// and after of each field that changed, in the same commit as the change.
//
// Recording is generic, so no command can forget it: AuditedUpdate runs a command in a transaction that
// remembers what each key it writes held before. At the end it turns the writes into RecordChanges, by the
// record types of store/keyspace.h, and appends one AuditEntry to the trail with the commit. Keys that are
// not records are left out: indexes, guards, names, idempotency replies, and the outbox (e-mails carry
// link secrets). Hashes of secrets are redacted.
#ifndef HABILIS_SERVER_DOMAIN_COMMANDS_AUDIT_LOG_H_
#define HABILIS_SERVER_DOMAIN_COMMANDS_AUDIT_LOG_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/audit.pb.h"
#include "store/store.h"

namespace habilis::domain {

// Who did what, for the trail.
struct AuditContext {
  std::string actor;       // Principal::ResourceName(), or "anonymous"
  std::string action;      // e.g. "habilis.v1.GrantHabilitation"
  std::string request_id;  // AIP-155, may be empty
  std::string target;      // the resource the request names (TargetOfRequest), may be empty
};

// The action of a request message: "habilis.v1.GrantHabilitationRequest" -> "habilis.v1.GrantHabilitation".
std::string ActionOfRequest(const google::protobuf::Message& request);
std::string ActorOf(const authz::Principal& principal);
// The resource a request names: its `name`, else its `account`, else its `parent`, else its `structure`
// (the first of these string fields it has and sets); "" if none.
std::string TargetOfRequest(const google::protobuf::Message& request);
// The full audit context of a request made by `caller`.
AuditContext AuditContextOf(const authz::Principal& caller, const google::protobuf::Message& request,
                            absl::string_view request_id);

// Whether a refusal of `request` is recorded in the trail: the calls that grant or take back rights
// (habilitations, delegations, roles, and CSV imports, which grant profiles).
bool RecordsDenialsOf(const google::protobuf::Message& request);
// Records that `caller` was refused `request` (PERMISSION_DENIED, for `reason`) in an entry of its own,
// indexed by actor, and by the structure and account the request names.
[[nodiscard]] absl::Status RecordDenial(store::Store& store, const authz::Principal& caller,
                                        const google::protobuf::Message& request, absl::string_view reason);

// store::Store::Update with the change recorded in the audit trail (nothing is recorded for a dry run or a
// command that changed no record). Same contract as Update otherwise. In a dry run, `dry_run_summary` (if
// given) receives what the command would have changed (CONFIRM).
[[nodiscard]] absl::StatusOr<store::Revision> AuditedUpdate(store::Store& store, const AuditContext& context,
                                                            absl::FunctionRef<absl::Status(store::Transaction&)> fn,
                                                            const store::UpdateOptions& options = {},
                                                            v1::ChangeSummary* dry_run_summary = nullptr);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_COMMANDS_AUDIT_LOG_H_
