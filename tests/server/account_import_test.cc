// CSV-IMPORT in batches, on the domain layer: files of many batches (committed by two workers), and an
// import that meets a store changed since its check. The rest of CSV-IMPORT is tested through habilisd in
// tests/integration/account_files_test.cc.
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/paging.h"
#include "server/domain/audit/audit_trail.h"
#include "server/domain/entitlements/applications.h"
#include "server/domain/entitlements/entitlements.h"
#include "server/domain/files/account_files.h"
#include "server/domain/organisation/memberships.h"
#include "tests/testing/domain_fixture.h"

namespace habilis::domain {
namespace {

using testing::DomainTest;

class AccountImportTest : public DomainTest {
 protected:
  void SetUp() override {
    DomainTest::SetUp();
    ASSERT_TRUE(CreateStructure().ok());
    ASSERT_TRUE(CreateService("paie", "Paie").ok());
  }

  // A file of `rows` new members; the member of line `in_paie_line` goes to service "paie".
  static std::string File(int rows, int in_paie_line) {
    std::string file =
        "user_firstname,user_lastname,user_username,profil_postalAddress,profil_postalCode,profil_city,"
        "organism_department_id\r\n";
    for (int line = 2; line < rows + 2; ++line) {
      absl::StrAppend(&file, "Prénom", line, ",Nom", line, ",agent", line, "@example.fr,2 rue du Port,29200,Brest,",
                      line == in_paie_line ? "paie" : "", "\r\n");
    }
    return file;
  }

  absl::StatusOr<v1::ImportSummary> Import(const std::string& file, AccountImport::Options options) {
    options.siret = kSiret;
    AccountImport import(*store_, clock_, policy_, operator_, {"operators/test", "habilis.v1.ImportAccounts", ""},
                         std::move(options));
    import.Feed(file);
    return import.Finish([](const std::vector<v1::RowError>& errors) {
      for (const v1::RowError& error : errors) ADD_FAILURE() << error.ShortDebugString();
    });
  }

  // The logins of the structure's members.
  std::set<std::string> MemberLogins() {
    std::set<std::string> logins;
    EXPECT_TRUE(store_
                    ->Read([&](store::Reader& reader) -> absl::Status {
                      return store::ScanPrefix(reader, std::string(1, static_cast<char>(store::KeyTag::kAccount)),
                                               [&](absl::string_view, absl::string_view value) {
                                                 internal::AccountRecord record;
                                                 EXPECT_TRUE(record.ParseFromString(std::string(value)));
                                                 logins.insert(record.account().login_email());
                                                 return true;
                                               });
                    })
                    .ok());
    return logins;
  }

  int AuditEntriesOfImports() {
    v1::ListAuditEntriesRequest request;
    request.set_structure(StructureName(kSiret));
    request.set_page_size(1000);
    v1::ListAuditEntriesResponse response;
    EXPECT_TRUE(AuditTrail(*store_).List(request, response).ok());
    int count = 0;
    for (const v1::AuditEntry& entry : response.audit_entries()) count += entry.action() == "habilis.v1.ImportAccounts";
    return count;
  }
};

// A file full of errors reports the first 1,000, in line order, and counts them all; nothing is written.
TEST_F(AccountImportTest, CSV_IMPORT_aFileFullOfErrorsReportsTheFirstThousandAndCountsTheRest) {
  std::string file = File(3000, 0);
  for (size_t at = 0; (at = file.find(",29200,", at)) != std::string::npos; ++at) file.replace(at, 7, ",2920x,");
  AccountImport::Options options;
  options.siret = kSiret;
  AccountImport import(*store_, clock_, policy_, operator_, {"operators/test", "habilis.v1.ImportAccounts", ""},
                       std::move(options));
  import.Feed(file);
  size_t reported = 0;
  int64_t last_line = 0;
  absl::StatusOr<v1::ImportSummary> summary = import.Finish([&](const std::vector<v1::RowError>& errors) {
    for (const v1::RowError& error : errors) {
      EXPECT_GT(error.line(), last_line);
      last_line = error.line();
      ++reported;
    }
  });
  EXPECT_EQ(ErrorReason(summary.status()), "IMPORT_ROWS_INVALID");
  EXPECT_TRUE(absl::StrContains(summary.status().message(), "3000 problem(s)")) << summary.status();
  EXPECT_EQ(reported, 1000u);
  EXPECT_EQ(last_line, 1001) << "the first ones";
  EXPECT_TRUE(MemberLogins().empty());
}

TEST_F(AccountImportTest, CSV_IMPORT_aFileOfManyBatchesCommitsEveryRowOnceWithOneAuditEntryPerBatch) {
  absl::StatusOr<v1::ImportSummary> summary = Import(File(1000, 500), {.batch_rows = 40});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->accounts_created(), 1000);
  EXPECT_EQ(summary->batches_committed(), 25);
  std::set<std::string> logins = MemberLogins();
  EXPECT_EQ(logins.size(), 1000u);
  EXPECT_TRUE(logins.contains("agent2@example.fr") && logins.contains("agent1001@example.fr"));
  EXPECT_EQ(AuditEntriesOfImports(), 25);
  // The token covers every batch: it is the newest commit.
  EXPECT_EQ(summary->consistency_token(), EncodeConsistencyToken(store_->LatestRevision().value()));

