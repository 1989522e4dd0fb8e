// CSV-EXPORT and CSV-IMPORT over gRPC against the real habilisd: the round trip, all-or-nothing imports that
// report every bad row, dry runs, idempotent re-imports, files sent in small pieces, and who may call.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/cpp/client.h"
#include "gtest/gtest.h"
#include "habilis/v1/account_files.grpc.pb.h"
#include "habilis/v1/accounts.grpc.pb.h"
#include "habilis/v1/api_keys.grpc.pb.h"
#include "habilis/v1/applications.grpc.pb.h"
#include "habilis/v1/audit.grpc.pb.h"
#include "habilis/v1/entitlements.grpc.pb.h"
#include "habilis/v1/org_chart.grpc.pb.h"
#include "habilis/v1/structures.grpc.pb.h"
#include "tests/testing/habilisd_process.h"
#include "tests/testing/smtp_sink.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

constexpr char kSiret[] = "73282932000074";
constexpr char kStructure[] = "structures/73282932000074";

std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  if (!bearer.empty()) client::Authorize(*context, bearer);
  return context;
}

#define ASSERT_RPC_OK(call)                                                \
  do {                                                                     \
    grpc::Status status_ = (call);                                         \
    ASSERT_TRUE(status_.ok()) << #call << ": " << status_.error_message(); \
  } while (false)

struct ImportResult {
  grpc::Status status;
  std::vector<v1::RowError> errors;
  v1::ImportSummary summary;
};

// One habilisd with its own data directory, an operator key, and a structure set up the same way every
// time: two services, two applications with their profiles, both subscribed.
class Instance {
 public:
  void Start(testing::SmtpSink& sink) {
    testing::RunResult created = testing::RunHabilisd({"--data-dir", dir_.Sub("data"), "--create-operator-key", "t"});
    ASSERT_EQ(created.exit_code, 0);
    operator_key = std::string(absl::StripAsciiWhitespace(created.out));
    auto process =
        testing::HabilisdProcess::Start(dir_.Sub("data"), {"--smtp-url", sink.url(), "--mail-poll-ms", "50"});
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(process).value();
    channel = client::Connect(process_->target());
    structures = v1::StructureService::NewStub(channel);
    org_chart = v1::OrgChartService::NewStub(channel);
    applications = v1::ApplicationService::NewStub(channel);
    api_keys = v1::ApiKeyService::NewStub(channel);
    accounts = v1::AccountService::NewStub(channel);
    entitlements = v1::EntitlementService::NewStub(channel);
    files = v1::AccountFileService::NewStub(channel);
    audit = v1::AuditService::NewStub(channel);

    v1::CreateStructureRequest structure;
    structure.mutable_structure()->set_siret(kSiret);
    structure.mutable_structure()->set_category("Commune");
    structure.mutable_structure()->set_display_name("Commune de Brest");
    structure.mutable_structure()->set_address("1 place");
    structure.mutable_structure()->set_postal_code("29200");
    structure.mutable_structure()->set_city("Brest");
    v1::CreateStructureResponse s;
    ASSERT_RPC_OK(structures->CreateStructure(As(operator_key).get(), structure, &s));
    for (auto [id, label] : {std::pair{"finances", "Finances"}, std::pair{"etat-civil", "État civil, accueil"}}) {
      v1::CreateServiceRequest service;
      service.set_parent(kStructure);
      service.set_service_id(id);
      service.mutable_service()->set_display_name(label);
      v1::CreateServiceResponse created_service;
      ASSERT_RPC_OK(org_chart->CreateService(As(operator_key).get(), service, &created_service));
    }
    const std::map<std::string, std::vector<std::pair<std::string, std::string>>> profiles = {
        {"portail", {{"utilisateur", "Utilisateur du service"}, {"admin", "Administrateur"}}},
        {"marches", {{"acheteur", "Acheteur"}}}};
    const std::map<std::string, std::string> names = {{"portail", "Portail"}, {"marches", "Salle des marchés"}};
    for (const auto& [application, its_profiles] : profiles) {
      v1::CreateApplicationRequest app;
      app.set_application_id(application);
      app.mutable_application()->set_display_name(names.at(application));
      v1::CreateApplicationResponse a;
      ASSERT_RPC_OK(applications->CreateApplication(As(operator_key).get(), app, &a));
      for (const auto& [id, label] : its_profiles) {
        v1::CreateProfileRequest profile;
        profile.set_parent("applications/" + application);
        profile.set_profile_id(id);
        profile.mutable_profile()->set_display_name(label);
        profile.mutable_profile()->add_permissions("lire");
        v1::CreateProfileResponse p;
        ASSERT_RPC_OK(applications->CreateProfile(As(operator_key).get(), profile, &p));
      }
      v1::CreateSubscriptionRequest subscription;
      subscription.set_parent(kStructure);
      subscription.set_application("applications/" + application);
      v1::CreateSubscriptionResponse sub;
      ASSERT_RPC_OK(entitlements->CreateSubscription(As(operator_key).get(), subscription, &sub));
    }
  }

