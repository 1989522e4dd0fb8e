#include "server/domain/commands/audit_log.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/timestamp.pb.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/account_files.pb.h"
#include "habilis/v1/accounts.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/org_chart.pb.h"
#include "habilis/v1/structures.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/status_macros.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using store::KeyTag;

// How the trail reads the records of one key tag.
struct RecordType {
  KeyTag tag;
  const Message* prototype;
  bool siret_first = false;    // the key's first component is the structure's SIRET
  int account_component = -1;  // which key component is the account id, if any
};

const std::vector<RecordType>& RecordTypes() {
  static const auto* types = new std::vector<RecordType>{
      {KeyTag::kStructure, &v1::Structure::default_instance(), true},
      {KeyTag::kService, &v1::Service::default_instance(), true},
      {KeyTag::kApplication, &v1::Application::default_instance()},
      {KeyTag::kProfile, &v1::Profile::default_instance()},
      {KeyTag::kSubscription, &v1::Subscription::default_instance(), true},
      {KeyTag::kApiKey, &internal::ApiKeyRecord::default_instance()},
      {KeyTag::kAccount, &internal::AccountRecord::default_instance(), false, 0},
      {KeyTag::kMembership, &v1::Membership::default_instance(), true, 1},
      {KeyTag::kSession, &internal::SessionRecord::default_instance()},
      {KeyTag::kLinkToken, &internal::LinkTokenRecord::default_instance()},
      {KeyTag::kInvitation, &internal::InvitationRecord::default_instance(), true},
      {KeyTag::kDeletionRequest, &v1::DeletionRequest::default_instance()},
      {KeyTag::kHabilitation, &v1::Habilitation::default_instance(), true, 1},
      {KeyTag::kDelegation, &v1::Delegation::default_instance(), true, 1},
  };
  return *types;
}

const RecordType* RecordTypeOf(absl::string_view key) {
  if (key.empty()) return nullptr;
  for (const RecordType& type : RecordTypes()) {
    if (static_cast<char>(type.tag) == key[0]) return &type;
  }
  return nullptr;
}

// Fields whose values never enter the trail.
bool IsSecret(const FieldDescriptor& field) {
  const std::string& name = field.name();
  return absl::EndsWith(name, "_sha256") || absl::EndsWith(name, "_hash");
}

bool IsTimestamp(const FieldDescriptor& field) {
  return field.type() == FieldDescriptor::TYPE_MESSAGE &&
         field.message_type()->full_name() == google::protobuf::Timestamp::descriptor()->full_name();
}

