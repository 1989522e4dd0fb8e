#include "server/domain/commands/mutation.h"

#include "habilis/internal/records.pb.h"
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

}  // namespace

absl::StatusOr<store::Revision> RunMutation(store::Store& store, const authz::Principal& caller,
                                            const google::protobuf::Message& request, const MutationOptions& options,
                                            google::protobuf::Message& response,
                                            absl::FunctionRef<absl::Status(store::Transaction&)> apply) {
  if (!ValidRequestId(options.request_id)) {
    return InvalidField("request_id", "REQUEST_ID_INVALID", "must be at most 128 of [A-Za-z0-9_.-], e.g. a UUID");
  }
  const std::string method = request.GetDescriptor()->full_name();
  const std::string request_digest = Sha256(DeterministicBytes(request));
  const std::string idempotency_key =
      options.request_id.empty() ? "" : store::IdempotencyKey(caller.ResourceName(), options.request_id);
  bool replayed = false;

  v1::ChangeSummary summary;
  const AuditContext audit = AuditContextOf(caller, request, options.request_id);
  absl::StatusOr<store::Revision> revision = AuditedUpdate(
      store, audit,
      [&](store::Transaction& txn) -> absl::Status {
        response.Clear();
        replayed = false;
        RETURN_IF_ERROR(CallerStillHolds(txn, caller));
        if (!idempotency_key.empty()) {
          absl::StatusOr<std::string> previous = txn.Get(idempotency_key);
          if (previous.ok()) {
            internal::IdempotencyRecord record;
            if (!record.ParseFromString(*previous)) return absl::DataLossError("bad idempotency record");
            if (record.method() != method || record.request_sha256() != request_digest) {
              return Error(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
                           "this request_id was already used for a different request; use a new request_id");
            }
            if (!response.ParseFromString(record.response())) return absl::DataLossError("bad stored response");
            replayed = true;
            return absl::OkStatus();
          }
          if (!absl::IsNotFound(previous.status())) return previous.status();
        }
        RETURN_IF_ERROR(apply(txn));
        if (!idempotency_key.empty() && !options.validate_only) {
          internal::IdempotencyRecord record;
          record.set_method(method);
          record.set_request_sha256(request_digest);
          record.set_response(response.SerializeAsString());
          RETURN_IF_ERROR(txn.Put(idempotency_key, record.SerializeAsString()));
        }
        return absl::OkStatus();
      },
      store::UpdateOptions{.dry_run = options.validate_only}, &summary);
  if (revision.ok() && replayed) return store.LatestRevision();
  if (revision.ok() && options.validate_only) {
    // CONFIRM: every mutating response has a change_summary for this.
    const google::protobuf::FieldDescriptor* field = response.GetDescriptor()->FindFieldByName("change_summary");
    if (field != nullptr && field->message_type() == v1::ChangeSummary::descriptor()) {
      response.GetReflection()->MutableMessage(&response, field)->CopyFrom(summary);
    }
  }
  return revision;
}

}  // namespace habilis::domain
