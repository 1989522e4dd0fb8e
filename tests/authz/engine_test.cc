// The role engine's decisions for each kind of principal.
#include "authz/engine.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace habilis::authz {
namespace {

constexpr char kOurs[] = "73282932000074";
constexpr char kTheirs[] = "44306184100047";

class EngineTest : public ::testing::Test {
 protected:
  Decision Decide(const Principal& p, Action a, Target t = {.structure = kOurs}) { return engine_->Decide(p, a, t); }
  static Principal Member(Role role) { return Principal::Account("acc1", {{kOurs, role, "finances"}}); }

  std::unique_ptr<Engine> engine_ = NewRoleEngine();
};

TEST_F(EngineTest, PublicActionsNeedNoCredentials) {
  EXPECT_TRUE(Decide(Principal::Anonymous(), Action::kPublic).allowed);
}

TEST_F(EngineTest, AnonymousCallersAreDeniedEverythingElse) {
  Decision d = Decide(Principal::Anonymous(), Action::kServiceRead);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, DecisionReason::kUnauthenticated);
}

TEST_F(EngineTest, OperatorsMayDoEverything) {
  for (Action a : {Action::kStructureCreate, Action::kStructureUpdate, Action::kServiceWrite, Action::kApiKeyManage,
                   Action::kApplicationCreate}) {
    EXPECT_TRUE(Decide(Principal::Operator("k"), a, {}).allowed) << ActionName(a);
  }
}

TEST_F(EngineTest, SVC_CREATE_administratorOnly) {
  EXPECT_TRUE(Decide(Member(Role::kAdministrator), Action::kServiceWrite).allowed);
  EXPECT_FALSE(Decide(Member(Role::kResponsable), Action::kServiceWrite).allowed);
  EXPECT_FALSE(Decide(Member(Role::kCollaborator), Action::kServiceWrite).allowed);
}

TEST_F(EngineTest, AUDIT_aStructuresTrailIsItsAdministratorsTheRestIsOperators) {
  EXPECT_TRUE(Decide(Member(Role::kAdministrator), Action::kAuditRead).allowed);
  EXPECT_FALSE(Decide(Member(Role::kAdministrator), Action::kAuditRead, {.structure = kTheirs}).allowed);
  EXPECT_FALSE(Decide(Member(Role::kAdministrator), Action::kAuditRead, {}).allowed)
      << "everything, by account, by actor";
  EXPECT_FALSE(Decide(Member(Role::kResponsable), Action::kAuditRead).allowed);
  EXPECT_FALSE(Decide(Member(Role::kCollaborator), Action::kAuditRead).allowed);
  EXPECT_FALSE(Decide(Principal::Application("portail", "k"), Action::kAuditRead).allowed);
  EXPECT_TRUE(Decide(Principal::Operator("k"), Action::kAuditRead, {}).allowed);
}

// CSV-EXPORT, CSV-IMPORT: a structure's whole file is its administrators' (and operators').
TEST_F(EngineTest, CSV_EXPORT_IMPORT_administratorsOfTheStructureOnly) {
  EXPECT_TRUE(Decide(Member(Role::kAdministrator), Action::kAccountsFile).allowed);
  EXPECT_FALSE(Decide(Member(Role::kAdministrator), Action::kAccountsFile, {.structure = kTheirs}).allowed);
  EXPECT_FALSE(Decide(Member(Role::kResponsable), Action::kAccountsFile).allowed);
  EXPECT_FALSE(Decide(Member(Role::kCollaborator), Action::kAccountsFile).allowed);
  EXPECT_FALSE(Decide(Principal::Application("portail", "k"), Action::kAccountsFile).allowed);
  EXPECT_TRUE(Decide(Principal::Operator("k"), Action::kAccountsFile).allowed);
}

TEST_F(EngineTest, AdministratorsActOnlyInTheirOwnStructure) {
  Decision d = Decide(Member(Role::kAdministrator), Action::kServiceWrite, {.structure = kTheirs});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, DecisionReason::kNotAMember);
}

TEST_F(EngineTest, AnAccountInSeveralStructuresHasTheRoleOfEach) {
  Principal p = Principal::Account("acc", {{kOurs, Role::kCollaborator, ""}, {kTheirs, Role::kAdministrator, ""}});
  EXPECT_FALSE(Decide(p, Action::kServiceWrite, {.structure = kOurs}).allowed);
  EXPECT_TRUE(Decide(p, Action::kServiceWrite, {.structure = kTheirs}).allowed);
}

TEST_F(EngineTest, ResponsablesReadTheOrgChartCollaboratorsDoNot) {
  EXPECT_TRUE(Decide(Member(Role::kResponsable), Action::kServiceRead).allowed);
  EXPECT_FALSE(Decide(Member(Role::kCollaborator), Action::kServiceRead).allowed);
}

TEST_F(EngineTest, OperatorOnlyActionsAreDeniedToAdministrators) {
  for (Action a :
       {Action::kStructureCreate, Action::kStructureList, Action::kApiKeyManage, Action::kApplicationCreate}) {
    Decision d = Decide(Member(Role::kAdministrator), a);
    EXPECT_FALSE(d.allowed) << ActionName(a);
  }
}

TEST_F(EngineTest, STR_EDIT_anAdministratorUpdatesHisOwnStructureOnly) {
  EXPECT_TRUE(Decide(Member(Role::kAdministrator), Action::kStructureUpdate).allowed);
  EXPECT_FALSE(Decide(Member(Role::kAdministrator), Action::kStructureUpdate, {.structure = kTheirs}).allowed);
  EXPECT_FALSE(Decide(Member(Role::kResponsable), Action::kStructureUpdate).allowed);
}