  absl::StatusOr<v1::ImportSummary> again = Import(File(1000, 500), {.batch_rows = 40});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->accounts_unchanged(), 1000);
  EXPECT_EQ(AuditEntriesOfImports(), 25);  // nothing changed, nothing recorded
}

TEST_F(AccountImportTest, CSV_IMPORT_aRowThatNoLongerFitsStopsTheImportAndSendingTheFileAgainFinishesIt) {
  // Line 95 names service "paie", which exists at the check and is deleted before the commits.
  const std::string file = File(100, 95);
  AccountImport::Options options{.batch_rows = 10};
  options.after_check = [&] {
    v1::BatchDeleteServicesRequest request;
    request.set_parent(StructureName(kSiret));
    request.add_names(Service("paie"));
    v1::BatchDeleteServicesResponse response;
    ASSERT_TRUE(org_chart_->BatchDeleteServices(operator_, request, response).ok());
  };
  absl::StatusOr<v1::ImportSummary> interrupted = Import(file, options);
  EXPECT_EQ(interrupted.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ErrorReason(interrupted.status()), "IMPORT_INTERRUPTED");
  EXPECT_TRUE(absl::StrContains(interrupted.status().message(), "line 95")) << interrupted.status();
  // Line 95's batch wrote nothing; the batches committed before the failure stay.
  std::set<std::string> logins = MemberLogins();
  EXPECT_FALSE(logins.contains("agent95@example.fr"));
  EXPECT_LT(logins.size(), 100u);

  ASSERT_TRUE(CreateService("paie", "Paie").ok());
  absl::StatusOr<v1::ImportSummary> resumed = Import(file, {.batch_rows = 10});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->accounts_created() + resumed->accounts_unchanged(), 100);
  EXPECT_EQ(resumed->accounts_created(), static_cast<int64_t>(100 - logins.size()));
  EXPECT_EQ(MemberLogins().size(), 100u);
}

// Every batch checks again that its caller still is what the gate saw: an administrator demoted while his import
// runs commits nothing more.
TEST_F(AccountImportTest, CSV_IMPORT_anAdministratorDemotedDuringHisImportCommitsNothingMore) {
  const authz::Principal admin = AdministratorOf(kSiret);
  ReadyAccount("second-admin@example.fr", v1::ADMINISTRATOR);
  AccountImport::Options options;
  options.siret = kSiret;
  options.after_check = [&] {
    v1::UpdateMembershipRequest demote;
    demote.set_account(AccountName(admin.id));
    demote.mutable_membership()->set_structure(StructureName(kSiret));
    demote.mutable_membership()->set_role(v1::COLLABORATOR);
    v1::UpdateMembershipResponse demoted;
    ASSERT_TRUE(accounts_->UpdateMembership(operator_, demote, demoted).ok());
  };
  AccountImport import(*store_, clock_, policy_, admin, {admin.ResourceName(), "habilis.v1.ImportAccounts", ""},
                       std::move(options));
  import.Feed(File(10, 0));
  absl::StatusOr<v1::ImportSummary> summary = import.Finish([](const std::vector<v1::RowError>&) {});
  EXPECT_EQ(ErrorReason(summary.status()), "CALLER_ROLE_CHANGED");
  for (const std::string& login : MemberLogins()) EXPECT_FALSE(absl::StartsWith(login, "agent")) << login;
}

