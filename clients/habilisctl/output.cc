#include "clients/habilisctl/output.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/cpp/client.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"

namespace habilis::ctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The columns of a table of each resource; other resources show their first few set fields.
const std::map<std::string, std::vector<std::string>>& Columns() {
  static const auto* columns = new std::map<std::string, std::vector<std::string>>{
      {"habilis.v1.Structure", {"name", "display_name", "category", "city"}},
      {"habilis.v1.Service", {"name", "display_name", "parent"}},
      {"habilis.v1.Account", {"name", "login_email", "given_name", "family_name", "state", "memberships"}},
      {"habilis.v1.Application", {"name", "display_name"}},
      {"habilis.v1.Profile", {"name", "display_name", "permissions", "state"}},
      {"habilis.v1.Subscription", {"name", "application"}},
      {"habilis.v1.Habilitation", {"account", "profile", "grant_time", "granted_by"}},
      {"habilis.v1.Delegation", {"account", "profile", "grant_time"}},
      {"habilis.v1.Invitation", {"name", "email", "role", "service", "state"}},
      {"habilis.v1.ApiKey", {"name", "display_name", "operator", "application", "revoke_time"}},
      {"habilis.v1.Session", {"name", "device_label", "last_use_time", "current"}},
      {"habilis.v1.AuditEntry", {"time", "actor", "action", "target", "outcome", "denial_reason"}},
      {"habilis.v1.DeletionRequest", {"name", "login_email", "structure", "state", "comment"}},
      {"habilis.v1.Entitlement", {"structure", "profile", "effective", "reason"}},
      {"habilis.v1.CheckAccessResponse", {"allowed", "reason", "structure", "profile"}},
      {"habilis.v1.RowError", {"line", "column", "reason", "message"}},
  };
  return *columns;
}

bool IsSet(const Message& message, const FieldDescriptor* field) {
  const auto* reflection = message.GetReflection();
  return field->is_repeated() ? reflection->FieldSize(message, field) > 0 : reflection->HasField(message, field);
}

std::string ScalarText(const Message& message, const FieldDescriptor* field, int index);

// A message in one cell: a time, a membership as "ROLE service-or-structure", anything else as JSON.
std::string MessageText(const Message& value) {
  const std::string type = value.GetDescriptor()->full_name();
  if (type == "google.protobuf.Timestamp") {
    const auto& time = static_cast<const google::protobuf::Timestamp&>(value);
    return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(time.seconds()), absl::UTCTimeZone());
  }
  if (type == "habilis.v1.Membership") {
    const auto* d = value.GetDescriptor();
    std::string text = ScalarText(value, d->FindFieldByName("role"), 0);
    const std::string service = ScalarText(value, d->FindFieldByName("service"), 0);
    return absl::StrCat(text, " ", service.empty() ? ScalarText(value, d->FindFieldByName("structure"), 0) : service);
  }
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(value, &json);
  return json;
}

std::string ScalarText(const Message& message, const FieldDescriptor* field, int index) {
  const auto* r = message.GetReflection();
  const bool rep = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(message, field, index) : r->GetString(message, field);
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field)) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(message, field, index) : r->GetUInt32(message, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(message, field, index) : r->GetUInt64(message, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r->GetRepeatedDouble(message, field, index) : r->GetDouble(message, field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(rep ? r->GetRepeatedFloat(message, field, index) : r->GetFloat(message, field));
    case FieldDescriptor::CPPTYPE_ENUM:
      return (rep ? r->GetRepeatedEnum(message, field, index) : r->GetEnum(message, field))->name();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageText(rep ? r->GetRepeatedMessage(message, field, index) : r->GetMessage(message, field));
  }
  return "";
}

void PrintTable(const Message& list, const FieldDescriptor* rows_field) {
  const google::protobuf::Descriptor& type = *rows_field->message_type();
  std::vector<const FieldDescriptor*> fields;
  auto found = Columns().find(type.full_name());
  if (found != Columns().end()) {
    for (const std::string& name : found->second) {
      if (const FieldDescriptor* field = type.FindFieldByName(name)) fields.push_back(field);
    }
  } else {
    for (int i = 0; i < type.field_count() && fields.size() < 5; ++i) fields.push_back(type.field(i));
  }
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  std::vector<std::string> header;
  for (const FieldDescriptor* field : fields) {
    header.push_back(absl::AsciiStrToUpper(field->name()));
    widths.push_back(header.back().size());
  }
  for (int r = 0; r < list.GetReflection()->FieldSize(list, rows_field); ++r) {
    const Message& row = list.GetReflection()->GetRepeatedMessage(list, rows_field, r);
    std::vector<std::string>& line = cells.emplace_back();
    for (size_t c = 0; c < fields.size(); ++c) {
      line.push_back(FieldText(row, fields[c]));
      widths[c] = std::max(widths[c], line.back().size());
    }
  }
  auto print = [&](const std::vector<std::string>& line) {
    std::string text;
    for (size_t c = 0; c < line.size(); ++c) {
      absl::StrAppend(&text, line[c], c + 1 < line.size() ? std::string(widths[c] - line[c].size() + 2, ' ') : "");
    }
    std::cout << text << "\n";
  };
  print(header);
  for (const auto& line : cells) print(line);
}

void PrintFields(const Message& message, const std::string& indent) {
  const auto* descriptor = message.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (!IsSet(message, field)) continue;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_repeated() &&
        field->message_type()->full_name().rfind("habilis.", 0) == 0) {
      std::cout << indent << field->name() << ":\n";
      PrintFields(message.GetReflection()->GetMessage(message, field), indent + "  ");
      continue;
    }
    std::cout << indent << field->name() << ": " << FieldText(message, field) << "\n";
  }
}

}  // namespace

std::string FieldText(const Message& message, const FieldDescriptor* field) {
  if (!field->is_repeated()) {
    // An unset message field (a timestamp never set) is blank, not its default's text.
    const bool blank = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !IsSet(message, field);
    return blank ? "" : ScalarText(message, field, 0);
  }
  std::vector<std::string> values;
  for (int i = 0; i < message.GetReflection()->FieldSize(message, field); ++i) {
    values.push_back(ScalarText(message, field, i));
  }
  return absl::StrJoin(values, ", ");
}

void Print(const Message& response, bool json) {
  if (json) {
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    std::string text;
    (void)google::protobuf::util::MessageToJsonString(response, &text, options);
    std::cout << text;
    return;
  }
  // A list: its first repeated field of resources as a table, then what else it says.
  const auto* descriptor = response.GetDescriptor();
  const auto* reflection = response.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated() && field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      PrintTable(response, field);
      const FieldDescriptor* next = descriptor->FindFieldByName("next_page_token");
      if (next != nullptr && !reflection->GetString(response, next).empty()) {
        std::cout << "(more: --page-token " << reflection->GetString(response, next) << ")\n";
      }
      return;
    }
  }
  PrintFields(response, "");
}

int Fail(const grpc::Status& status) {
  client::ErrorDetails details = client::DetailsOf(status);
  std::cerr << "habilisctl: " << client::CodeName(status.error_code())
            << (details.reason.empty() ? "" : " " + details.reason) << ": " << status.error_message() << "\n";
  for (const client::FieldViolation& violation : details.field_violations) {
    std::cerr << "  " << violation.field << ": " << violation.description << " (" << violation.reason << ")\n";
  }
  return static_cast<int>(status.error_code());
}

int Fail(const std::string& message, int exit_code) {
  std::cerr << "habilisctl: " << message << "\n";
  return exit_code;
}

}  // namespace habilis::ctl