  // Creates a member through the API; returns its name.
  std::string CreateAccount(const std::string& login, const std::string& given_name, const std::string& service,
                            std::function<void(v1::Account&)> more = nullptr) {
    v1::CreateAccountRequest request;
    request.set_parent(kStructure);
    v1::Account* a = request.mutable_account();
    a->set_login_email(login);
    a->set_given_name(given_name);
    a->set_family_name("Le Goff");
    a->set_address("2 rue de Siam");
    a->set_postal_code("29200");
    a->set_city("Brest");
    if (more) more(*a);
    request.mutable_membership()->set_role(v1::COLLABORATOR);
    if (!service.empty()) request.mutable_membership()->set_service(absl::StrCat(kStructure, "/services/", service));
    v1::CreateAccountResponse response;
    grpc::Status status = accounts->CreateAccount(As(operator_key).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.account().name();
  }

  void Grant(const std::string& account, const std::string& profile) {
    v1::GrantHabilitationRequest request;
    request.set_structure(kStructure);
    request.set_account(account);
    request.set_profile(profile);
    v1::GrantHabilitationResponse response;
    grpc::Status status = entitlements->GrantHabilitation(As(operator_key).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  std::string Export(bool byte_order_mark = false, bool allow_formulas = false, const std::string& bearer = "",
                     grpc::Status* status_out = nullptr) {
    v1::ExportAccountsRequest request;
    request.set_parent(kStructure);
    request.set_byte_order_mark(byte_order_mark);
    request.set_allow_formulas(allow_formulas);
    auto context = As(bearer.empty() ? operator_key : bearer);
    auto reader = files->ExportAccounts(context.get(), request);
    std::string file;
    v1::ExportAccountsResponse piece;
    int64_t rows = -1;
    while (reader->Read(&piece)) {
      file += piece.data();
      if (!piece.consistency_token().empty()) rows = piece.row_count();
    }
    grpc::Status status = reader->Finish();
    if (status_out != nullptr) {
      *status_out = status;
    } else {
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    last_row_count = rows;
    return file;
  }

  // Sends `file` in pieces of `piece` bytes.
  ImportResult Import(const std::string& file, bool validate_only = false, size_t piece = 64 * 1024,
                      const std::string& bearer = "", const std::string& parent = kStructure) {
    auto context = As(bearer.empty() ? operator_key : bearer);
    auto stream = files->ImportAccounts(context.get());
    v1::ImportAccountsRequest first;
    first.set_parent(parent);
    first.set_validate_only(validate_only);
    size_t offset = std::min(piece, file.size());
    first.set_data(file.substr(0, offset));
    stream->Write(first);
    while (offset < file.size()) {
      v1::ImportAccountsRequest next;
      next.set_data(file.substr(offset, piece));
      offset += piece;
      if (!stream->Write(next)) break;
    }
    stream->WritesDone();
    ImportResult result;
    v1::ImportAccountsResponse response;
    while (stream->Read(&response)) {
      for (const v1::RowError& e : response.row_errors()) result.errors.push_back(e);
      if (response.has_summary()) result.summary = response.summary();
    }
    result.status = stream->Finish();
    return result;
  }

  int MemberCount() {
    v1::ListAccountsRequest request;
    request.set_parent(kStructure);
    request.set_page_size(1000);
    v1::ListAccountsResponse response;
    EXPECT_TRUE(accounts->ListAccounts(As(operator_key).get(), request, &response).ok());
    return response.accounts_size();
  }

  std::string operator_key;
  std::shared_ptr<grpc::Channel> channel;
  // The row_count of the last export.
  int64_t last_row_count = -1;
  std::unique_ptr<v1::StructureService::Stub> structures;
  std::unique_ptr<v1::OrgChartService::Stub> org_chart;
  std::unique_ptr<v1::ApplicationService::Stub> applications;
  std::unique_ptr<v1::ApiKeyService::Stub> api_keys;
  std::unique_ptr<v1::AccountService::Stub> accounts;
  std::unique_ptr<v1::EntitlementService::Stub> entitlements;
  std::unique_ptr<v1::AccountFileService::Stub> files;
  std::unique_ptr<v1::AuditService::Stub> audit;

 private:
  testing::TempDir dir_;
  std::unique_ptr<testing::HabilisdProcess> process_;
};

std::string ErrorInfoReason(const grpc::Status& status) { return client::DetailsOf(status).reason; }

class AccountFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sink = testing::SmtpSink::Start();
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = std::move(sink).value();
    source_.Start(*sink_);
  }

  // A structure with people in every situation the export shows.
  void Populate() {
    std::string anne = source_.CreateAccount("anne@example.fr", "Anne", "finances", [](v1::Account& a) {
      a.set_civility("Mme");
      a.set_mobile_phone("+33 6 12 34 56 78");
      a.set_job_function("Secrétaire générale, \"DGS\"");
      a.set_notification_email("secretariat@example.fr");
      a.set_elected(true);
      a.set_technical_id("=AGENT-7");
    });
    std::string yves = source_.CreateAccount("yves@example.fr", "Yves", "etat-civil");
    source_.CreateAccount("zoe@example.fr", "Zoé", "", [](v1::Account& a) { a.set_address("3 rue, Bâtiment B"); });
    source_.Grant(anne, "applications/portail/profiles/admin");
    source_.Grant(anne, "applications/marches/profiles/acheteur");
    source_.Grant(yves, "applications/portail/profiles/utilisateur");
    v1::ActivateAccountRequest activate;
    activate.set_name(yves);
    activate.set_structure(kStructure);
    v1::ActivateAccountResponse activated;
    ASSERT_RPC_OK(source_.accounts->ActivateAccount(As(source_.operator_key).get(), activate, &activated));
  }

  std::unique_ptr<testing::SmtpSink> sink_;
  Instance source_;
};

TEST_F(AccountFilesTest, CsvExportHasTheColumnsOfSeed003) {
  Populate();
  std::string file = source_.Export();
  std::vector<std::string> lines = absl::StrSplit(file, "\r\n");
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(
      lines[0],
      "user_civility,user_firstname,user_lastname,user_username,user_connectionAttempts,"
      "user_expirationDatePassword,user_modifDatePassword,profil_id,profil_technicalIdentifier,profil_canton,"
      "profil_city,profil_country,profil_postalAddress,profil_postalCode,profil_cellPhone,profil_email,"
      "profil_enabled,profil_fax,profil_function,profil_grace,profil_phone,agent_profil_elected,"
      "agent_profil_executive,agent_profil_representative,agent_profil_substitute,"
      "agent_profil_role_Salle des "
      "marchés,agent_profil_role_Portail,organism_department_id,organism_department_label,organism_id,organism_label,"
      "organism_siren,organism_nic");
  EXPECT_NE(file.find(",Anne,Le Goff,anne@example.fr,0,,,"), std::string::npos) << file;
  EXPECT_NE(file.find("\"Secrétaire générale, \"\"DGS\"\"\""), std::string::npos) << "RFC 4180 quoting: " << file;
  EXPECT_NE(file.find(",\"3 rue, Bâtiment B\","), std::string::npos);
  EXPECT_NE(file.find(",Acheteur,Administrateur,finances,Finances,73282932000074,Commune de Brest,732829320,00074\r\n"),
            std::string::npos)
      << file;
  EXPECT_NE(file.find(",,Utilisateur du service,etat-civil,\"État civil, accueil\","), std::string::npos) << file;
  EXPECT_EQ(file.find("\xEF\xBB\xBF"), std::string::npos);
  EXPECT_EQ(source_.last_row_count, 3);
  EXPECT_EQ(std::count(file.begin(), file.end(), '\n'), 4) << "the header and 3 rows, each ending with CRLF";

  EXPECT_NE(file.find(",'=AGENT-7,"), std::string::npos) << "by default a formula is shown, not run";
  EXPECT_NE(file.find(",'+33 6 12 34 56 78,"), std::string::npos);
  std::string for_spreadsheets = source_.Export(/*byte_order_mark=*/true);
  EXPECT_EQ(for_spreadsheets.rfind("\xEF\xBB\xBF"
                                   "user_civility,",
                                   0),
            0u);
  std::string for_programs = source_.Export(/*byte_order_mark=*/false, /*allow_formulas=*/true);
  EXPECT_NE(for_programs.find(",=AGENT-7,"), std::string::npos) << "asked for as it is";
}

// CSV-EXPORT then CSV-IMPORT into the same, empty, structure of another habilisd gives the same file back:
// accounts, ids, services, profiles and activation.
TEST_F(AccountFilesTest, CsvRoundTripIntoAnEmptyStructureGivesTheSameExport) {
  Populate();
  std::string exported = source_.Export();

  Instance target;
  target.Start(*sink_);
  ASSERT_EQ(target.MemberCount(), 0);
  ImportResult imported = target.Import(exported);
  ASSERT_TRUE(imported.status.ok()) << imported.status.error_message();
  EXPECT_TRUE(imported.errors.empty());
  EXPECT_EQ(imported.summary.rows(), 3);
  EXPECT_EQ(imported.summary.accounts_created(), 3);
  EXPECT_EQ(imported.summary.habilitations_granted(), 3);
  EXPECT_EQ(imported.summary.accounts_activated(), 1);
  EXPECT_EQ(target.Export(), exported);

  // The default export guards formulas, and the guard came off on import (the exports are equal). The same
  // again with a BOM and formulas left as they are: the BOM comes off, the values stay.
  std::string for_spreadsheets = source_.Export(/*byte_order_mark=*/true, /*allow_formulas=*/true);
  ImportResult again = target.Import(for_spreadsheets);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.summary.accounts_unchanged(), 3);
  EXPECT_EQ(again.summary.accounts_updated(), 0);
  EXPECT_EQ(target.Export(true, true), for_spreadsheets);
}

// Twenty rows, three of them bad: exactly those three are reported, with line and column, and nothing is
// written.
TEST_F(AccountFilesTest, CsvImportOfAFileWithBadRowsReportsEachAndWritesNothing) {
  std::string header =
      "user_civility,user_firstname,user_lastname,user_username,profil_postalAddress,"
      "profil_postalCode,profil_city,agent_profil_role_portail,organism_department_id";
  std::vector<std::string> rows;
  for (int i = 1; i <= 20; ++i) {
    std::string login = absl::StrCat("agent", i, "@example.fr");
    std::string first = absl::StrCat("Agent", i);
    std::string profile = i % 2 ? "utilisateur" : "Administrateur";  // by id or by display name
    std::string service = i % 3 ? "finances" : "";
    if (i == 4) login = "agent4-at-example.fr";
    if (i == 11) profile = "superviseur";
    if (i == 17) first = "";
    rows.push_back(absl::StrCat("M.,", first, ",Kerjean,", login, ",1 quai,29200,Brest,", profile, ",", service));
  }
  std::string file = absl::StrCat(header, "\r\n", absl::StrJoin(rows, "\r\n"), "\r\n");
  std::string before = source_.Export();

  ImportResult result = source_.Import(file);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorInfoReason(result.status), "IMPORT_ROWS_INVALID");
  ASSERT_EQ(result.errors.size(), 3u);
  EXPECT_EQ(result.errors[0].line(), 5);
  EXPECT_EQ(result.errors[0].column(), "user_username");
  EXPECT_EQ(result.errors[0].reason(), "EMAIL_FORMAT");
  EXPECT_EQ(result.errors[1].line(), 12);
  EXPECT_EQ(result.errors[1].column(), "agent_profil_role_portail");
  EXPECT_EQ(result.errors[1].reason(), "PROFILE_NOT_FOUND");
  EXPECT_EQ(result.errors[2].line(), 18);
  EXPECT_EQ(result.errors[2].column(), "user_firstname");
  EXPECT_EQ(result.errors[2].reason(), "REQUIRED");
  EXPECT_EQ(source_.MemberCount(), 0);
  EXPECT_EQ(source_.Export(), before);