TEST_F(EngineTest, ApplicationsReadOnlyTheirOwnApplication) {
  Principal app = Principal::Application("portail", "key");
  EXPECT_TRUE(Decide(app, Action::kApplicationRead, {.application = "portail"}).allowed);
  EXPECT_FALSE(Decide(app, Action::kApplicationRead, {.application = "other"}).allowed);
  EXPECT_FALSE(Decide(app, Action::kStructureRead).allowed);
  EXPECT_FALSE(Decide(app, Action::kServiceRead).allowed);
}

TEST_F(EngineTest, ARequestNamingNoStructureIsDeniedToAccounts) {
  EXPECT_FALSE(Decide(Member(Role::kAdministrator), Action::kServiceRead, {}).allowed);
}

}  // namespace
}  // namespace habilis::authz

namespace habilis::authz {
namespace {

constexpr char kHere[] = "73282932000074";

Principal Responsable(const std::string& service) {
  return Principal::Account("resp", {{kHere, Role::kResponsable, service}});
}

TEST(EngineAccounts, ResponsablesCreateAndInviteCollaboratorsOfTheirOwnServiceOnly) {
  auto engine = NewRoleEngine();
  Target own{.structure = kHere, .service = "finances", .role = Role::kCollaborator};
  EXPECT_TRUE(engine->Decide(Responsable("finances"), Action::kAccountCreate, own).allowed);
  EXPECT_TRUE(engine->Decide(Responsable("finances"), Action::kInvitationSend, own).allowed);
  Target other_service = own;
  other_service.service = "rh";
  EXPECT_FALSE(engine->Decide(Responsable("finances"), Action::kAccountCreate, other_service).allowed);
  Target a_responsable = own;
  a_responsable.role = Role::kResponsable;
  EXPECT_FALSE(engine->Decide(Responsable("finances"), Action::kInvitationSend, a_responsable).allowed);
}

TEST(EngineAccounts, ResponsablesActivateTheirCollaboratorsButAdministerNobody) {
  auto engine = NewRoleEngine();
  Target collaborator{
      .structure = kHere, .account = "c", .account_memberships = {{kHere, Role::kCollaborator, "finances"}}};
  EXPECT_TRUE(engine->Decide(Responsable("finances"), Action::kAccountActivate, collaborator).allowed);
  EXPECT_FALSE(engine->Decide(Responsable("rh"), Action::kAccountActivate, collaborator).allowed);
  EXPECT_FALSE(engine->Decide(Responsable("finances"), Action::kAccountAdminister, collaborator).allowed);
}

TEST(EngineAccounts, ACollaboratorManagesHimselfOnly) {
  auto engine = NewRoleEngine();
  Principal me = Principal::Account("me", {{kHere, Role::kCollaborator, "finances"}});
  Target self{.account = "me", .account_memberships = {{kHere, Role::kCollaborator, "finances"}}};
  Target colleague{.account = "you", .account_memberships = {{kHere, Role::kCollaborator, "finances"}}};
  for (Action a : {Action::kAccountRead, Action::kAccountUpdate, Action::kSessionManage}) {
    EXPECT_TRUE(engine->Decide(me, a, self).allowed) << ActionName(a);
    EXPECT_FALSE(engine->Decide(me, a, colleague).allowed) << ActionName(a);
  }
  EXPECT_FALSE(engine->Decide(me, Action::kAccountCreate, {.structure = kHere, .role = Role::kCollaborator}).allowed);
}

TEST(EngineAccounts, AnAdministratorReachesAccountsOfHisStructureOnly) {
  auto engine = NewRoleEngine();
  Principal admin = Principal::Account("admin", {{kHere, Role::kAdministrator, ""}});
  Target ours{.account = "x", .account_memberships = {{kHere, Role::kCollaborator, ""}}};
  Target theirs{.account = "y", .account_memberships = {{"44306184100047", Role::kCollaborator, ""}}};
  Target nobody{.account = "z"};
  EXPECT_TRUE(engine->Decide(admin, Action::kAccountRead, ours).allowed);
  Decision a = engine->Decide(admin, Action::kAccountRead, theirs);
  Decision b = engine->Decide(admin, Action::kAccountRead, nobody);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.reason, b.reason) << "an account elsewhere and no account at all look the same";
}

TEST(EngineAccounts, FIRST_LOGIN_aRestrictedSessionMayOnlyActOnItself) {
  auto engine = NewRoleEngine();
  Principal fresh = Principal::Account("me", {{kHere, Role::kAdministrator, ""}}, "s", Restriction::kConsentRequired);
  EXPECT_TRUE(engine->Decide(fresh, Action::kSessionOwn, {}).allowed);
  Decision d = engine->Decide(fresh, Action::kServiceRead, {.structure = kHere});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, DecisionReason::kPrivacyConsentRequired);
  Principal expired = fresh;
  expired.restriction = Restriction::kPasswordChangeRequired;
  EXPECT_EQ(engine->Decide(expired, Action::kAccountRead, {.account = "me"}).reason,
            DecisionReason::kPasswordChangeRequired);
}

}  // namespace
}  // namespace habilis::authz

namespace habilis::authz {
namespace {

// The audit trail and the logs write the names: each reason has its own.
TEST(DecisionReasonTest, EveryReasonHasItsOwnName) {
  std::set<std::string> names;
  for (int r = 0; r <= static_cast<int>(DecisionReason::kNoStructureNamed); ++r) {
    const absl::string_view name = DecisionReasonName(static_cast<DecisionReason>(r));
    EXPECT_NE(name, "UNKNOWN") << r;
    EXPECT_TRUE(names.emplace(name).second) << name;
  }
}

}  // namespace
}  // namespace habilis::authz
