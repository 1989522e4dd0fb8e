#include "server/domain/kernel/records.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/common/errors.h"
#include "server/common/random.h"
#include "store/encoding.h"

namespace habilis::domain {

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

absl::Status LoadRecord(store::Reader& reader, absl::string_view key, google::protobuf::Message& out,
                        absl::string_view reason, absl::string_view message) {
  absl::StatusOr<std::string> value = reader.Get(key);
  if (absl::IsNotFound(value.status())) return Error(absl::StatusCode::kNotFound, reason, message);
  if (!value.ok()) return value.status();
  if (!out.ParseFromString(*value)) return absl::DataLossError("a stored record does not parse");
  return absl::OkStatus();
}

absl::StatusOr<std::string> DisplayNameAt(store::Reader& reader, absl::string_view key,
                                          google::protobuf::Message& record, absl::string_view fallback) {
  absl::Status loaded = LoadRecord(reader, key, record, "NOT_FOUND", "");
  if (absl::IsNotFound(loaded)) return std::string(fallback);
  if (!loaded.ok()) return loaded;
  return StringField(record, "display_name");
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

std::string StringField(const google::protobuf::Message& message, absl::string_view name) {
  using google::protobuf::FieldDescriptor;
  const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr || field->cpp_type() != FieldDescriptor::CPPTYPE_STRING || field->is_repeated()) return "";
  return message.GetReflection()->GetString(message, field);
}

}  // namespace habilis::domain