  // Mended, the file imports: first as a dry run that writes nothing, then for real, then again (no change).
  rows[3] = "M.,Agent4,Kerjean,agent4@example.fr,1 quai,29200,Brest,admin,finances";
  rows[10] = "M.,Agent11,Kerjean,agent11@example.fr,1 quai,29200,Brest,,finances";
  rows[16] = "M.,Agent17,Kerjean,agent17@example.fr,1 quai,29200,Brest,utilisateur,finances";
  file = absl::StrCat(header, "\r\n", absl::StrJoin(rows, "\r\n"), "\r\n");
  ImportResult dry = source_.Import(file, /*validate_only=*/true);
  ASSERT_TRUE(dry.status.ok()) << dry.status.error_message();
  EXPECT_TRUE(dry.summary.validate_only());
  EXPECT_EQ(dry.summary.accounts_created(), 20);
  EXPECT_EQ(dry.summary.habilitations_granted(), 19);
  EXPECT_EQ(dry.summary.batches_committed(), 0);
  EXPECT_EQ(source_.MemberCount(), 0);

  ImportResult done = source_.Import(file, false, /*piece=*/7);
  ASSERT_TRUE(done.status.ok()) << done.status.error_message();
  EXPECT_EQ(done.summary.accounts_created(), 20);
  EXPECT_EQ(done.summary.habilitations_granted(), 19);
  EXPECT_EQ(done.summary.batches_committed(), 1);
  EXPECT_EQ(source_.MemberCount(), 20);
  std::string after = source_.Export();

