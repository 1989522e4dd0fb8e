// How every mutating command runs: one store transaction, with AIP-155 request ids and validate_only.
#ifndef HABILIS_SERVER_DOMAIN_COMMANDS_MUTATION_H_
#define HABILIS_SERVER_DOMAIN_COMMANDS_MUTATION_H_

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "authz/principal.h"
#include "google/protobuf/message.h"
#include "store/store.h"

namespace habilis::domain {

struct MutationOptions {
  // AIP-155: empty, or 1 to 128 of [A-Za-z0-9_.-] (a UUID fits).
  absl::string_view request_id;
  // Run everything, commit nothing, and answer what would change.
  bool validate_only = false;
  // The time the request's answer is recorded with (its record expires a retention period later,
  // RequestIdExpiry); used only with a request_id.
  absl::Time now = absl::InfinitePast();
};

// Runs `apply` (which fills `response`) in one store transaction on behalf of `caller`.
// - First, the facts that admitted `caller` are read again in the transaction (CallerStillHolds): a call
//   whose session, account, role or key changed since the gate let it in fails instead of running.
// - If `caller` already sent `request_id` with an identical request, `response` is the first answer and
//   nothing is written; with a different request, the call fails with ALREADY_EXISTS (REQUEST_ID_REUSED).
//   The answer is kept until RequestIdExpiry forgets it (a retention period after `options.now`).
// - `apply` may run several times (conflict retries): `response` is cleared before each run.
// - Returns the revision that holds the change (the current one for a replay or a dry run).
[[nodiscard]] absl::StatusOr<store::Revision> RunMutation(store::Store& store, const authz::Principal& caller,
                                                          const google::protobuf::Message& request,
                                                          const MutationOptions& options,
                                                          google::protobuf::Message& response,
                                                          absl::FunctionRef<absl::Status(store::Transaction&)> apply);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_COMMANDS_MUTATION_H_