// One value of a scalar field in protobuf text format, written directly rather than by TextFormat::Printer,
// since an import renders every field of every record it creates. Strings keep their UTF-8 ("Prénom", where
// the default printer writes "Pr\303\251nom"); bytes fields and control characters are escaped.
std::string RenderScalar(const Message& message, const FieldDescriptor& field, int index) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = index >= 0;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& value = repeated ? r.GetRepeatedStringReference(message, &field, index, &scratch)
                                          : r.GetStringReference(message, &field, &scratch);
      return absl::StrCat(
          "\"", field.type() == FieldDescriptor::TYPE_BYTES ? absl::CEscape(value) : absl::Utf8SafeCEscape(value),
          "\"");
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      return (repeated ? r.GetRepeatedBool(message, &field, index) : r.GetBool(message, &field)) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? r.GetRepeatedEnumValue(message, &field, index) : r.GetEnumValue(message, &field);
      const auto* value = field.enum_type()->FindValueByNumber(number);
      return value != nullptr ? value->name() : absl::StrCat(number);
    }
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(repeated ? r.GetRepeatedInt32(message, &field, index) : r.GetInt32(message, &field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(repeated ? r.GetRepeatedInt64(message, &field, index) : r.GetInt64(message, &field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(repeated ? r.GetRepeatedUInt32(message, &field, index) : r.GetUInt32(message, &field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(repeated ? r.GetRepeatedUInt64(message, &field, index) : r.GetUInt64(message, &field));
    default: {  // floating point and messages: the printer's own form
      static thread_local const google::protobuf::TextFormat::Printer printer;
      std::string out;
      printer.PrintFieldValueToString(message, &field, index, &out);
      return out;
    }
  }
}

// The value of a leaf field in text form; "" when unset.
std::string Render(const Message& message, const FieldDescriptor& field) {
  const Reflection& reflection = *message.GetReflection();
  auto one = [&](int index) {
    if (IsTimestamp(field)) {
      const Message& value =
          index < 0 ? reflection.GetMessage(message, &field) : reflection.GetRepeatedMessage(message, &field, index);
      google::protobuf::Timestamp timestamp;
      timestamp.CopyFrom(value);
      return absl::FormatTime(absl::RFC3339_full, FromTimestamp(timestamp), absl::UTCTimeZone());
    }
    return RenderScalar(message, field, index);
  };
  if (field.is_repeated()) {
    std::vector<std::string> values;
    for (int i = 0; i < reflection.FieldSize(message, &field); ++i) values.push_back(one(i));
    return values.empty() ? "" : absl::StrCat("[", absl::StrJoin(values, ", "), "]");
  }
  // For a proto3 scalar without presence, HasField is false at its default value: "unset" too.
  if (!reflection.HasField(message, &field)) return "";
  return one(-1);
}

// Whether a singular leaf field holds the same value in both messages, compared without rendering it; false
// when unsure (repeated fields), and Diff then compares the rendered values.
bool SameValue(const Message& before, const Message& after, const FieldDescriptor& field) {
  if (field.is_repeated()) return false;
  const Reflection& b = *before.GetReflection();
  const Reflection& a = *after.GetReflection();
  const bool has_before = b.HasField(before, &field);
  if (has_before != a.HasField(after, &field)) return false;
  if (!has_before) return true;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch_before, scratch_after;
      return b.GetStringReference(before, &field, &scratch_before) ==
             a.GetStringReference(after, &field, &scratch_after);
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      return b.GetBool(before, &field) == a.GetBool(after, &field);
    case FieldDescriptor::CPPTYPE_ENUM:
      return b.GetEnumValue(before, &field) == a.GetEnumValue(after, &field);
    case FieldDescriptor::CPPTYPE_INT32:
      return b.GetInt32(before, &field) == a.GetInt32(after, &field);
    case FieldDescriptor::CPPTYPE_INT64:
      return b.GetInt64(before, &field) == a.GetInt64(after, &field);
    case FieldDescriptor::CPPTYPE_UINT32:
      return b.GetUInt32(before, &field) == a.GetUInt32(after, &field);
    case FieldDescriptor::CPPTYPE_UINT64:
      return b.GetUInt64(before, &field) == a.GetUInt64(after, &field);
    case FieldDescriptor::CPPTYPE_MESSAGE:  // a timestamp
      return b.GetMessage(before, &field).SerializeAsString() == a.GetMessage(after, &field).SerializeAsString();
    default:
      return false;
  }
}

// Appends a FieldChange for every leaf field whose value differs between `before` and `after`.
void Diff(const Message& before, const Message& after, const std::string& prefix, v1::RecordChange& out) {
  const auto* descriptor = after.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor& field = *descriptor->field(i);
    if (field.type() == FieldDescriptor::TYPE_MESSAGE && !field.is_repeated() && !IsTimestamp(field)) {
      Diff(before.GetReflection()->GetMessage(before, &field), after.GetReflection()->GetMessage(after, &field),
           prefix.empty() ? field.name() : absl::StrCat(prefix, ".", field.name()), out);
      continue;
    }
    if (SameValue(before, after, field)) continue;
    std::string was = Render(before, field);
    std::string is = Render(after, field);
    if (was == is) continue;
    v1::FieldChange* change = out.add_fields();
    change->set_path(prefix.empty() ? field.name() : absl::StrCat(prefix, ".", field.name()));
    if (IsSecret(field)) {
      change->set_redacted(true);
    } else {
      change->set_before(std::move(was));
      change->set_after(std::move(is));
    }
  }
}

// The resource name a record carries: its own `name`, or that of its first message field that has one
// (AccountRecord.account.name).
std::string NameOf(const Message& message) {
  const auto* descriptor = message.GetDescriptor();
  const FieldDescriptor* name = descriptor->FindFieldByName("name");
  if (name != nullptr && name->type() == FieldDescriptor::TYPE_STRING && !name->is_repeated()) {
    return message.GetReflection()->GetString(message, name);
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor& field = *descriptor->field(i);
    if (field.type() == FieldDescriptor::TYPE_MESSAGE && !field.is_repeated() && !IsTimestamp(field)) {
      std::string nested = NameOf(message.GetReflection()->GetMessage(message, &field));
      if (!nested.empty()) return nested;
    }
  }
  return "";
}

// The account a record is about, when its value says so (sessions, deletion requests).
std::string AccountIn(const Message& message) {
  if (std::string value = StringField(message, "account_id"); ParseAccountName(AccountName(value))) return value;
  return ParseAccountName(StringField(message, "account")).value_or("");
}

// Fills what every entry says about its call: when, who, which request, what, on what, and how it ended.
void SetEntryContext(const AuditContext& context, v1::AuditEntry::Outcome outcome, v1::AuditEntry& entry) {
  SetTimestamp(absl::Now(), entry.mutable_time());
  entry.set_actor(context.actor);
  entry.set_request_id(context.request_id);
  entry.set_action(context.action);
  entry.set_target(context.target);
  entry.set_outcome(outcome);
}

// How the trail names an actor to a person: an account by its given and family names (its login address
// when it has neither), an application by its display name, an operator by his key's display name. Read in the commit,
// so the entry keeps the name the actor had when he acted, after the account or application is gone.
absl::StatusOr<std::string> ActorDisplayName(store::Reader& reader, absl::string_view actor) {
  if (std::optional<std::string> account_id = ParseAccountName(actor)) {
    internal::AccountRecord record;
    absl::Status loaded = LoadRecord(reader, store::AccountKey(*account_id), record, "ACCOUNT_NOT_FOUND", "");
    if (absl::IsNotFound(loaded)) return std::string(actor);
    RETURN_IF_ERROR(loaded);
    const v1::Account& account = record.account();
    std::string name =
        std::string(absl::StripAsciiWhitespace(absl::StrCat(account.given_name(), " ", account.family_name())));
    return name.empty() ? account.login_email() : name;
  }
  if (std::optional<std::string> application_id = ParseApplicationName(actor)) {
    v1::Application application;
    absl::Status loaded =
        LoadRecord(reader, store::ApplicationKey(*application_id), application, "APPLICATION_NOT_FOUND", "");
    if (absl::IsNotFound(loaded)) return std::string(actor);
    RETURN_IF_ERROR(loaded);
    return application.display_name().empty() ? std::string(actor) : application.display_name();
  }
  if (absl::string_view key_id = actor; absl::ConsumePrefix(&key_id, "operators/")) {
    internal::ApiKeyRecord key;
    absl::Status loaded = LoadRecord(reader, store::ApiKeyKey(key_id), key, "API_KEY_NOT_FOUND", "");
    if (absl::IsNotFound(loaded)) return std::string(actor);
    RETURN_IF_ERROR(loaded);
    return absl::StrCat("Operator ", key.api_key().display_name().empty() ? key_id : key.api_key().display_name());
  }
  return std::string(actor);
}

// Appends `entry` to the trail, with its index entries: by each structure and account it concerns, and by
// its actor.
absl::Status AppendAuditEntry(store::Transaction& txn, const v1::AuditEntry& entry, const std::set<std::string>& sirets,
                              const std::set<std::string>& accounts) {
  RETURN_IF_ERROR(txn.AppendToLog(store::AuditLogPrefix(), entry.SerializeAsString()));  // position 0
  for (const std::string& siret : sirets) {
    RETURN_IF_ERROR(txn.AppendToLog(store::AuditByStructurePrefix(siret), ""));
  }
  for (const std::string& account : accounts) {
    RETURN_IF_ERROR(txn.AppendToLog(store::AuditByAccountPrefix(account), ""));
  }
  return txn.AppendToLog(store::AuditByActorPrefix(entry.actor()), "");
}

// A transaction that remembers, for each record it writes, what the record held before.
class RecordingTransaction final : public store::Transaction {
 public:
  explicit RecordingTransaction(store::Transaction& inner) : inner_(inner) {}

  absl::StatusOr<std::string> Get(absl::string_view key) override { return inner_.Get(key); }
  absl::Status Scan(absl::string_view begin, absl::string_view end, store::ScanVisitor visit) override {
    return inner_.Scan(begin, end, visit);
  }
  absl::Status Put(absl::string_view key, absl::string_view value) override {
    RETURN_IF_ERROR(Remember(key));
    RETURN_IF_ERROR(inner_.Put(key, value));
    if (auto it = touched_.find(std::string(key)); it != touched_.end()) it->second.after = std::string(value);
    return absl::OkStatus();
  }
  absl::Status Delete(absl::string_view key) override {
    RETURN_IF_ERROR(Remember(key));
    RETURN_IF_ERROR(inner_.Delete(key));
    if (auto it = touched_.find(std::string(key)); it != touched_.end()) it->second.after.reset();
    return absl::OkStatus();
  }
  absl::Status AppendToLog(absl::string_view log_prefix, absl::string_view value) override {
    return inner_.AppendToLog(log_prefix, value);
  }
  absl::Status ProtectRange(absl::string_view key) override { return inner_.ProtectRange(key); }
  absl::StatusOr<store::Revision> SnapshotRevision() override { return inner_.SnapshotRevision(); }

  // What the writes so far change, record by record.
  absl::Status Summarize(v1::ChangeSummary& summary) {
    Concerned concerned;
    v1::AuditEntry entry;
    RETURN_IF_ERROR(Describe(entry, concerned));
    *summary.mutable_changes() = std::move(*entry.mutable_changes());
    return absl::OkStatus();
  }

  // Appends the entry for what was written, and its indexes; nothing if no record changed. An entry without
  // a target names the first record it changed; an entry that changes a person (his account, a deletion
  // request, a link issued to him) is also indexed under every structure he belongs to, whose administrators
  // answer for him.
  absl::Status AppendEntry(const AuditContext& context) {
    v1::AuditEntry entry;
    Concerned concerned;
    RETURN_IF_ERROR(Describe(entry, concerned));
    if (entry.changes_size() == 0) return absl::OkStatus();
    SetEntryContext(context, v1::AuditEntry::APPLIED, entry);
    for (const v1::RecordChange& change : entry.changes()) {
      if (!entry.target().empty()) break;
      entry.set_target(change.record());
    }
    // Records without a name of their own (a login code) are about the person they were issued to.
    if (entry.target().empty() && !concerned.people.empty()) entry.set_target(AccountName(*concerned.people.begin()));
    ASSIGN_OR_RETURN(std::string actor_name, ActorDisplayName(inner_, context.actor));
    entry.set_actor_display_name(std::move(actor_name));
    for (const std::string& person : concerned.people) {
      ASSIGN_OR_RETURN(std::vector<v1::Membership> memberships, MembershipsOf(inner_, person));
      for (const v1::Membership& membership : memberships) concerned.sirets.insert(SiretOf(membership));
    }
    return AppendAuditEntry(inner_, entry, concerned.sirets, concerned.accounts);
  }

 private:
  // The structures and accounts an entry concerns; `people` are the accounts whose own records it changes.
  struct Concerned {
    std::set<std::string> sirets;
    std::set<std::string> accounts;
    std::set<std::string> people;
  };

  // Adds a RecordChange to `entry` for every record whose value changed, and collects the structures and
  // accounts they concern.
  absl::Status Describe(v1::AuditEntry& entry, Concerned& concerned) {
    for (const std::string& key : order_) {
      const Touched& touched = touched_.at(key);
      if (touched.before == touched.after) continue;
      const RecordType& type = *RecordTypeOf(key);
      std::unique_ptr<Message> before(type.prototype->New()), after(type.prototype->New());
      if (touched.before && !before->ParseFromString(*touched.before)) return Undecodable(key);
      if (touched.after && !after->ParseFromString(*touched.after)) return Undecodable(key);
      v1::RecordChange* change = entry.add_changes();
      change->set_record_type(type.prototype->GetDescriptor()->full_name());
      change->set_kind(!touched.before  ? v1::RecordChange::CREATED
                       : !touched.after ? v1::RecordChange::DELETED
                                        : v1::RecordChange::UPDATED);
      const Message& record = touched.after ? *after : *before;
      change->set_record(NameOf(record));
      Diff(*before, *after, "", *change);
      NoteConcerned(key, type, record, concerned);
    }
    return absl::OkStatus();
  }

  // The structures and accounts the record at `key` concerns, for the trail's indexes: by its key's
  // components, and by the account its value names.
  static void NoteConcerned(absl::string_view key, const RecordType& type, const Message& record,
                            Concerned& concerned) {
    const std::vector<std::string> parts = store::ComponentsAfter(key, key.substr(0, 1));
    if (type.siret_first && !parts.empty()) concerned.sirets.insert(parts[0]);
    if (type.account_component >= 0 && static_cast<int>(parts.size()) > type.account_component) {
      concerned.accounts.insert(parts[type.account_component]);
    }
    std::string account = AccountIn(record);
    if (!account.empty()) concerned.accounts.insert(account);
    if (type.tag == KeyTag::kAccount && !parts.empty()) concerned.people.insert(parts[0]);
    if (type.tag == KeyTag::kDeletionRequest && !account.empty()) concerned.people.insert(account);
    // A link or a code issued to a person (activation, reset, unlock) is an act on him.
    if (const std::string subject = StringField(record, "subject");
        type.tag == KeyTag::kLinkToken && ParseAccountName(AccountName(subject))) {
      concerned.accounts.insert(subject);
      concerned.people.insert(subject);
    }
    // A record that names its structure in its value (a deletion request) concerns it too.
    if (std::optional<std::string> siret = ParseStructureName(StringField(record, "structure"))) {
      concerned.sirets.insert(*siret);
    }
  }

  struct Touched {
    std::optional<std::string> before;
    std::optional<std::string> after;
  };

  static absl::Status Undecodable(absl::string_view key) {
    return absl::DataLossError(absl::StrCat("audit: a record of tag ", static_cast<int>(key[0]), " does not decode"));
  }

  // Reads what a record held before its first write in this transaction.
  absl::Status Remember(absl::string_view key) {
    if (RecordTypeOf(key) == nullptr || touched_.contains(std::string(key))) return absl::OkStatus();
    Touched touched;
    absl::StatusOr<std::string> before = inner_.Get(key);
    if (before.ok()) {
      touched.before = *std::move(before);
    } else if (!absl::IsNotFound(before.status())) {
      return before.status();
    }
    touched.after = touched.before;
    touched_.emplace(std::string(key), std::move(touched));
    order_.emplace_back(key);
    return absl::OkStatus();
  }

  store::Transaction& inner_;
  std::map<std::string, Touched> touched_;
  std::vector<std::string> order_;  // first-write order
};

}  // namespace

std::string ActionOfRequest(const google::protobuf::Message& request) {
  return std::string(absl::StripSuffix(request.GetDescriptor()->full_name(), "Request"));
}

std::string ActorOf(const authz::Principal& principal) { return principal.ResourceName(); }

std::string TargetOfRequest(const google::protobuf::Message& request) {
  for (absl::string_view field : {"name", "account", "parent", "structure"}) {
    std::string value = StringField(request, field);
    if (!value.empty()) return value;
  }
  // A request that carries its resource (UpdateService's service, CreateStructure's structure) names it there.
  const google::protobuf::Reflection& reflection = *request.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(request, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) continue;
    const Message& resource = reflection.GetMessage(request, field);
    if (std::string name = StringField(resource, "name"); !name.empty()) return name;
    if (std::string siret = StringField(resource, "siret"); !siret.empty()) return StructureName(siret);
  }
  return "";
}