  ImportResult repeated = source_.Import(file);
  ASSERT_TRUE(repeated.status.ok()) << repeated.status.error_message();
  EXPECT_EQ(repeated.summary.accounts_unchanged(), 20);
  EXPECT_EQ(repeated.summary.accounts_created() + repeated.summary.accounts_updated(), 0);
  EXPECT_EQ(source_.Export(), after) << "re-importing the same file changes nothing";
}

// A file is the truth for the columns it has: a present, empty role cell revokes; an absent column is left
// alone. The trail records the import.
TEST_F(AccountFilesTest, CsvImportUpdatesWhatTheFileChangesAndIsAudited) {
  Populate();
  std::string file = source_.Export();
  // Anne loses her "marches" profile and moves to the root level; Zoé gets a phone.
  std::regex anne_marches(",Acheteur,Administrateur,finances,Finances,");
  file = std::regex_replace(file, anne_marches, ",,Administrateur,,Finances,");
  file = std::regex_replace(file, std::regex("(Zoé,Le Goff,zoe@example.fr,[^\n]*?,FR,\"3 rue, Bâtiment B\",29200,)"),
                            "$1+33 2 98 00 00 00");
  ImportResult result = source_.Import(file);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.summary.accounts_updated(), 2);
  EXPECT_EQ(result.summary.accounts_unchanged(), 1);
  EXPECT_EQ(result.summary.habilitations_revoked(), 1);
  std::string after = source_.Export();
  EXPECT_NE(after.find(",,Administrateur,,,73282932000074,"), std::string::npos) << after;
  EXPECT_NE(after.find(",29200,'+33 2 98 00 00 00,"), std::string::npos) << after;

  // Only the login column and one role column: the rest of each account is left as it is.
  ImportResult narrow = source_.Import("user_username,agent_profil_role_portail\nanne@example.fr,utilisateur\n");
  ASSERT_TRUE(narrow.status.ok()) << narrow.status.error_message();
  EXPECT_EQ(narrow.summary.accounts_updated(), 1);
  EXPECT_EQ(narrow.summary.habilitations_granted(), 1);
  std::string narrowed = source_.Export();
  EXPECT_NE(narrowed.find(",,Utilisateur du service,,,73282932000074,"), std::string::npos) << narrowed;
  EXPECT_NE(narrowed.find("+33 6 12 34 56 78"), std::string::npos) << "columns not in the file are left alone";

  v1::ListAuditEntriesRequest list;
  list.set_structure(kStructure);
  list.set_page_size(100);
  v1::ListAuditEntriesResponse entries;
  ASSERT_RPC_OK(source_.audit->ListAuditEntries(As(source_.operator_key).get(), list, &entries));
  int imports = 0;
  for (const v1::AuditEntry& entry : entries.audit_entries()) {
    if (entry.action() == "habilis.v1.ImportAccounts") {
      ++imports;
      EXPECT_EQ(entry.actor().rfind("operators/", 0), 0u);
    }
  }
  EXPECT_EQ(imports, 2) << "one entry per committed batch";
}

