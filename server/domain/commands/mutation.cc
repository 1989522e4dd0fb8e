#include "server/domain/commands/mutation.h"

#include "habilis/internal/records.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "server/domain/commands/audit_log.h"
#include "server/domain/commands/caller_facts.h"
#include "server/domain/kernel/records.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

bool ValidRequestId(absl::string_view id) {
  if (id.size() > 128) return false;
  for (char c : id) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// What identifies a request for AIP-155: its method and the digest of its content.
struct RequestIdentity {
  std::string principal;
  std::string request_id;
  std::string key;  // the idempotency record's key; "" without a request id
  std::string method;
  std::string digest;
};

// The answer recorded for `id`'s request id, into `response`: true if there is one (a replay), false if
// none; ALREADY_EXISTS REQUEST_ID_REUSED if the id was used for another request.
absl::StatusOr<bool> Replay(store::Transaction& txn, const RequestIdentity& id, google::protobuf::Message& response) {
  absl::StatusOr<std::string> previous = txn.Get(id.key);
  if (absl::IsNotFound(previous.status())) return false;
  if (!previous.ok()) return previous.status();
  internal::IdempotencyRecord record;
  if (!record.ParseFromString(*previous)) return absl::DataLossError("bad idempotency record");
  if (record.method() != id.method || record.request_sha256() != id.digest) {
    return Error(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
                 "this request_id was already used for a different request; use a new request_id");
  }
  if (!response.ParseFromString(record.response())) return absl::DataLossError("bad stored response");
  return true;
}

// The record and its key in the by-time index, which RequestIdExpiry reads.
absl::Status RecordAnswer(store::Transaction& txn, const RequestIdentity& id, absl::Time now,
                          const google::protobuf::Message& response) {
  internal::IdempotencyRecord record;
  record.set_method(id.method);
  record.set_request_sha256(id.digest);
  record.set_response(response.SerializeAsString());
  SetTimestamp(now, record.mutable_create_time());
  RETURN_IF_ERROR(txn.Put(id.key, record.SerializeAsString()));
  return txn.Put(
      store::IdempotencyByTimeKey(static_cast<uint64_t>(absl::ToUnixMicros(now)), id.principal, id.request_id), "");
}

// CONFIRM: every mutating response has a change_summary for what a dry run would have changed.
void SetChangeSummary(const v1::ChangeSummary& summary, google::protobuf::Message& response) {
  const google::protobuf::FieldDescriptor* field = response.GetDescriptor()->FindFieldByName("change_summary");
  if (field != nullptr && field->message_type() == v1::ChangeSummary::descriptor()) {
    response.GetReflection()->MutableMessage(&response, field)->CopyFrom(summary);
  }
}

}  // namespace

absl::StatusOr<store::Revision> RunMutation(store::Store& store, const authz::Principal& caller,
                                            const google::protobuf::Message& request, const MutationOptions& options,
                                            google::protobuf::Message& response,
                                            absl::FunctionRef<absl::Status(store::Transaction&)> apply) {
  if (!ValidRequestId(options.request_id)) {
    return InvalidField("request_id", "REQUEST_ID_INVALID", "must be at most 128 of [A-Za-z0-9_.-], e.g. a UUID");
  }
  if (!options.request_id.empty() && options.now == absl::InfinitePast()) {
    return absl::InternalError("a request_id's answer needs the time it is recorded at");
  }
  const std::string principal = caller.ResourceName();
  const RequestIdentity id{principal, std::string(options.request_id),
                           options.request_id.empty() ? "" : store::IdempotencyKey(principal, options.request_id),
                           request.GetDescriptor()->full_name(), Sha256(DeterministicBytes(request))};
  bool replayed = false;
  v1::ChangeSummary summary;
  absl::StatusOr<store::Revision> revision = AuditedUpdate(
      store, AuditContextOf(caller, request, options.request_id),
      [&](store::Transaction& txn) -> absl::Status {
        response.Clear();
        replayed = false;
        RETURN_IF_ERROR(CallerStillHolds(txn, caller));
        if (!id.key.empty()) {
          ASSIGN_OR_RETURN(replayed, Replay(txn, id, response));
          if (replayed) return absl::OkStatus();
        }
        RETURN_IF_ERROR(apply(txn));
        if (id.key.empty() || options.validate_only) return absl::OkStatus();
        return RecordAnswer(txn, id, options.now, response);
      },
      store::UpdateOptions{.dry_run = options.validate_only}, &summary);
  if (revision.ok() && replayed) return store.LatestRevision();  // at least the replayed answer's commit
  if (revision.ok() && options.validate_only) SetChangeSummary(summary, response);
  return revision;
}

}  // namespace habilis::domain
