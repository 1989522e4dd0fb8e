#include "server/domain/files/account_files.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/org_chart.pb.h"
#include "habilis/v1/structures.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/commands/caller_facts.h"
#include "server/domain/entitlements/entitlements.h"
#include "server/domain/entitlements/profile_grants.h"
#include "server/domain/files/role_columns.h"
#include "server/domain/files/spreadsheet_cells.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/identity/new_members.h"
#include "server/domain/kernel/existence.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "store/encoding.h"
#include "store/keyspace.h"
#include "store/overlay_transaction.h"

namespace habilis::domain {

// What a column of seed 003 is to habilis.
enum class Use {
  kAccountField,  // a field of the account: exported, and imported into it
  kLogin,         // user_username: the login, which names the account
  kAccountId,     // profil_id
  kEnabled,       // profil_enabled: exported as "the account is ACTIVE"; true on import activates it
  kService,       // organism_department_id: the member's service
  kOutputOnly,    // exported for information, ignored on import
  kStructure,     // organism_id, organism_siren, organism_nic: exported; on import, must name the structure
  kNotKept,       // attributes habilis does not keep: exported empty or false; on import, must be so
};

struct ColumnSpec {
  absl::string_view name;
  Use use;
  absl::string_view account_field = "";  // for kAccountField
};

namespace {

// The columns of seed 003 in order; the role columns go before the organism_* ones.
constexpr ColumnSpec kLeadingColumns[] = {
    {"user_civility", Use::kAccountField, "civility"},
    {"user_firstname", Use::kAccountField, "given_name"},
    {"user_lastname", Use::kAccountField, "family_name"},
    {"user_username", Use::kLogin},
    {"user_connectionAttempts", Use::kOutputOnly},
    {"user_expirationDatePassword", Use::kOutputOnly},
    {"user_modifDatePassword", Use::kOutputOnly},
    {"profil_id", Use::kAccountId},
    {"profil_technicalIdentifier", Use::kAccountField, "technical_id"},
    {"profil_canton", Use::kAccountField, "canton"},
    {"profil_city", Use::kAccountField, "city"},
    {"profil_country", Use::kAccountField, "country"},
    {"profil_postalAddress", Use::kAccountField, "address"},
    {"profil_postalCode", Use::kAccountField, "postal_code"},
    {"profil_cellPhone", Use::kAccountField, "mobile_phone"},
    {"profil_email", Use::kAccountField, "notification_email"},
    {"profil_enabled", Use::kEnabled},
    {"profil_fax", Use::kAccountField, "fax"},
    {"profil_function", Use::kAccountField, "job_function"},
    {"profil_grace", Use::kNotKept},
    {"profil_phone", Use::kAccountField, "phone"},
    {"agent_profil_elected", Use::kAccountField, "elected"},
    {"agent_profil_executive", Use::kNotKept},
    {"agent_profil_representative", Use::kNotKept},
    {"agent_profil_substitute", Use::kNotKept},
};
constexpr ColumnSpec kTrailingColumns[] = {
    {"organism_department_id", Use::kService}, {"organism_department_label", Use::kOutputOnly},
    {"organism_id", Use::kStructure},          {"organism_label", Use::kOutputOnly},
    {"organism_siren", Use::kStructure},       {"organism_nic", Use::kStructure},
};

const ColumnSpec* FindColumn(absl::string_view name) {
  for (const ColumnSpec& c : kLeadingColumns) {
    if (c.name == name) return &c;
  }
  for (const ColumnSpec& c : kTrailingColumns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const google::protobuf::FieldDescriptor* AccountField(absl::string_view name) {
  return v1::Account::descriptor()->FindFieldByName(std::string(name));
}

std::string FormatDate(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d", FromTimestamp(timestamp), absl::UTCTimeZone());
}

std::optional<bool> ParseBool(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower.empty() || lower == "false" || lower == "0" || lower == "non" || lower == "no") return false;
  if (lower == "true" || lower == "1" || lower == "oui" || lower == "yes") return true;
  return std::nullopt;
}

// Reads the applications a structure subscribes to, sorted by id.
absl::StatusOr<std::vector<std::string>> SubscribedApplications(store::Reader& reader, absl::string_view siret) {
  std::vector<std::string> ids;
  absl::Status status = absl::OkStatus();
  RETURN_IF_ERROR(
      store::ScanPrefix(reader, store::SubscriptionPrefix(siret), [&](absl::string_view, absl::string_view value) {
        v1::Subscription subscription;
        std::optional<std::string> id;
        if (subscription.ParseFromString(std::string(value))) id = ParseApplicationName(subscription.application());
        if (!id) {
          status = absl::DataLossError("a stored subscription does not parse");
          return false;
        }
        ids.push_back(*id);
        return true;
      }));
  RETURN_IF_ERROR(status);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The display names of a structure's services, by service id.
absl::StatusOr<std::map<std::string, std::string>> ServiceLabels(store::Reader& reader, absl::string_view siret) {
  std::map<std::string, std::string> labels;
  const std::string prefix = store::ServicePrefix(siret);
  absl::Status status = absl::OkStatus();
  RETURN_IF_ERROR(store::ScanPrefix(reader, prefix, [&](absl::string_view key, absl::string_view value) {
    absl::string_view rest = key.substr(prefix.size());
    std::optional<std::string> id = store::ConsumeString(&rest);
    v1::Service service;
    if (!id || !service.ParseFromString(std::string(value))) {
      status = absl::DataLossError("a stored service does not parse");
      return false;
    }
    labels[*id] = service.display_name();
    return true;
  }));
  RETURN_IF_ERROR(status);
  return labels;
}

// The profile id a member holds for each application in the structure.
// The profiles held in `siret` by the members whose ids run from `first_id` to `last_id`: account id ->
// application id -> profile id. One scan for a whole page of members, since habilitations are keyed by
// structure then account, in the order the members are listed.
absl::StatusOr<std::map<std::string, std::map<std::string, std::string>>> HeldProfiles(store::Reader& reader,
                                                                                       absl::string_view siret,
                                                                                       absl::string_view first_id,
                                                                                       absl::string_view last_id) {
  std::map<std::string, std::map<std::string, std::string>> held;
  const std::string prefix = store::HabilitationPrefix(siret);
  absl::Status status = absl::OkStatus();
  RETURN_IF_ERROR(reader.Scan(store::MemberHabilitationPrefix(siret, first_id),
                              store::PrefixEnd(store::MemberHabilitationPrefix(siret, last_id)),
                              [&](absl::string_view key, absl::string_view value) {
                                absl::string_view rest = key.substr(prefix.size());
                                std::optional<std::string> account_id = store::ConsumeString(&rest);
                                v1::Habilitation habilitation;
                                std::optional<ProfileNameParts> profile;
                                if (account_id && habilitation.ParseFromString(std::string(value))) {
                                  profile = ParseProfileName(habilitation.profile());
                                }
                                if (!profile) {
                                  status = absl::DataLossError("a stored habilitation does not parse");
                                  return false;
                                }
                                held[*account_id][profile->application_id] = profile->profile_id;
                                return true;
                              }));
  RETURN_IF_ERROR(status);
  return held;
}

}  // namespace

std::vector<std::string> ExportHeader(const std::vector<std::string>& role_labels) {
  std::vector<std::string> header;
  for (const ColumnSpec& c : kLeadingColumns) header.emplace_back(c.name);
  for (const std::string& label : role_labels) header.push_back(absl::StrCat(kRolePrefix, label));
  for (const ColumnSpec& c : kTrailingColumns) header.emplace_back(c.name);
  return header;
}

// ---------------------------------------------------------------------------------------------------------------
// Export

namespace {

// Writes the leading cell of column `c` for account `a` (id `account_id`), copying no field it can refer to.
void WriteLeadingCell(csv::Writer& writer, const ColumnSpec& c, const std::string& account_id, const v1::Account& a) {
  switch (c.use) {
    case Use::kAccountField: {
      const auto* field = AccountField(c.account_field);
      const auto* reflection = v1::Account::GetReflection();
      if (field->type() == google::protobuf::FieldDescriptor::TYPE_BOOL) {
        return writer.Field(reflection->GetBool(a, field) ? "true" : "false");
      }
      std::string scratch;
      return writer.Field(reflection->GetStringReference(a, field, &scratch));
    }
    case Use::kLogin:
      return writer.Field(a.login_email());
    case Use::kAccountId:
      return writer.Field(account_id);
    case Use::kEnabled:
      return writer.Field(a.state() == v1::Account::ACTIVE ? "true" : "false");
    case Use::kNotKept:
      return writer.Field(c.name == "profil_grace" ? "" : "false");
    default:
      if (c.name == "user_connectionAttempts") return writer.Field(absl::StrCat(a.failed_login_attempts()));
      if (c.name == "user_expirationDatePassword") return writer.Field(FormatDate(a.password_expire_time()));
      if (c.name == "user_modifDatePassword") return writer.Field(FormatDate(a.password_change_time()));
      return writer.Field("");
  }
}

// One export: a snapshot of one structure written out as CSV, in pieces of about options.piece_bytes.
class AccountExporter {
 public:
  AccountExporter(store::Reader& reader, const ExportOptions& options,
                  absl::FunctionRef<absl::Status(absl::string_view)> write)
      : reader_(reader),
        options_(options),
        siret_(options.siret),
        write_(write),
        writer_(out_, options.guard_formulas) {}

  // Writes the header and every member's row; returns how many rows.
  absl::StatusOr<int64_t> Run() {
    RETURN_IF_ERROR(LoadRecord(reader_, store::StructureKey(siret_), structure_, "STRUCTURE_NOT_FOUND",
                               absl::StrCat("structure ", siret_, " does not exist")));
    ASSIGN_OR_RETURN(std::vector<std::string> applications, SubscribedApplications(reader_, siret_));
    ASSIGN_OR_RETURN(role_columns_, ExportRoleColumns(reader_, applications));
    ASSIGN_OR_RETURN(service_labels_, ServiceLabels(reader_, siret_));
    if (options_.byte_order_mark) absl::StrAppend(&out_, csv::kByteOrderMark);
    std::vector<std::string> labels;
    for (const RoleColumn& column : role_columns_) labels.push_back(column.label);
    for (const std::string& column : ExportHeader(labels)) writer_.Field(column);
    writer_.EndRecord();
    RETURN_IF_ERROR(WriteMembers());
    if (!out_.empty()) RETURN_IF_ERROR(write_(out_));
    return rows_;
  }

 private:
  using Page = std::vector<std::pair<std::string, v1::Membership>>;
  static constexpr size_t kPage = 256;

  // Members in pages, so that no store iterator stays open while a piece is written out.
  absl::Status WriteMembers() {
    const std::string prefix = store::MembershipPrefix(siret_);
    std::string begin = prefix;
    Page page;
    while (true) {
      ASSIGN_OR_RETURN(std::string last_key, ReadMembers(prefix, begin, page));
      if (page.empty()) return absl::OkStatus();
      ASSIGN_OR_RETURN(auto held, HeldProfiles(reader_, siret_, page.front().first, page.back().first));
      for (const auto& [account_id, membership] : page) {
        auto it = held.find(account_id);
        RETURN_IF_ERROR(WriteMember(account_id, membership, it == held.end() ? kHoldsNone : it->second));
      }
      if (page.size() < kPage) return absl::OkStatus();
      begin = last_key;
      begin.push_back('\0');
    }
  }

  // Reads up to kPage memberships from `begin` into `page`; returns the last key read.
  absl::StatusOr<std::string> ReadMembers(const std::string& prefix, const std::string& begin, Page& page) {
    page.clear();
    std::string last_key;
    absl::Status parsed = absl::OkStatus();
    RETURN_IF_ERROR(reader_.Scan(begin, store::PrefixEnd(prefix), [&](absl::string_view key, absl::string_view value) {
      absl::string_view rest = key.substr(prefix.size());
      std::optional<std::string> id = store::ConsumeString(&rest);
      auto& [account_id, membership] = page.emplace_back();
      if (!id || !membership.ParseFromString(std::string(value))) {
        parsed = absl::DataLossError("a stored membership does not parse");
        return false;
      }
      account_id = std::move(*id);
      last_key = std::string(key);
      return page.size() < kPage;
    }));
    RETURN_IF_ERROR(parsed);
    return last_key;
  }

  absl::Status WriteMember(const std::string& account_id, const v1::Membership& membership,
                           const std::map<std::string, std::string>& held) {
    ASSIGN_OR_RETURN(internal::AccountRecord record, LoadAccount(reader_, account_id));
    for (const ColumnSpec& c : kLeadingColumns) WriteLeadingCell(writer_, c, account_id, record.account());
    for (const RoleColumn& column : role_columns_) {
      auto it = held.find(column.application_id);
      writer_.Field(it == held.end() ? "" : ProfileCell(column.profiles, it->second));
    }
    const std::string service_id = ServiceIdOf(membership);
    writer_.Field(service_id);
    auto label = service_labels_.find(service_id);
    writer_.Field(label == service_labels_.end() ? "" : label->second);
    writer_.Field(siret_);
    writer_.Field(structure_.display_name());
    writer_.Field(siret_.substr(0, 9));
    writer_.Field(siret_.substr(9));
    writer_.EndRecord();
    ++rows_;
    if (out_.size() < options_.piece_bytes) return absl::OkStatus();
    RETURN_IF_ERROR(write_(out_));
    out_.clear();
    return absl::OkStatus();
  }

  inline static const std::map<std::string, std::string> kHoldsNone;
  store::Reader& reader_;
  const ExportOptions& options_;
  const std::string& siret_;
  absl::FunctionRef<absl::Status(absl::string_view)> write_;
  std::string out_;
  csv::Writer writer_;
  v1::Structure structure_;
  std::vector<RoleColumn> role_columns_;
  std::map<std::string, std::string> service_labels_;
  int64_t rows_ = 0;
};

}  // namespace

absl::StatusOr<ExportResult> ExportAccounts(store::Store& store, const ExportOptions& options,
                                            absl::FunctionRef<absl::Status(absl::string_view)> write) {
  ExportResult result;
  // A bulk read: an export of a large structure must not push the access checks' working set out of the cache.
  absl::StatusOr<store::Revision> revision = store.Read(
      [&](store::Reader& reader) -> absl::Status {
        AccountExporter exporter(reader, options, write);
        ASSIGN_OR_RETURN(result.rows, exporter.Run());
        return absl::OkStatus();
      },
      store::ReadOptions{.bulk = true});
  if (!revision.ok()) return revision.status();
  result.revision = *revision;
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Import

struct AccountImport::Header {
  std::vector<std::string> names;        // by column index
  std::vector<const ColumnSpec*> specs;  // null for role columns
  // Role columns: the application's label as the file gives it, then its id once the store is read
  // (ResolveRoleColumns); "" for other columns.
  std::vector<std::string> role_application;
  bool roles_resolved = false;
  std::optional<size_t> login, account_id, enabled, service, country;
  bool valid = false;

  std::optional<size_t> IndexOf(absl::string_view name) const {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return i;
    }
    return std::nullopt;
  }
};

// A row that passed the checks that need no store: its cells, packed.
struct AccountImport::Row {
  int64_t line = 0;
  std::string cells;
  std::vector<uint32_t> ends;

  absl::string_view Cell(size_t i) const {
    size_t begin = i == 0 ? 0 : ends[i - 1];
    return absl::string_view(cells).substr(begin, ends[i] - begin);
  }

  // The row as a spool record: line, cell count, cell ends, cells (host order: it never leaves the process).
  std::string Encode() const {
    std::string out;
    const uint32_t count = static_cast<uint32_t>(ends.size());
    out.append(reinterpret_cast<const char*>(&line), sizeof line);
    out.append(reinterpret_cast<const char*>(&count), sizeof count);
    out.append(reinterpret_cast<const char*>(ends.data()), count * sizeof(uint32_t));
    out.append(cells);
    return out;
  }
  static absl::StatusOr<Row> Decode(absl::string_view in) {
    Row row;
    uint32_t count = 0;
    if (in.size() < sizeof row.line + sizeof count) return absl::DataLossError("a spooled row is cut");
    std::memcpy(&row.line, in.data(), sizeof row.line);
    std::memcpy(&count, in.data() + sizeof row.line, sizeof count);
    in.remove_prefix(sizeof row.line + sizeof count);
    if (in.size() < count * sizeof(uint32_t)) return absl::DataLossError("a spooled row is cut");
    row.ends.resize(count);
    std::memcpy(row.ends.data(), in.data(), count * sizeof(uint32_t));
    in.remove_prefix(count * sizeof(uint32_t));
    if (count > 0 && row.ends.back() != in.size()) return absl::DataLossError("a spooled row is cut");
    row.cells = std::string(in);
    return row;
  }
};

namespace {

// 128 bits of SHA-256: the key under which duplicate logins and ids are found, small whatever the cell.
absl::uint128 Fingerprint(absl::string_view text) {
  const std::string digest = Sha256(text);
  uint64_t high, low;
  std::memcpy(&high, digest.data(), 8);
  std::memcpy(&low, digest.data() + 8, 8);
  return absl::MakeUint128(high, low);
}

}  // namespace

AccountImport::AccountImport(store::Store& store, const Clock& clock, const IdentityPolicy& policy,
                             authz::Principal caller, AuditContext audit, Options options)
    : store_(store),
      clock_(clock),
      policy_(policy),
      caller_(std::move(caller)),
      audit_(std::move(audit)),
      options_(std::move(options)) {}

AccountImport::~AccountImport() = default;

void AccountImport::AddError(int64_t line, absl::string_view column, absl::string_view reason,
                             absl::string_view message) {
  ++error_count_;
  if (static_cast<size_t>(error_count_) == options_.max_reported_errors) {
    spool_.reset();  // nothing will be written, and no further error reported: the rows are let go
    spool_dropped_ = true;
  }
  if (errors_.size() >= options_.max_reported_errors) return;
  v1::RowError& error = errors_.emplace_back();
  error.set_line(line);
  error.set_column(std::string(column));
  error.set_reason(std::string(reason));
  error.set_message(std::string(message));
}

void AccountImport::Feed(absl::string_view bytes) {
  reader_.Feed(bytes, [this](const csv::Record& record) { OnRecord(record); });
}

void AccountImport::OnRecord(const csv::Record& record) {
  if (header_ == nullptr) {
    OnHeader(record);
    return;
  }
  ++data_rows_;
  if (!header_->valid) return;  // the header's errors say it all
  std::optional<Row> row = RowOf(record);
  if (!row) return;
  const int64_t errors_before = error_count_;
  for (size_t i = 0; i < header_->names.size(); ++i) {
    if (const ColumnSpec* spec = header_->specs[i]; spec != nullptr) CheckCell(*spec, row->Cell(i), row->line);
  }
  if (error_count_ != errors_before) return;
  Spool(*row);
}

void AccountImport::OnHeader(const csv::Record& record) {
  header_ = std::make_unique<Header>();
  Header& h = *header_;
  h.valid = !record.error.has_value();
  if (record.error) {
    AddError(record.line, "", record.error->reason, record.error->message);
    return;
  }
  for (size_t i = 0; i < record.fields.size(); ++i) AddHeaderColumn(record.line, record.fields[i]);
  h.login = h.IndexOf("user_username");
  h.account_id = h.IndexOf("profil_id");
  h.enabled = h.IndexOf("profil_enabled");
  h.service = h.IndexOf("organism_department_id");
  h.country = h.IndexOf("profil_country");
  if (!h.login) {
    AddError(record.line, "user_username", "REQUIRED_COLUMN", "the file needs the user_username column");
    h.valid = false;
  }
}

void AccountImport::AddHeaderColumn(int64_t line, absl::string_view field) {
  Header& h = *header_;
  std::string name(absl::StripAsciiWhitespace(field));
  const ColumnSpec* spec = FindColumn(name);
  std::string application;
  if (spec == nullptr && absl::StartsWith(name, kRolePrefix)) {
    // The application's display name or id; which application it is, the store says (ResolveRoleColumns).
    application = std::string(absl::StripAsciiWhitespace(name.substr(kRolePrefix.size())));
    if (application.empty()) {
      AddError(line, name, "APPLICATION_REQUIRED",
               "a role column is agent_profil_role_<application name>, e.g. agent_profil_role_Salle des marchés");
      h.valid = false;
    }
  } else if (spec == nullptr) {
    AddError(line, name, "UNKNOWN_COLUMN", "not a column of the export format (docs/CSV.md); check its spelling");
    h.valid = false;
  }
  if (h.IndexOf(name)) {
    AddError(line, name, "DUPLICATE_COLUMN", "the column appears twice");
    h.valid = false;
  }
  h.names.push_back(name);
  h.specs.push_back(spec);
  h.role_application.push_back(application);
}

std::optional<AccountImport::Row> AccountImport::RowOf(const csv::Record& record) {
  const Header& h = *header_;
  if (record.error) {
    const size_t field = static_cast<size_t>(record.error->field) - 1;
    AddError(record.line, field < h.names.size() ? h.names[field] : "", record.error->reason, record.error->message);
    return std::nullopt;
  }
  if (record.fields.size() != h.names.size()) {
    AddError(record.line, "", "FIELD_COUNT",
             absl::StrCat("the row has ", record.fields.size(), " fields where the header has ", h.names.size()));
    return std::nullopt;
  }
  Row row;
  row.line = record.line;
  const absl::string_view country = h.country ? csv::UnguardFormula(record.fields[*h.country]) : "";
  for (size_t i = 0; i < record.fields.size(); ++i) {
    absl::StrAppend(&row.cells, RestoreSpreadsheetCell(h.names[i], csv::UnguardFormula(record.fields[i]), country));
    row.ends.push_back(static_cast<uint32_t>(row.cells.size()));
  }
  return row;
}

void AccountImport::CheckCell(const ColumnSpec& spec, absl::string_view cell, int64_t line) {
  switch (spec.use) {
    case Use::kLogin:
      return CheckLoginCell(spec, cell, line);
    case Use::kAccountId:
      return CheckAccountIdCell(spec, cell, line);
    case Use::kEnabled:
      if (!ParseBool(cell)) AddError(line, spec.name, "BOOLEAN_FORMAT", "must be true or false");
      return;
    case Use::kAccountField:
      if (AccountField(spec.account_field)->type() == google::protobuf::FieldDescriptor::TYPE_BOOL &&
          !ParseBool(cell)) {
        AddError(line, spec.name, "BOOLEAN_FORMAT", "must be true or false");
      }
      return;
    case Use::kNotKept:
      if (std::optional<bool> value = ParseBool(cell); !value || *value) {
        AddError(line, spec.name, "NOT_KEPT", "habilis does not keep this attribute: leave the cell empty (or false)");
      }
      return;
    case Use::kStructure:
      return CheckStructureCell(spec, cell, line);
    case Use::kService:
      if (!cell.empty() && !IsValidResourceId(cell)) {
        AddError(line, spec.name, "SERVICE_ID_FORMAT", "not a service id; leave it empty for the root level");
      }
      return;
    case Use::kOutputOnly:
      return;
  }
}

void AccountImport::CheckLoginCell(const ColumnSpec& spec, absl::string_view cell, int64_t line) {
  if (!IsEmail(absl::StripAsciiWhitespace(cell))) {
    AddError(line, spec.name, cell.empty() ? "REQUIRED" : "EMAIL_FORMAT",
             "the login must be an e-mail address such as name@example.fr");
    return;
  }
  auto [it, inserted] = logins_.emplace(Fingerprint(FoldEmail(cell)), line);
  if (!inserted) AddError(line, spec.name, "DUPLICATE_LOGIN", absl::StrCat("the login is also on line ", it->second));
}

void AccountImport::CheckAccountIdCell(const ColumnSpec& spec, absl::string_view cell, int64_t line) {
  if (cell.empty()) return;
  if (!ParseAccountName(absl::StrCat("accounts/", cell))) {
    AddError(line, spec.name, "ACCOUNT_ID_FORMAT", "not an account id of habilis; leave it empty");
    return;
  }
  auto [it, inserted] = ids_.emplace(Fingerprint(cell), line);
  if (!inserted) AddError(line, spec.name, "DUPLICATE_ID", absl::StrCat("the id is also on line ", it->second));
}

void AccountImport::CheckStructureCell(const ColumnSpec& spec, absl::string_view cell, int64_t line) {
  const std::string& siret = options_.siret;
  absl::string_view expected = spec.name == "organism_siren" ? absl::string_view(siret).substr(0, 9)
                               : spec.name == "organism_nic" ? absl::string_view(siret).substr(9)
                                                             : absl::string_view(siret);
  if (!cell.empty() && cell != expected) {
    AddError(line, spec.name, "WRONG_STRUCTURE",
             absl::StrCat("the row is about another structure; this import is for ", siret));
  }
}

// Keeps a row that passed its own checks for the store checks of Finish.
void AccountImport::Spool(const Row& row) {
  if (spool_dropped_ || !spool_status_.ok()) return;
  if (spool_ == nullptr) {
    absl::StatusOr<std::unique_ptr<csv::RecordSpool>> made = csv::RecordSpool::Create(options_.batch_rows);
    if (!made.ok()) {
      spool_status_ = made.status();
      return;
    }
    spool_ = *std::move(made);
  }
  spool_status_ = spool_->Append(row.Encode());
}

namespace {

// What one batch of rows did.
struct RowCounts {
  int64_t created = 0, updated = 0, unchanged = 0, activated = 0, attached = 0, granted = 0, revoked = 0;

  void AddTo(v1::ImportSummary& summary) const {
    summary.set_accounts_created(summary.accounts_created() + created);
    summary.set_accounts_updated(summary.accounts_updated() + updated);
    summary.set_accounts_unchanged(summary.accounts_unchanged() + unchanged);
    summary.set_accounts_activated(summary.accounts_activated() + activated);
    summary.set_accounts_attached(summary.accounts_attached() + attached);
    summary.set_habilitations_granted(summary.habilitations_granted() + granted);
    summary.set_habilitations_revoked(summary.habilitations_revoked() + revoked);
  }
};

// Applies rows to one transaction. Everything a row needs checked against the store is checked here, so that
// the dry run over the whole file and the commits run the same code.
class RowApplier {
 public:
  struct Context {
    const Clock& clock;
    const IdentityPolicy& policy;
    const authz::Principal& caller;
    const std::string& siret;
    const AccountImport::Header& header;
    const std::map<std::string, ApplicationProfiles>& profiles;
  };
  using ErrorSink = absl::FunctionRef<void(int64_t line, absl::string_view column, absl::string_view reason,
                                           absl::string_view message)>;

  RowApplier(const Context& context, store::Transaction& txn, ErrorSink error, RowCounts& counts)
      : c_(context), txn_(txn), error_(error), counts_(counts), now_(context.clock.Now()) {}

  // Checks and writes one row. A bad row is reported through the sink and returns false (its writes, if any,
  // are left in the transaction, which the caller then discards). Store failures are returned as errors.
  absl::StatusOr<bool> Apply(const AccountImport::Row& row);

 private:
  struct RoleChange {
    std::string application;
    std::string profile_id;  // "" to hold none
    std::string column;      // as the file names it
  };

  // The account a row is about, as found in the store.
  struct RowTarget {
    std::string login;  // folded
    std::string account_id;
    std::optional<v1::Membership> membership;  // in this structure
    internal::AccountRecord record;            // empty when the row creates the account
    bool create = false;                       // a new person
    bool attach = false;                       // an operator's row for an account of another structure
  };
  // The steps of Apply: each reports the row's problems through Bad and returns only store failures.
  absl::StatusOr<RowTarget> TargetOf(const AccountImport::Row& row);
  v1::Account WantedAccount(const AccountImport::Row& row, const RowTarget& target);
  absl::StatusOr<std::string> ServiceOf(const AccountImport::Row& row, const RowTarget& target);
  absl::StatusOr<std::vector<RoleChange>> RolesOf(const AccountImport::Row& row);
  std::optional<std::string> ProfileIdOf(const AccountImport::Row& row, absl::string_view column,
                                         const std::string& application, const std::string& cell);
  absl::StatusOr<bool> Write(const AccountImport::Row& row, RowTarget& target, const v1::Account& wanted,
                             const std::string& service_id, const std::vector<RoleChange>& roles);

  // Whether the structure subscribes to `application` (read once per transaction, with the profiles the rows
  // give: facts_).
  absl::StatusOr<bool> Subscribed(const std::string& application) {
    return facts_.Subscribed(txn_, c_.siret, application);
  }
  // One row's grant or revocation of the application's profile: HAB-GRANT / HAB-REVOKE's own operations.
  absl::StatusOr<bool> ApplyRole(const AccountImport::Row& row, const RoleChange& role, bool create,
                                 const std::string& account_id, const v1::Membership& member);

  // A refusal of a domain operation, as the row's error in `column`; a store failure stays a failure.
  absl::StatusOr<bool> Refused(const AccountImport::Row& row, absl::string_view column, const absl::Status& status) {
    if (ErrorReason(status).empty()) return status;
    Bad(row, column, ErrorReason(status), status.message());
    return false;
  }

  void Bad(const AccountImport::Row& row, absl::string_view column, absl::string_view reason,
           absl::string_view message) {
    bad_ = true;
    error_(row.line, column, reason, message);
  }

  const Context& c_;
  store::Transaction& txn_;
  ErrorSink error_;
  RowCounts& counts_;
  absl::Time now_;
  bool bad_ = false;
  GrantFacts facts_;
};

// The column an account field is read from.
absl::string_view ColumnOfAccountField(absl::string_view path) {
  absl::string_view field = path.substr(path.find('.') + 1);
  for (const ColumnSpec& c : kLeadingColumns) {
    if (c.use == Use::kAccountField && c.account_field == field) return c.name;
  }
  return field == "login_email" ? "user_username" : "";
}

absl::StatusOr<bool> RowApplier::Apply(const AccountImport::Row& row) {
  bad_ = false;
  ASSIGN_OR_RETURN(RowTarget target, TargetOf(row));
  v1::Account wanted = WantedAccount(row, target);
  ASSIGN_OR_RETURN(std::string service_id, ServiceOf(row, target));
  ASSIGN_OR_RETURN(std::vector<RoleChange> roles, RolesOf(row));
  if (bad_) return false;
  return Write(row, target, wanted, service_id, roles);
}

// Which account the row is about: a member of this structure with this login. Other structures' accounts are
// an operator's to see; for anyone else the row makes a new person (PlaceNewPerson decides how), and no error
// tells whether the login or the id exists elsewhere.
absl::StatusOr<RowApplier::RowTarget> RowApplier::TargetOf(const AccountImport::Row& row) {
  const AccountImport::Header& h = c_.header;
  RowTarget target;
  target.login = FoldEmail(row.Cell(*h.login));
  const std::string id_cell = h.account_id ? std::string(row.Cell(*h.account_id)) : "";
  const bool by_operator = c_.caller.kind == authz::PrincipalKind::kOperator;
  ASSIGN_OR_RETURN(std::optional<std::string> existing_id, MemberIdByLogin(txn_, c_.siret, target.login));
  if (!existing_id && by_operator) {
    ASSIGN_OR_RETURN(existing_id, AccountIdByLogin(txn_, target.login));
  }
  if (existing_id) {
    if (!id_cell.empty() && id_cell != *existing_id) {
      Bad(row, "profil_id", "ACCOUNT_ID_MISMATCH",
          absl::StrCat("this login belongs to account ", *existing_id, "; correct the id or leave it empty"));
    }
    ASSIGN_OR_RETURN(target.membership, MembershipIn(txn_, c_.siret, *existing_id));
    ASSIGN_OR_RETURN(target.record, LoadAccount(txn_, *existing_id));
  } else if (!id_cell.empty() && by_operator) {
    ASSIGN_OR_RETURN(bool taken, Exists(txn_, store::AccountKey(id_cell)));
    if (taken) {
      Bad(row, "profil_id", "ACCOUNT_ID_TAKEN",
          "another account has this id (with another login); leave the id empty to create a new account");
    }
  }
  target.attach = existing_id && !target.membership;
  target.create = !existing_id;
  // An administrator's file may come from another structure (export, then import elsewhere): the id of a
  // person who is not a member here names nothing here, and is set aside alike whether it exists elsewhere or
  // not. Only an operator chooses the id of a new account.
  target.account_id = existing_id ? *existing_id : (id_cell.empty() || !by_operator) ? RandomHex(8) : id_cell;
  return target;
}

// The account as the row wants it; a field that breaks NEW-CREATE's checks is the row's error in its column.
v1::Account RowApplier::WantedAccount(const AccountImport::Row& row, const RowTarget& target) {
  const AccountImport::Header& h = c_.header;
  v1::Account wanted = target.record.account();
  if (target.create) wanted.set_login_email(target.login);
  const auto* reflection = v1::Account::GetReflection();
  for (size_t i = 0; i < h.names.size(); ++i) {
    if (h.specs[i] == nullptr || h.specs[i]->use != Use::kAccountField) continue;
    const auto* field = AccountField(h.specs[i]->account_field);
    if (field->type() == google::protobuf::FieldDescriptor::TYPE_BOOL) {
      reflection->SetBool(&wanted, field, ParseBool(row.Cell(i)).value_or(false));
    } else {
      reflection->SetString(&wanted, field, std::string(row.Cell(i)));
    }
  }
  NormalizeAccount(wanted);
  FieldViolations violations;
  CheckAccountFields(violations, "account", wanted);
  for (const FieldViolations::Violation& v : violations.list()) {
    Bad(row, ColumnOfAccountField(v.field), v.reason, v.description);
  }
  return wanted;
}

// The service the row places the member in ("" for the root level): the cell if the file has the column,
// else the member's own.
absl::StatusOr<std::string> RowApplier::ServiceOf(const AccountImport::Row& row, const RowTarget& target) {
  const AccountImport::Header& h = c_.header;
  std::string service_id = target.membership ? ServiceIdOf(*target.membership) : "";
  if (h.service) service_id = std::string(row.Cell(*h.service));
  if (service_id.empty()) return service_id;
  ASSIGN_OR_RETURN(bool exists, Exists(txn_, store::ServiceKey(c_.siret, service_id)));
  if (!exists) {
    Bad(row, "organism_department_id", "SERVICE_NOT_FOUND",
        "the structure has no service with this id (ListServices shows them); leave it empty for the root level");
  }
  return service_id;
}

// The profile each role column asks for. A cell names a profile by id or by display name; whether it may be
// given is GiveProfile's to decide, at the write.
absl::StatusOr<std::vector<RowApplier::RoleChange>> RowApplier::RolesOf(const AccountImport::Row& row) {
  const AccountImport::Header& h = c_.header;
  std::vector<RoleChange> roles;
  for (size_t i = 0; i < h.names.size(); ++i) {
    const std::string& application = h.role_application[i];
    if (application.empty()) continue;
    std::string cell(absl::StripAsciiWhitespace(row.Cell(i)));
    if (cell.empty()) {
      // No profile. Habilitations kept from an ended subscription are left alone.
      ASSIGN_OR_RETURN(bool subscribed, Subscribed(application));
      if (subscribed) roles.push_back({application, "", h.names[i]});
      continue;
    }
    std::optional<std::string> profile_id = ProfileIdOf(row, h.names[i], application, cell);
    if (profile_id) roles.push_back({application, *profile_id, h.names[i]});
  }
  return roles;
}

// The profile of `application` a cell names by id or by display name, or nullopt after reporting why not.
std::optional<std::string> RowApplier::ProfileIdOf(const AccountImport::Row& row, absl::string_view column,
                                                   const std::string& application, const std::string& cell) {
  const ApplicationProfiles& profiles = c_.profiles.at(application);
  if (!profiles.exists) {
    Bad(row, column, "APPLICATION_NOT_FOUND", absl::StrCat("there is no application ", application));
    return std::nullopt;
  }
  if (profiles.by_id.contains(cell)) return cell;
  auto by_label = profiles.by_label.find(absl::AsciiStrToLower(cell));
  if (by_label == profiles.by_label.end()) {
    Bad(row, column, "PROFILE_NOT_FOUND",
        absl::StrCat("application ", application, " has no profile \"", cell, "\" (ListProfiles shows them)"));
    return std::nullopt;
  }
  if (by_label->second.empty()) {
    Bad(row, column, "PROFILE_AMBIGUOUS", "several profiles have this name: give the profile id");
    return std::nullopt;
  }
  return by_label->second;
}

// The row's writes, through the domain's operations: the new person (NEW-CREATE), the member's service,
// fields and activation, then each role (HAB-GRANT / HAB-REVOKE).
absl::StatusOr<bool> RowApplier::Write(const AccountImport::Row& row, RowTarget& target, const v1::Account& wanted,
                                       const std::string& service_id, const std::vector<RoleChange>& roles) {
  const AccountImport::Header& h = c_.header;
  internal::AccountRecord& record = target.record;
  bool changed = false;
  v1::Membership placed;
  placed.set_structure(StructureName(c_.siret));
  placed.set_role(target.membership ? target.membership->role() : v1::COLLABORATOR);
  if (!service_id.empty()) placed.set_service(ServiceResourceName(c_.siret, service_id));
  if (target.create || target.attach) {
    absl::StatusOr<PlacedPerson> person =
        PlaceNewPerson(txn_, c_.caller, c_.siret, wanted, placed, now_, target.account_id);
    if (!person.ok()) return Refused(row, "user_username", person.status());
    if (target.attach) {
      ++counts_.attached;
      changed = true;
    } else {
      record = std::move(person->record);
      ++counts_.created;
    }
  } else if (placed.service() != target.membership->service()) {
    KeepSuspension(*target.membership, placed);
    RETURN_IF_ERROR(PutMembership(txn_, target.account_id, placed, &*target.membership));
    changed = true;
  }
  if (!target.create && !google::protobuf::util::MessageDifferencer::Equals(wanted, record.account())) {
    *record.mutable_account() = wanted;
    RETURN_IF_ERROR(SaveAccount(txn_, record, now_));
    changed = true;
  }
  if (h.enabled && *ParseBool(row.Cell(*h.enabled)) && record.account().state() != v1::Account::ACTIVE) {
    RETURN_IF_ERROR(ActivateAccount(txn_, record, now_, c_.policy, c_.siret));
    ++counts_.activated;
    changed = true;
  }
  for (const RoleChange& role : roles) {
    ASSIGN_OR_RETURN(bool role_changed, ApplyRole(row, role, target.create, target.account_id, placed));
    if (bad_) return false;
    changed |= role_changed;
  }
  if (!target.create) ++(changed ? counts_.updated : counts_.unchanged);
  return true;
}

absl::StatusOr<bool> RowApplier::ApplyRole(const AccountImport::Row& row, const RoleChange& role, bool create,
                                           const std::string& account_id, const v1::Membership& member) {
  const std::string& column = role.column;
  if (role.profile_id.empty()) {
    if (create) return false;  // a new account holds nothing to revoke
    absl::StatusOr<v1::Habilitation> taken =
        TakeProfile(txn_, facts_, c_.caller, c_.siret, account_id, member, role.application, now_, /*notify=*/true);
    if (!taken.ok() && ErrorReason(taken.status()) == "HABILITATION_NOT_FOUND") return false;
    if (!taken.ok()) return Refused(row, column, taken.status());
    ++counts_.revoked;
    return true;
  }
  // A new account hears of its profiles with its activation; an existing one, as for HAB-GRANT.
  absl::StatusOr<GivenProfile> given = GiveProfile(txn_, facts_, c_.caller, c_.siret, account_id, member,
                                                   {role.application, role.profile_id}, now_, /*notify=*/!create);
  if (!given.ok()) return Refused(row, column, given.status());
  if (given->changed) ++counts_.granted;
  return given->changed;
}

// Runs `work(0)` here and `work(1)` on a second thread, and returns when both are done: the import's check
// and its commits each keep both cores busy.
void OnTwoThreads(absl::FunctionRef<void(int worker)> work) {
  std::thread second([&] { work(1); });
  work(0);
  second.join();
}

// Seed 003 names role columns after the application's display name: each label becomes the id of the application
// it names (ApplicationOfColumn), once per import.
absl::Status ResolveRoleColumns(store::Store& store, absl::string_view siret, AccountImport::Header& header) {
  if (header.roles_resolved) return absl::OkStatus();
  RETURN_IF_ERROR(store
                      .Read([&](store::Reader& reader) -> absl::Status {
                        ASSIGN_OR_RETURN(std::vector<std::string> subscribed, SubscribedApplications(reader, siret));
                        std::set<std::string> seen;
                        for (std::string& application : header.role_application) {
                          if (application.empty()) continue;
                          ASSIGN_OR_RETURN(application, ApplicationOfColumn(reader, subscribed, application));
                          if (!seen.insert(application).second) {
                            return Error(absl::StatusCode::kInvalidArgument, "DUPLICATE_COLUMN",
                                         absl::StrCat("two role columns name the application ", application));
                          }
                        }
                        return absl::OkStatus();
                      })
                      .status());
  header.roles_resolved = true;
  return absl::OkStatus();
}

// The profiles of the applications the file's role columns name, read once.
absl::StatusOr<std::map<std::string, ApplicationProfiles>> LoadFileProfiles(store::Store& store,
                                                                            absl::string_view siret,
                                                                            const AccountImport::Header& header) {
  std::map<std::string, ApplicationProfiles> profiles;
  RETURN_IF_ERROR(store
                      .Read([&](store::Reader& reader) -> absl::Status {
                        RETURN_IF_ERROR(StructureMustExist(reader, siret));
                        for (const std::string& application : header.role_application) {
                          if (application.empty()) continue;
                          ASSIGN_OR_RETURN(profiles[application], LoadProfiles(reader, application));
                        }
                        return absl::OkStatus();
                      })
                      .status());
  return profiles;
}

// What the import's two phases need of it: its rows, by batch, and where its errors go.
struct SpooledRows {
  size_t batches;
  absl::FunctionRef<absl::Status(size_t batch, absl::FunctionRef<absl::Status(const AccountImport::Row&)>)> read;
};

// The check of one half of the batches, on a snapshot, each row's writes kept in scratch memory.
struct CheckedHalf {
  RowCounts counts;
  std::vector<std::tuple<int64_t, std::string, std::string, std::string>> errors;
  absl::Status status;
};

void CheckBatches(store::Reader& reader, const RowApplier::Context& context, const SpooledRows& rows,
                  size_t first_batch, size_t end_batch, CheckedHalf& half) {
  store::OverlayTransaction scratch(reader);
  auto sink = [&](int64_t line, absl::string_view column, absl::string_view reason, absl::string_view message) {
    half.errors.emplace_back(line, std::string(column), std::string(reason), std::string(message));
  };
  RowApplier applier(context, scratch, sink, half.counts);
  for (size_t batch = first_batch; batch < end_batch && half.status.ok(); ++batch) {
    half.status = rows.read(batch, [&](const AccountImport::Row& row) -> absl::Status {
      RETURN_IF_ERROR(applier.Apply(row).status());
      scratch.Clear();
      return absl::OkStatus();
    });
  }
}

// Commits the rows of one batch with its audit entry; IMPORT_INTERRUPTED if a row no longer fits.
absl::StatusOr<store::Revision> CommitBatch(store::Store& store, const AuditContext& audit,
                                            const RowApplier::Context& context,
                                            const std::vector<AccountImport::Row>& rows, RowCounts& counts) {
  return AuditedUpdate(store, audit, [&](store::Transaction& txn) -> absl::Status {
    counts = RowCounts();
    RETURN_IF_ERROR(CallerStillHolds(txn, context.caller));  // an import runs long
    RETURN_IF_ERROR(txn.ProtectRange(store::StructureGuardKey(context.siret)));
    auto ignore = [](int64_t, absl::string_view, absl::string_view, absl::string_view) {};
    RowApplier applier(context, txn, ignore, counts);
    for (const AccountImport::Row& row : rows) {
      ASSIGN_OR_RETURN(bool good, applier.Apply(row));
      if (good) continue;
      return Error(absl::StatusCode::kAborted, "IMPORT_INTERRUPTED",
                   absl::StrCat("line ", row.line,
                                " no longer fits the store (it changed since the check); the batches committed "
                                "so far stay: send the file again to finish"));
    }
    return absl::OkStatus();
  });
}

// The check of every row: on one snapshot, on two threads (the snapshot reads are thread-safe, and rows are
// independent: they name distinct logins and ids), each thread one half of the batches.
absl::Status CheckRows(store::Store& store, const RowApplier::Context& context, const SpooledRows& rows,
                       RowApplier::ErrorSink report, v1::ImportSummary& summary) {
  CheckedHalf halves[2];
  absl::StatusOr<store::Revision> revision = store.Read([&](store::Reader& reader) -> absl::Status {
    RETURN_IF_ERROR(CallerStillHolds(reader, context.caller));
    const size_t middle = rows.batches / 2;
    OnTwoThreads([&](int worker) {
      CheckBatches(reader, context, rows, worker == 0 ? 0 : middle, worker == 0 ? middle : rows.batches,
                   halves[worker]);
    });
    return absl::OkStatus();
  });
  if (!revision.ok()) return revision.status();
  for (CheckedHalf& half : halves) {
    RETURN_IF_ERROR(half.status);
    half.counts.AddTo(summary);
    for (const auto& [line, column, reason, message] : half.errors) report(line, column, reason, message);
  }
  summary.set_consistency_token(EncodeConsistencyToken(*revision));
  return absl::OkStatus();
}

// The commits: batches taken in turn by two workers, so that one builds its batch while the other commits.
// Batches of one file never conflict with each other: their rows name distinct accounts, and they bump the
// structure's guard without watching it. That is sound because every decision a row makes rests on keys it
// reads (watched), and it still makes the readers of the structure's memberships (service deletion, the
// last administrator) conflict with it.
absl::Status CommitRows(store::Store& store, const AuditContext& audit, const RowApplier::Context& context,
                        const SpooledRows& rows, v1::ImportSummary& summary) {
  std::atomic<size_t> next_batch{0};
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  absl::Status failed;
  store::Revision last_revision = 0;
  OnTwoThreads([&](int) {
    for (size_t batch = next_batch++; !stop.load() && batch < rows.batches; batch = next_batch++) {
      std::vector<AccountImport::Row> batch_rows;
      absl::Status read = rows.read(batch, [&](const AccountImport::Row& row) {
        batch_rows.push_back(row);
        return absl::OkStatus();
      });
      RowCounts counts;
      absl::StatusOr<store::Revision> revision =
          read.ok() ? CommitBatch(store, audit, context, batch_rows, counts) : read;
      absl::MutexLock lock(&mu);
      if (!revision.ok()) {
        if (failed.ok()) failed = revision.status();
        stop = true;
        return;
      }
      counts.AddTo(summary);
      summary.set_batches_committed(summary.batches_committed() + 1);
      last_revision = std::max(last_revision, *revision);
    }
  });
  if (last_revision != 0) summary.set_consistency_token(EncodeConsistencyToken(last_revision));
  return failed;
}

}  // namespace

absl::Status AccountImport::ForEachSpooledRow(size_t batch, absl::FunctionRef<absl::Status(const Row&)> visit) const {
  return spool_->ReadBatch(batch, [&](absl::string_view record) -> absl::Status {
    ASSIGN_OR_RETURN(Row row, Row::Decode(record));
    return visit(row);
  });
}

absl::Status AccountImport::RunBatches(bool commit, v1::ImportSummary& summary) {
  RETURN_IF_ERROR(spool_status_);
  if (spool_ != nullptr) RETURN_IF_ERROR(spool_->Seal());
  RETURN_IF_ERROR(ResolveRoleColumns(store_, options_.siret, *header_));
  ASSIGN_OR_RETURN(auto profiles, LoadFileProfiles(store_, options_.siret, *header_));
  const RowApplier::Context context{clock_, policy_, caller_, options_.siret, *header_, profiles};
  auto read = [this](size_t batch, absl::FunctionRef<absl::Status(const Row&)> visit) {
    return ForEachSpooledRow(batch, visit);
  };
  const SpooledRows rows{spool_ == nullptr ? 0 : spool_->batches(), read};
  if (commit) return CommitRows(store_, audit_, context, rows, summary);
  auto report = [this](int64_t line, absl::string_view column, absl::string_view reason, absl::string_view message) {
    AddError(line, column, reason, message);
  };
  return CheckRows(store_, context, rows, report, summary);
}

absl::StatusOr<v1::ImportSummary> AccountImport::Finish(
    absl::FunctionRef<void(const std::vector<v1::RowError>&)> report) {
  reader_.Finish([this](const csv::Record& record) { OnRecord(record); });
  if (header_ == nullptr) {
    AddError(1, "", "EMPTY_FILE", "the file is empty: it needs at least the header line");
  }
  v1::ImportSummary summary;
  summary.set_validate_only(options_.validate_only);
  summary.set_rows(data_rows_);
  if (header_ != nullptr && header_->valid) {
    // The dry run over every row: what the store says about each.
    v1::ImportSummary dry;
    RETURN_IF_ERROR(RunBatches(/*commit=*/false, dry));
    if (error_count_ == 0) {
      if (options_.validate_only) {
        dry.set_validate_only(true);
        dry.set_rows(data_rows_);
        if (dry.consistency_token().empty()) {
          ASSIGN_OR_RETURN(store::Revision latest, store_.LatestRevision());
          dry.set_consistency_token(EncodeConsistencyToken(latest));
        }
        return dry;
      }
      if (options_.after_check) options_.after_check();
      RETURN_IF_ERROR(RunBatches(/*commit=*/true, summary));
      if (summary.consistency_token().empty()) {
        ASSIGN_OR_RETURN(store::Revision latest, store_.LatestRevision());
        summary.set_consistency_token(EncodeConsistencyToken(latest));
      }
      return summary;
    }
  }
  std::stable_sort(errors_.begin(), errors_.end(),
                   [](const v1::RowError& a, const v1::RowError& b) { return a.line() < b.line(); });
  constexpr size_t kGroup = 100;
  for (size_t i = 0; i < errors_.size(); i += kGroup) {
    std::vector<v1::RowError> group(errors_.begin() + i, errors_.begin() + std::min(errors_.size(), i + kGroup));
    report(group);
  }
  std::string message = absl::StrCat(error_count_,
                                     " problem(s) in the file; nothing was imported. Each one is "
                                     "reported with its line and column.");
  if (static_cast<size_t>(error_count_) > errors_.size()) {
    absl::StrAppend(&message, " Only the first ", errors_.size(), " are reported.");
  }
  return Error(absl::StatusCode::kInvalidArgument, "IMPORT_ROWS_INVALID", message);
}

}  // namespace habilis::domain