TEST_F(AccountFilesTest, CsvImportRefusesAWrongHeaderOrStructure) {
  ImportResult unknown = source_.Import("user_username,user_fistname\na@example.fr,A\n");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(unknown.errors.size(), 1u);
  EXPECT_EQ(unknown.errors[0].line(), 1);
  EXPECT_EQ(unknown.errors[0].column(), "user_fistname");
  EXPECT_EQ(unknown.errors[0].reason(), "UNKNOWN_COLUMN");

  ImportResult other = source_.Import("user_username,organism_siren\na@example.fr,552100554\n");
  ASSERT_EQ(other.errors.size(), 1u);
  EXPECT_EQ(other.errors[0].reason(), "WRONG_STRUCTURE");

  ImportResult syntax = source_.Import("user_username,user_firstname\n\"a@example.fr\"x,A\nb@example.fr,\"B\n");
  ASSERT_EQ(syntax.errors.size(), 2u);
  EXPECT_EQ(syntax.errors[0].reason(), "TEXT_AFTER_CLOSING_QUOTE");
  EXPECT_EQ(syntax.errors[0].column(), "user_username");
  EXPECT_EQ(syntax.errors[1].reason(), "UNTERMINATED_QUOTE");
  EXPECT_EQ(syntax.errors[1].line(), 3);

  ImportResult empty = source_.Import("");
  EXPECT_EQ(empty.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_EQ(empty.errors[0].reason(), "EMPTY_FILE");
  EXPECT_EQ(source_.MemberCount(), 0);
}

// A piece of the file that does not parse ends the import with the error contract; the file is not imported cut
// short at that piece (gRPC's own parsing would make it look like the end of the stream).
TEST_F(AccountFilesTest, CsvImportWithAnUndecodableMessageIsInvalidArgumentAndWritesNothing) {
  v1::ImportAccountsRequest first;
  first.set_parent(kStructure);
  first.set_data(
      "user_username,user_firstname,user_lastname,profil_postalAddress,profil_postalCode,profil_city\n"
      "a@example.fr,A,B,1 rue,29200,Brest\n");
  v1::ImportAccountsRequest last;
  last.set_data("b@example.fr,A,B,1 rue,29200,Brest\n");
  const std::string undecodable("\x0a\x02\xc3\x28", 4);  // parent = 0xC3 0x28, not UTF-8
  const std::string truncated(
      "\x1a\x10"
      "abc",
      5);  // data, with a length past the end
  for (const std::string* bad : {&undecodable, &truncated}) {
    for (bool bad_first : {false, true}) {
      std::vector<std::string> messages = {first.SerializeAsString(), *bad, last.SerializeAsString()};
      if (bad_first) messages.erase(messages.begin());
      grpc::Status status = client::CallRawStream(source_.channel, "/habilis.v1.AccountFileService/ImportAccounts",
                                                  messages, source_.operator_key);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
      EXPECT_EQ(client::DetailsOf(status).reason, "REQUEST_UNDECODABLE");
      EXPECT_EQ(source_.MemberCount(), 0);
    }
  }
  // The same messages, well formed, do import.
  ImportResult good = source_.Import(first.data() + last.data());
  EXPECT_TRUE(good.status.ok()) << good.status.error_message();
  EXPECT_EQ(source_.MemberCount(), 2);
}

TEST_F(AccountFilesTest, CsvFilesAreForAdministratorsAndOperatorsOnly) {
  // A client application's key is refused both ways.
  v1::CreateApiKeyRequest key;
  key.mutable_api_key()->set_display_name("portail");
  key.mutable_api_key()->set_application("applications/portail");
  v1::CreateApiKeyResponse k;
  ASSERT_RPC_OK(source_.api_keys->CreateApiKey(As(source_.operator_key).get(), key, &k));
  grpc::Status status;
  source_.Export(false, false, k.secret(), &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client::DetailsOf(status).reason, "PERMISSION_DENIED");
  ImportResult refused = source_.Import("user_username\nx@example.fr\n", false, 64, k.secret());
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client::DetailsOf(refused.status).reason, "PERMISSION_DENIED");
  // An import grants profiles: its refusal is in the trail, under the application that tried.
  v1::ListAuditEntriesRequest list;
  list.set_structure(kStructure);
  v1::ListAuditEntriesResponse entries;
  ASSERT_RPC_OK(source_.audit->ListAuditEntries(As(source_.operator_key).get(), list, &entries));
  ASSERT_GT(entries.audit_entries_size(), 0);
  const v1::AuditEntry& last = entries.audit_entries(entries.audit_entries_size() - 1);
  EXPECT_EQ(last.action(), "habilis.v1.ImportAccounts");
  EXPECT_EQ(last.outcome(), v1::AuditEntry::DENIED);
  EXPECT_EQ(last.actor(), "applications/portail");
  EXPECT_EQ(last.target(), kStructure);
  source_.Export(false, false, "not-a-key", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(source_.MemberCount(), 0);

  v1::ExportAccountsRequest bad;
  bad.set_parent("structures/123");
  auto context = As(source_.operator_key);
  auto reader = source_.files->ExportAccounts(context.get(), bad);
  v1::ExportAccountsResponse ignored;
  while (reader->Read(&ignored)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Opens `csv` in Debian's LibreOffice Calc, headless, as a person opens a file in a spreadsheet (columns of
// digits read as numbers), and saves it as CSV with semicolons, as a spreadsheet in a French locale does.
std::string ThroughLibreOffice(const std::string& csv) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("export.csv"), std::ios::binary) << csv;
  testing::RunResult converted = testing::RunProgram(
      "/usr/bin/soffice",
      {"-env:UserInstallation=file://" + dir.Sub("profile"), "--headless", "--infilter=CSV:44,34,76,1", "--convert-to",
       "csv:Text - txt - csv (StarCalc):59,34,76,1", "--outdir", dir.Sub("out"), dir.Sub("export.csv")});
  EXPECT_EQ(converted.exit_code, 0) << converted.err;
  std::ifstream in(dir.Sub("out/export.csv"), std::ios::binary);
  std::stringstream resaved;
  resaved << in.rdbuf();
  return resaved.str();
}

// Item 8 (seed 003: «le traitement de ces fichiers dans certains tableurs comme Microsoft Excel peut entraîner
// une modification du format»): an export opened and saved again by a spreadsheet imports back as it was.
TEST_F(AccountFilesTest, CSV_LibreOfficeRoundTripImportsBackUnchanged) {
  Populate();
  source_.CreateAccount("paul@example.fr", "Paul", "finances", [](v1::Account& a) {
    a.set_phone("0298000000");
    a.set_postal_code("01000");
    a.set_city("Bourg-en-Bresse");
  });
  const std::string exported = source_.Export(/*byte_order_mark=*/true);
  const std::string resaved = ThroughLibreOffice(exported);
  ASSERT_FALSE(resaved.empty());
  EXPECT_NE(resaved.find("\"user_username\";"), std::string::npos) << "semicolons: " << resaved;
  EXPECT_EQ(resaved.find("0298000000"), std::string::npos) << "the spreadsheet dropped the zero: " << resaved;
  EXPECT_NE(resaved.find(";74"), std::string::npos) << "and the NIC's zeros: " << resaved;

  ImportResult imported = source_.Import(resaved);
  ASSERT_TRUE(imported.status.ok()) << imported.status.error_message()
                                    << (imported.errors.empty() ? "" : imported.errors[0].DebugString());
  EXPECT_EQ(imported.summary.accounts_unchanged(), 4);
  EXPECT_EQ(imported.summary.accounts_updated(), 0);
  EXPECT_EQ(imported.summary.habilitations_granted() + imported.summary.habilitations_revoked(), 0);
  EXPECT_EQ(source_.Export(/*byte_order_mark=*/true), exported);

  // The same file into a new habilisd: the people, their services and profiles, by name.
  Instance target;
  target.Start(*sink_);
  ImportResult into_new = target.Import(resaved);
  ASSERT_TRUE(into_new.status.ok()) << into_new.status.error_message();
  EXPECT_EQ(into_new.summary.accounts_created(), 4);
  EXPECT_EQ(target.Export(/*byte_order_mark=*/true), exported);
}

// Item 8: an export of one structure imports into another once its organism_* cells are emptied or name the
// other; cells that still name the first say so.
TEST_F(AccountFilesTest, CSV_anExportImportsIntoAnotherStructureWhenItsOrganismCellsAreClearedOrPointThere) {
  Populate();
  constexpr char kOther[] = "structures/44306184100047";
  v1::CreateStructureRequest structure;
  structure.mutable_structure()->set_siret("44306184100047");
  structure.mutable_structure()->set_category("Commune");
  structure.mutable_structure()->set_display_name("Commune de Quimper");
  structure.mutable_structure()->set_address("1 place");
  structure.mutable_structure()->set_postal_code("29000");
  structure.mutable_structure()->set_city("Quimper");
  v1::CreateStructureResponse created;
  ASSERT_RPC_OK(source_.structures->CreateStructure(As(source_.operator_key).get(), structure, &created));
  for (const char* application : {"applications/portail", "applications/marches"}) {
    v1::CreateSubscriptionRequest subscription;
    subscription.set_parent(kOther);
    subscription.set_application(application);
    v1::CreateSubscriptionResponse subscribed;
    ASSERT_RPC_OK(source_.entitlements->CreateSubscription(As(source_.operator_key).get(), subscription, &subscribed));
  }
  // Into the root level: the other structure has no such services.
  std::string file = std::regex_replace(source_.Export(), std::regex(",(finances|etat-civil),"), ",,");

  ImportResult refused = source_.Import(file, /*validate_only=*/true, 64 * 1024, "", kOther);
  EXPECT_EQ(ErrorInfoReason(refused.status), "IMPORT_ROWS_INVALID");
  ASSERT_FALSE(refused.errors.empty());
  EXPECT_EQ(refused.errors[0].reason(), "WRONG_STRUCTURE") << "the file still names the first structure";

  const std::string cleared =
      std::regex_replace(file, std::regex(",73282932000074,Commune de Brest,732829320,00074\r\n"), ",,,,\r\n");
  ImportResult imported = source_.Import(cleared, false, 64 * 1024, "", kOther);
  ASSERT_TRUE(imported.status.ok()) << imported.status.error_message()
                                    << (imported.errors.empty() ? "" : imported.errors[0].DebugString());
  EXPECT_EQ(imported.summary.accounts_attached(), 3) << "an operator's file: the same people, by their login";
  EXPECT_EQ(imported.summary.habilitations_granted(), 3) << "their profiles, named as in the first structure";

  const std::string pointing =
      std::regex_replace(file, std::regex(",73282932000074,Commune de Brest,732829320,00074\r\n"),
                         ",44306184100047,Commune de Quimper,443061841,00047\r\n");
  ImportResult again = source_.Import(pointing, false, 64 * 1024, "", kOther);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.summary.accounts_unchanged(), 3);
}

}  // namespace
}  // namespace habilis