// No existence oracle in the import either: an administrator's file that names a login or an account id of
// another structure gets the answers it would get for a login or an id that exist nowhere.
TEST_F(AccountImportTest, CSV_IMPORT_anAdministratorLearnsNothingOfOtherStructuresAccounts) {
  constexpr char kOther[] = "44306184100047";
  ASSERT_TRUE(CreateStructure(kOther).ok());
  absl::StatusOr<std::string> elsewhere = CreateAccountIn(kOther, "ailleurs@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  const std::string elsewhere_id = ParseAccountName(*elsewhere).value();
  const authz::Principal admin = AdministratorOf(kSiret);

  auto errors_of = [&](const std::string& file) {
    AccountImport::Options options;
    options.siret = kSiret;
    options.validate_only = true;
    AccountImport import(*store_, clock_, policy_, admin, {admin.ResourceName(), "habilis.v1.ImportAccounts", ""},
                         std::move(options));
    import.Feed(file);
    std::vector<std::string> reasons;
    absl::StatusOr<v1::ImportSummary> summary = import.Finish([&](const std::vector<v1::RowError>& errors) {
      for (const v1::RowError& error : errors) reasons.push_back(absl::StrCat(error.column(), " ", error.reason()));
    });
    if (!summary.ok() && reasons.empty()) reasons.push_back(ErrorReason(summary.status()));
    return reasons;
  };
  const std::string header =
      "profil_id,user_firstname,user_lastname,user_username,profil_postalAddress,"
      "profil_postalCode,profil_city\r\n";
  EXPECT_EQ(errors_of(header + ",A,B,ailleurs@example.fr,2 rue du Port,29200,Brest\r\n"),
            errors_of(header + ",A,B,nulle-part@example.fr,2 rue du Port,29200,Brest\r\n"));
  EXPECT_TRUE(errors_of(header + ",A,B,ailleurs@example.fr,2 rue du Port,29200,Brest\r\n").empty());
  const std::vector<std::string> other_id =
      errors_of(header + elsewhere_id + ",A,B,x@example.fr,2 rue du Port,29200,Brest\r\n");
  EXPECT_EQ(other_id, errors_of(header + "0123456789abcdef,A,B,x@example.fr,2 rue du Port,29200,Brest\r\n"));
  EXPECT_TRUE(other_id.empty()) << "set aside alike: the file may come from another structure";
}

// The import gives profiles through HAB-GRANT's own operation: a refused grant is its row's error, with the
// rule's reason, in the column of the application's role. (The rules themselves: entitlements_test.cc.)
TEST_F(AccountImportTest, CSV_IMPORT_aRefusedGrantIsItsRowsErrorInTheRoleColumn) {
  Applications applications(*store_, clock_);
  Entitlements entitlements(*store_, clock_);
  for (const char* id : {"portail", "autre"}) {
    v1::CreateApplicationRequest app;
    app.set_application_id(id);
    app.mutable_application()->set_display_name(id);
    v1::CreateApplicationResponse created;
    ASSERT_TRUE(applications.Create(operator_, app, created).ok());
  }
  for (const auto& [application, profile] :
       {std::pair{"portail", "utilisateur"}, std::pair{"portail", "ancien"}, std::pair{"autre", "lecteur"}}) {
    v1::CreateProfileRequest request;
    request.set_parent(absl::StrCat("applications/", application));
    request.set_profile_id(profile);
    request.mutable_profile()->set_display_name(profile);
    request.mutable_profile()->add_permissions("factures.lire");
    v1::CreateProfileResponse response;
    ASSERT_TRUE(applications.CreateProfile(operator_, request, response).ok());
  }
  v1::RetireProfileRequest retire;
  retire.set_name("applications/portail/profiles/ancien");
  v1::RetireProfileResponse retired;
  ASSERT_TRUE(applications.RetireProfile(operator_, retire, retired).ok());
  v1::CreateSubscriptionRequest subscribe;  // to portail only
  subscribe.set_parent(StructureName(kSiret));
  subscribe.set_application("applications/portail");
  v1::CreateSubscriptionResponse subscribed;
  ASSERT_TRUE(entitlements.CreateSubscription(operator_, subscribe, subscribed).ok());

  const std::string file =
      "user_firstname,user_lastname,user_username,profil_postalAddress,profil_postalCode,profil_city,"
      "agent_profil_role_portail,agent_profil_role_autre\r\n"
      "Anne,Un,anne@example.fr,2 rue du Port,29200,Brest,ancien,\r\n"
      "Bruno,Deux,bruno@example.fr,2 rue du Port,29200,Brest,,lecteur\r\n"
      "Claire,Trois,claire@example.fr,2 rue du Port,29200,Brest,utilisateur,\r\n";
  AccountImport::Options options;
  options.siret = kSiret;
  AccountImport import(*store_, clock_, policy_, operator_, {"operators/test", "habilis.v1.ImportAccounts", ""},
                       std::move(options));
  import.Feed(file);
  std::vector<std::string> errors;
  absl::StatusOr<v1::ImportSummary> summary = import.Finish([&](const std::vector<v1::RowError>& reported) {
    for (const v1::RowError& error : reported) {
      errors.push_back(absl::StrCat(error.line(), " ", error.column(), " ", error.reason()));
    }
  });
  EXPECT_EQ(ErrorReason(summary.status()), "IMPORT_ROWS_INVALID");
  EXPECT_EQ(errors, (std::vector<std::string>{"2 agent_profil_role_portail PROFILE_RETIRED",
                                              "3 agent_profil_role_autre NOT_SUBSCRIBED"}));
  EXPECT_TRUE(MemberLogins().empty()) << "a refused row writes nothing, nor do the others";
}

}  // namespace
}  // namespace habilis::domain