AuditContext AuditContextOf(const authz::Principal& caller, const google::protobuf::Message& request,
                            absl::string_view request_id) {
  return AuditContext{ActorOf(caller), ActionOfRequest(request), std::string(request_id), TargetOfRequest(request)};
}

bool RecordsDenialsOf(const google::protobuf::Message& request) {
  static const auto* kGrants = new std::set<std::string>{
      v1::GrantHabilitationRequest::descriptor()->full_name(), v1::RevokeHabilitationRequest::descriptor()->full_name(),
      v1::GrantDelegationsRequest::descriptor()->full_name(),  v1::RevokeDelegationsRequest::descriptor()->full_name(),
      v1::UpdateMembershipRequest::descriptor()->full_name(),  v1::ImportAccountsRequest::descriptor()->full_name(),
      v1::SuspendMembershipRequest::descriptor()->full_name(), v1::RemoveMembershipRequest::descriptor()->full_name(),
  };
  return kGrants->contains(request.GetDescriptor()->full_name());
}

absl::Status RecordDenial(store::Store& store, const authz::Principal& caller, const google::protobuf::Message& request,
                          absl::string_view reason) {
  const AuditContext context = AuditContextOf(caller, request, StringField(request, "request_id"));
  v1::AuditEntry entry;
  SetEntryContext(context, v1::AuditEntry::DENIED, entry);
  entry.set_denial_reason(std::string(reason));
  // Indexed by the structure and the account the request names, so that their administrators see it.
  std::set<std::string> sirets, accounts;
  std::vector<std::string> structure_names = {StringField(request, "structure"), StringField(request, "parent")};
  if (const FieldDescriptor* membership = request.GetDescriptor()->FindFieldByName("membership");
      membership != nullptr && membership->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
      !membership->is_repeated()) {
    structure_names.push_back(StringField(request.GetReflection()->GetMessage(request, membership), "structure"));
  }
  for (const std::string& name : structure_names) {
    if (std::optional<std::string> siret = ParseStructureName(name)) sirets.insert(*siret);
  }
  for (absl::string_view field : {"account", "name"}) {
    if (std::optional<std::string> id = ParseAccountName(StringField(request, field))) accounts.insert(*id);
  }
  return store
      .Update([&](store::Transaction& txn) -> absl::Status {
        ASSIGN_OR_RETURN(std::string actor_name, ActorDisplayName(txn, entry.actor()));
        entry.set_actor_display_name(std::move(actor_name));
        return AppendAuditEntry(txn, entry, sirets, accounts);
      })
      .status();
}

absl::StatusOr<store::Revision> AuditedUpdate(store::Store& store, const AuditContext& context,
                                              absl::FunctionRef<absl::Status(store::Transaction&)> fn,
                                              const store::UpdateOptions& options, v1::ChangeSummary* dry_run_summary) {
  if (options.dry_run && dry_run_summary == nullptr) return store.Update(fn, options);  // nothing to record
  return store.Update(
      [&](store::Transaction& txn) -> absl::Status {
        RecordingTransaction recording(txn);
        RETURN_IF_ERROR(fn(recording));
        if (!options.dry_run) return recording.AppendEntry(context);
        if (dry_run_summary != nullptr) {
          dry_run_summary->Clear();
          return recording.Summarize(*dry_run_summary);
        }
        return absl::OkStatus();
      },
      options);
}

}  // namespace habilis::domain
