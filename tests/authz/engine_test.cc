// The role engine's decisions for each kind of principal.
#include "authz/engine.h"

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
  EXPECT_EQ(d.reason, "UNAUTHENTICATED");
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

TEST_F(EngineTest, AdministratorsActOnlyInTheirOwnStructure) {
  Decision d = Decide(Member(Role::kAdministrator), Action::kServiceWrite, {.structure = kTheirs});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "NOT_A_MEMBER");
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
  for (Action a : {Action::kStructureCreate, Action::kStructureList, Action::kStructureUpdate, Action::kApiKeyManage,
                   Action::kApplicationCreate}) {
    Decision d = Decide(Member(Role::kAdministrator), a);
    EXPECT_FALSE(d.allowed) << ActionName(a);
  }
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
