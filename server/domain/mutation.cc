#include "server/domain/mutation.h"

#include "absl/strings/escaping.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "habilis/internal/records.pb.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/audit.h"
#include "server/domain/caller_facts.h"
#include "server/domain/support.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

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

absl::Status LoadRecord(store::Reader& reader, absl::string_view key, google::protobuf::Message& out,
                        absl::string_view reason, absl::string_view message) {
  absl::StatusOr<std::string> value = reader.Get(key);
  if (absl::IsNotFound(value.status())) return Error(absl::StatusCode::kNotFound, reason, message);
  if (!value.ok()) return value.status();
  if (!out.ParseFromString(*value)) return absl::DataLossError("a stored record does not parse");
  return absl::OkStatus();
}

absl::StatusOr<bool> Exists(store::Reader& reader, absl::string_view key) {
  absl::StatusOr<std::string> value = reader.Get(key);
  if (value.ok()) return true;
  if (absl::IsNotFound(value.status())) return false;
  return value.status();
}

absl::Status StoreRecord(store::Transaction& txn, absl::string_view key, const google::protobuf::Message& record) {
  return txn.Put(key, record.SerializeAsString());
}

std::string ComputeEtag(const google::protobuf::Message& resource) {
  std::unique_ptr<google::protobuf::Message> copy(resource.New());
  copy->CopyFrom(resource);
  const google::protobuf::FieldDescriptor* etag = copy->GetDescriptor()->FindFieldByName("etag");
  if (etag != nullptr) copy->GetReflection()->ClearField(copy.get(), etag);
  return absl::WebSafeBase64Escape(Sha256(DeterministicBytes(*copy)).substr(0, 12));
}

absl::Status TouchGuard(store::Transaction& txn, absl::string_view key) {
  uint64_t counter = 0;
  absl::StatusOr<std::string> value = txn.Get(key);
  if (value.ok()) {
    absl::string_view in(*value);
    counter = store::ConsumeUint64(&in).value_or(0);
  } else if (!absl::IsNotFound(value.status())) {
    return value.status();
  }
  std::string out;
  store::AppendUint64(&out, counter + 1);
  return txn.Put(key, out);
}

}  // namespace habilis::domain
