// Entitlements: APP-REG, SUB, HAB-GRANT, HAB-REVOKE, DLG-GRANT, DLG-REVOKE, LIST and CHECK.
#include "server/domain/entitlements/entitlements.h"

#include "server/common/paging.h"
#include "server/domain/access/access.h"
#include "server/domain/kernel/resource_names.h"
#include "store/keyspace.h"
#include "tests/testing/domain_fixture.h"

namespace habilis::domain {
namespace {

using testing::DomainTest;

constexpr char kApp[] = "portail";
constexpr char kUser[] = "applications/portail/profiles/utilisateur";
constexpr char kBuyer[] = "applications/portail/profiles/acheteur";

class EntitlementsTest : public DomainTest {
 protected:
  void SetUp() override {
    DomainTest::SetUp();
    entitlements_ = std::make_unique<Entitlements>(*store_, clock_);
    index_ = std::move(AccessIndex::Attach(*store_)).value();
    access_ = std::make_unique<Access>(*store_, *index_, clock_);
    applications_ = std::make_unique<Applications>(*store_, clock_);
    ASSERT_TRUE(CreateStructure().ok());
    ASSERT_TRUE(CreateService("finances", "Finances").ok());
    ASSERT_TRUE(CreateService("rh", "RH").ok());
    v1::CreateApplicationRequest app;
    app.set_application_id(kApp);
    app.mutable_application()->set_display_name("Portail");
    v1::CreateApplicationResponse created;
    ASSERT_TRUE(applications_->Create(operator_, app, created).ok());
    ASSERT_TRUE(CreateProfile("utilisateur", {"factures.lire"}).ok());
    ASSERT_TRUE(CreateProfile("acheteur", {"factures.lire", "commandes.passer"}).ok());
    ASSERT_TRUE(Subscribe().ok());
  }

  absl::Status CreateProfile(const std::string& id, const std::vector<std::string>& permissions) {
    v1::CreateProfileRequest request;
    request.set_parent("applications/portail");
    request.set_profile_id(id);
    request.mutable_profile()->set_display_name(id);
    for (const auto& p : permissions) request.mutable_profile()->add_permissions(p);
    v1::CreateProfileResponse response;
    return applications_->CreateProfile(operator_, request, response).status();
  }

  absl::Status Subscribe() {
    v1::CreateSubscriptionRequest request;
    request.set_parent(StructureName(kSiret));
    request.set_application("applications/portail");
    v1::CreateSubscriptionResponse response;
    return entitlements_->CreateSubscription(operator_, request, response).status();
  }

  absl::StatusOr<v1::GrantHabilitationResponse> Grant(const std::string& account, const std::string& profile,
                                                      const authz::Principal* caller = nullptr) {
    v1::GrantHabilitationRequest request;
    request.set_structure(StructureName(kSiret));
    request.set_account(account);
    request.set_profile(profile);
    v1::GrantHabilitationResponse response;
    absl::StatusOr<store::Revision> r =
        entitlements_->GrantHabilitation(caller ? *caller : operator_, request, response);
    if (!r.ok()) return r.status();
    return response;
  }

  absl::Status Revoke(const std::string& account, const authz::Principal* caller = nullptr) {
    v1::RevokeHabilitationRequest request;
    request.set_structure(StructureName(kSiret));
    request.set_account(account);
    request.set_application("applications/portail");
    v1::RevokeHabilitationResponse response;
    return entitlements_->RevokeHabilitation(caller ? *caller : operator_, request, response).status();
  }

  absl::Status Delegate(const std::string& account, const std::vector<std::string>& profiles) {
    v1::GrantDelegationsRequest request;
    request.set_structure(StructureName(kSiret));
    request.set_account(account);
    for (const auto& p : profiles) request.add_profiles(p);
    v1::GrantDelegationsResponse response;
    return entitlements_->GrantDelegations(operator_, request, response).status();
  }

  v1::CheckAccessResponse Check(const std::string& account, const std::string& profile,
                                const std::string& structure = "") {
    v1::CheckAccessRequest request;
    request.set_account(account);
    request.set_profile(profile);
    request.set_structure(structure);
    v1::CheckAccessResponse response;
    absl::Status status = access_->Check(kApp, request, response);
    EXPECT_TRUE(status.ok()) << status;
    return response;
  }

  v1::CheckAccessResponse CheckPermission(const std::string& account, const std::string& permission) {
    v1::CheckAccessRequest request;
    request.set_account(account);
    request.set_permission(permission);
    v1::CheckAccessResponse response;
    EXPECT_TRUE(access_->Check(kApp, request, response).ok());
    return response;
  }

  // A logged-in account with consent, ready to use what it is granted.
  std::string Consenting(const std::string& login, v1::Role role, const std::string& service = "") {
    std::string name = ReadyAccount(login, role, service);
    absl::StatusOr<v1::LoginResponse> session = Login(login);
    if (session.ok() && session->session_token().empty()) {
      // Administrators confirm with the e-mailed code.
      v1::ConfirmLoginCodeRequest confirm;
      confirm.set_code_challenge(session->code_challenge());
      confirm.set_code(CodeIn(LastMail(login, "LOGIN_CODE").body()));
      v1::ConfirmLoginCodeResponse confirmed;
      EXPECT_TRUE(sessions_->ConfirmLoginCode(confirm, confirmed).ok());
      *session = confirmed.login();
    }
    absl::StatusOr<authz::Principal> me = sessions_->Authenticate(session->session_token());
    v1::AcceptPrivacyPolicyResponse consent;
    EXPECT_TRUE(sessions_->AcceptPrivacyPolicy(*me, {}, consent).ok());
    principals_[name] = *sessions_->Authenticate(session->session_token());
    return name;
  }

  std::unique_ptr<Entitlements> entitlements_;
  std::unique_ptr<AccessIndex> index_;
  std::unique_ptr<Access> access_;
  std::unique_ptr<Applications> applications_;
  std::map<std::string, authz::Principal> principals_;
};

TEST_F(EntitlementsTest, APP_REG_profilesAreSetsOfPermissions) {
  EXPECT_EQ(ErrorReason(CreateProfile("utilisateur", {})), "PROFILE_EXISTS");
  EXPECT_EQ(ErrorReason(CreateProfile("bad", {"Not A Permission"})), "PERMISSION_FORMAT");
  v1::ListProfilesRequest list;
  list.set_parent("applications/portail");
  v1::ListProfilesResponse profiles;
  ASSERT_TRUE(applications_->ListProfiles(operator_, list, profiles).ok());
  ASSERT_EQ(profiles.profiles_size(), 2);
  EXPECT_EQ(profiles.profiles(0).name(), kBuyer);
  EXPECT_EQ(profiles.profiles(0).permissions_size(), 2);
}

TEST_F(EntitlementsTest, HAB_GRANT_onlyWithTheSubscription) {
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  v1::DeleteSubscriptionRequest end;
  end.set_name(SubscriptionName(kSiret, kApp));
  v1::DeleteSubscriptionResponse ended;
  ASSERT_TRUE(entitlements_->DeleteSubscription(operator_, end, ended).ok());
  EXPECT_EQ(ErrorReason(Grant(a, kUser).status()), "NOT_SUBSCRIBED");
}

TEST_F(EntitlementsTest, HAB_GRANT_oneProfilePerApplicationPerMembership) {
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kUser).ok());
  absl::StatusOr<v1::GrantHabilitationResponse> replaced = Grant(a, kBuyer);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->replaced_profile(), kUser);
  EXPECT_FALSE(Check(a, kUser).allowed());
  EXPECT_TRUE(Check(a, kBuyer).allowed());
  v1::ListHabilitationsRequest list;
  list.set_structure(StructureName(kSiret));
  list.set_account(a);
  v1::ListHabilitationsResponse habilitations;
  ASSERT_TRUE(entitlements_->ListHabilitations(operator_, list, habilitations).ok());
  EXPECT_EQ(habilitations.habilitations_size(), 1);
  EXPECT_EQ(LastMail("a@example.fr", "HABILITATION_GRANTED").kind(), "HABILITATION_GRANTED");
}

TEST_F(EntitlementsTest, HAB_GRANT_aResponsableGivesOnlyWhatHeHoldsOrWasDelegated) {
  std::string responsable = Consenting("resp@example.fr", v1::RESPONSABLE, "finances");
  std::string collaborator = Consenting("collab@example.fr", v1::COLLABORATOR, "finances");
  const authz::Principal& r = principals_[responsable];
  EXPECT_EQ(ErrorReason(Grant(collaborator, kUser, &r).status()), "PROFILE_NOT_HELD_OR_DELEGATED");
  ASSERT_TRUE(Grant(responsable, kUser).ok());
  EXPECT_TRUE(Grant(collaborator, kUser, &r).ok()) << "he holds it";
  EXPECT_EQ(ErrorReason(Grant(collaborator, kBuyer, &r).status()), "PROFILE_NOT_HELD_OR_DELEGATED");
  ASSERT_TRUE(Delegate(responsable, {kBuyer}).ok());
  EXPECT_TRUE(Grant(collaborator, kBuyer, &r).ok()) << "it was delegated";
}

TEST_F(EntitlementsTest, DLG_GRANT_theResponsableGainsNoAccessAndOnlyWhileTheDelegationStands) {
  std::string responsable = Consenting("resp@example.fr", v1::RESPONSABLE, "finances");
  std::string collaborator = Consenting("collab@example.fr", v1::COLLABORATOR, "finances");
  ASSERT_TRUE(Delegate(responsable, {kBuyer, kUser}).ok());
  EXPECT_FALSE(Check(responsable, kBuyer).allowed()) << "a delegation gives no access";
  v1::RevokeDelegationsRequest revoke;
  revoke.set_structure(StructureName(kSiret));
  revoke.set_account(responsable);
  revoke.add_profiles(kBuyer);
  v1::RevokeDelegationsResponse revoked;
  ASSERT_TRUE(entitlements_->RevokeDelegations(operator_, revoke, revoked).ok());
  const authz::Principal& r = principals_[responsable];
  EXPECT_EQ(ErrorReason(Grant(collaborator, kBuyer, &r).status()), "PROFILE_NOT_HELD_OR_DELEGATED");
  EXPECT_TRUE(Grant(collaborator, kUser, &r).ok()) << "the other delegation stands";
}

TEST_F(EntitlementsTest, DLG_GRANT_toResponsablesOnlyAndOneApplicationAtATime) {
  std::string collaborator = Consenting("collab@example.fr", v1::COLLABORATOR, "finances");
  EXPECT_EQ(ErrorReason(Delegate(collaborator, {kUser})), "NOT_A_RESPONSABLE");
  std::string responsable = Consenting("resp@example.fr", v1::RESPONSABLE, "finances");
  EXPECT_EQ(ErrorReason(Delegate(responsable, {kUser, "applications/other/profiles/x"})),
            "PROFILES_OF_SEVERAL_APPLICATIONS");
}

TEST_F(EntitlementsTest, HAB_REVOKE_aResponsableRevokesOnlyWhatHeCouldGive) {
  std::string responsable = Consenting("resp@example.fr", v1::RESPONSABLE, "finances");
  std::string collaborator = Consenting("collab@example.fr", v1::COLLABORATOR, "finances");
  ASSERT_TRUE(Grant(collaborator, kBuyer).ok());
  const authz::Principal& r = principals_[responsable];
  EXPECT_EQ(ErrorReason(Revoke(collaborator, &r)), "PROFILE_NOT_HELD_OR_DELEGATED");
  EXPECT_TRUE(Revoke(collaborator).ok());
  EXPECT_EQ(ErrorReason(Revoke(collaborator)), "HABILITATION_NOT_FOUND");
}

// Replacing a profile is revoking it: a responsable cannot swap away a profile he could not have revoked.
TEST_F(EntitlementsTest, HAB_GRANT_aResponsableReplacesOnlyAProfileHeCouldRevoke) {
  std::string responsable = Consenting("resp@example.fr", v1::RESPONSABLE, "finances");
  std::string collaborator = Consenting("collab@example.fr", v1::COLLABORATOR, "finances");
  ASSERT_TRUE(Delegate(responsable, {kUser}).ok());
  ASSERT_TRUE(Grant(collaborator, kBuyer).ok());
  const authz::Principal& r = principals_[responsable];
  EXPECT_EQ(ErrorReason(Grant(collaborator, kUser, &r).status()), "PROFILE_NOT_HELD_OR_DELEGATED");
  EXPECT_EQ(Check(collaborator, kBuyer).reason(), v1::GRANTED) << "the profile he could not revoke stays";
  ASSERT_TRUE(Revoke(collaborator).ok());
  EXPECT_TRUE(Grant(collaborator, kUser, &r).ok()) << "without a profile to replace, he gives his delegated one";
}

TEST_F(EntitlementsTest, CHECK_grantedByProfileOrByPermission) {
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kBuyer).ok());
  v1::CheckAccessResponse by_profile = Check(a, kBuyer);
  EXPECT_TRUE(by_profile.allowed());
  EXPECT_EQ(by_profile.reason(), v1::GRANTED);
  EXPECT_EQ(by_profile.structure(), StructureName(kSiret));
  EXPECT_TRUE(CheckPermission(a, "commandes.passer").allowed());
  EXPECT_FALSE(CheckPermission(a, "commandes.annuler").allowed());
  EXPECT_EQ(Check(a, kUser).reason(), v1::NO_HABILITATION);
}

TEST_F(EntitlementsTest, CHECK_saysWhyItDenies) {
  EXPECT_EQ(Check("accounts/0123456789abcdef", kUser).reason(), v1::ACCOUNT_UNKNOWN);

  std::string fresh = ReadyAccount("fresh@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(fresh, kUser).ok());
  EXPECT_EQ(Check(fresh, kUser).reason(), v1::CONSENT_MISSING);

  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kUser).ok());
  EXPECT_EQ(Check(a, kUser, "structures/44306184100047").reason(), v1::MEMBERSHIP_ENDED);
  for (int i = 0; i < policy_.passwords.lockout_threshold; ++i) (void)Login("a@example.fr", "wrong password!!");
  EXPECT_EQ(Check(a, kUser).reason(), v1::ACCOUNT_LOCKED);
  clock_.now += absl::Hours(25);
  EXPECT_TRUE(Check(a, kUser).allowed());
  clock_.now += policy_.passwords.max_age;
  EXPECT_EQ(Check(a, kUser).reason(), v1::PASSWORD_EXPIRED);
}

TEST_F(EntitlementsTest, CHECK_anInactiveAccountIsDenied) {
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kUser).ok());
  v1::DeactivateAccountRequest request;
  request.set_name(a);
  request.set_structure(StructureName(kSiret));
  v1::DeactivateAccountResponse response;
  ASSERT_TRUE(accounts_->Deactivate(operator_, request, response).ok());
  EXPECT_EQ(Check(a, kUser).reason(), v1::ACCOUNT_INACTIVE);
}

TEST_F(EntitlementsTest, SUB_endingASubscriptionStopsAccessUntilItResumes) {
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kUser).ok());
  v1::DeleteSubscriptionRequest end;
  end.set_name(SubscriptionName(kSiret, kApp));
  v1::DeleteSubscriptionResponse ended;
  ASSERT_TRUE(entitlements_->DeleteSubscription(operator_, end, ended).ok());
  EXPECT_EQ(Check(a, kUser).reason(), v1::NOT_SUBSCRIBED);
  ASSERT_TRUE(Subscribe().ok());
  EXPECT_TRUE(Check(a, kUser).allowed()) << "the habilitation was kept";
}

TEST_F(EntitlementsTest, APP_REG_retiringAProfileStopsItsHabilitationsAndItsGrants) {
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  std::string b = Consenting("b@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kUser).ok());
  v1::RetireProfileRequest retire;
  retire.set_name(kUser);
  v1::RetireProfileResponse retired;
  ASSERT_TRUE(applications_->RetireProfile(operator_, retire, retired).ok());
  EXPECT_EQ(Check(a, kUser).reason(), v1::PROFILE_RETIRED);
  EXPECT_EQ(ErrorReason(Grant(b, kUser).status()), "PROFILE_RETIRED");
  EXPECT_TRUE(Grant(a, kBuyer).ok()) << "an administrator replaces it with another profile";
}

// Each question a client application may ask about `account`: by either profile or either permission,
// without a structure, in `structure_name`, and in a structure it does not belong to.
std::vector<v1::CheckAccessRequest> EveryQuestionAbout(const std::string& account, const std::string& structure_name) {
  std::vector<v1::CheckAccessRequest> questions;
  for (const std::string& structure : {std::string(), structure_name, std::string("structures/44306184100047")}) {
    for (int object = 0; object < 4; ++object) {
      v1::CheckAccessRequest& request = questions.emplace_back();
      request.set_account(account);
      request.set_structure(structure);
      if (object == 0) request.set_profile(kUser);
      if (object == 1) request.set_profile(kBuyer);
      if (object == 2) request.set_permission("factures.lire");
      if (object == 3) request.set_permission("commandes.passer");
    }
  }
  return questions;
}

TEST_F(EntitlementsTest, CHECK_anIndexRebuiltFromTheStoreAnswersAsTheLiveOne) {
  // The live index followed every commit; a fresh one reads the store as a restart would. Both must agree on
  // every question, whatever the history.
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  std::string b = Consenting("b@example.fr", v1::COLLABORATOR);
  std::string c = Consenting("c@example.fr", v1::COLLABORATOR);
  std::string fresh = ReadyAccount("fresh@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kUser).ok());
  ASSERT_TRUE(Grant(a, kBuyer).ok()) << "replaces the first profile";
  ASSERT_TRUE(Grant(b, kUser).ok());
  ASSERT_TRUE(Revoke(b).ok());
  ASSERT_TRUE(Grant(c, kUser).ok());
  ASSERT_TRUE(Grant(fresh, kBuyer).ok());
  v1::RetireProfileRequest retire;
  retire.set_name(kUser);
  v1::RetireProfileResponse retired;
  ASSERT_TRUE(applications_->RetireProfile(operator_, retire, retired).ok());

  std::unique_ptr<AccessIndex> rebuilt = std::move(AccessIndex::Attach(*store_)).value();
  Access from_store(*store_, *rebuilt, clock_);
  int granted = 0;
  for (const std::string& account : {a, b, c, fresh, std::string("accounts/0123456789abcdef")}) {
    for (const v1::CheckAccessRequest& request : EveryQuestionAbout(account, StructureName(kSiret))) {
      v1::CheckAccessResponse live, again;
      ASSERT_TRUE(access_->Check(kApp, request, live).ok());
      ASSERT_TRUE(from_store.Check(kApp, request, again).ok());
      EXPECT_EQ(live.DebugString(), again.DebugString()) << request.DebugString();
      granted += live.allowed() ? 1 : 0;
    }
  }
  EXPECT_EQ(granted, 6) << "a holds acheteur: by profile and both permissions, with and without the structure";
  v1::ListEntitlementsRequest list;
  list.set_login_email("A@example.fr");
  v1::ListEntitlementsResponse live, again;
  ASSERT_TRUE(access_->ListEntitlements(kApp, list, live).ok());
  ASSERT_TRUE(from_store.ListEntitlements(kApp, list, again).ok());
  ASSERT_EQ(live.entitlements_size(), 1);
  EXPECT_EQ(live.entitlements(0).profile(), kBuyer);
  EXPECT_EQ(live.DebugString(), again.DebugString());
}

TEST_F(EntitlementsTest, CHECK_anIndexThatMissedAChangeRefusesToAnswerAndARestartRefusesToStart) {
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kUser).ok());
  ASSERT_TRUE(Check(a, kUser).allowed());
  // A record that does not decode (a bug or a corruption): the index cannot apply it.
  ASSERT_TRUE(store_
                  ->Update([&](store::Transaction& txn) {
                    return txn.Put(store::AccountKey(*ParseAccountName(a)), "\xff\xff not a record");
                  })
                  .ok());
  v1::CheckAccessRequest request;
  request.set_account(a);
  request.set_profile(kUser);
  v1::CheckAccessResponse response;
  EXPECT_EQ(access_->Check(kApp, request, response).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(AccessIndex::Attach(*store_).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(EntitlementsTest, DEL_REQUEST_refusedWhileTheAccountHoldsAHabilitation) {
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kUser).ok());
  v1::RequestAccountDeletionRequest request;
  request.set_name(a);
  request.set_structure(StructureName(kSiret));
  v1::RequestAccountDeletionResponse response;
  EXPECT_EQ(ErrorReason(deletions_->Request(operator_, request, response).status()), "ACCOUNT_HOLDS_HABILITATIONS");
  ASSERT_TRUE(Revoke(a).ok());
  EXPECT_TRUE(deletions_->Request(operator_, request, response).ok());
}

TEST_F(EntitlementsTest, LIST_entitlementsOfAnAccountAndHoldersOfAProfile) {
  std::string a = Consenting("a@example.fr", v1::COLLABORATOR);
  std::string b = Consenting("b@example.fr", v1::COLLABORATOR);
  std::string c = Consenting("c@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Grant(a, kUser).ok());
  ASSERT_TRUE(Grant(b, kUser).ok());
  ASSERT_TRUE(Grant(c, kBuyer).ok());
  v1::ListEntitlementsRequest list;
  list.set_login_email("a@example.fr");
  v1::ListEntitlementsResponse entitlements;
  ASSERT_TRUE(access_->ListEntitlements(kApp, list, entitlements).ok());
  ASSERT_EQ(entitlements.entitlements_size(), 1);
  EXPECT_TRUE(entitlements.entitlements(0).effective());
  EXPECT_EQ(entitlements.entitlements(0).permissions(0), "factures.lire");

  v1::LookupAccountsRequest lookup;
  lookup.set_profile(kUser);
  lookup.set_page_size(1);
  std::set<std::string> holders;
  do {
    v1::LookupAccountsResponse page;
    ASSERT_TRUE(access_->LookupAccounts(kApp, lookup, page).ok());
    for (const auto& account : page.accounts()) holders.insert(account);
    lookup.set_page_token(page.next_page_token());
  } while (!lookup.page_token().empty());
  EXPECT_EQ(holders, (std::set<std::string>{a, b}));
}

TEST_F(EntitlementsTest, CHECK_anApplicationAsksOnlyAboutItsOwnProfiles) {
  v1::CheckAccessRequest request;
  request.set_login_email("a@example.fr");
  request.set_profile("applications/other/profiles/x");
  v1::CheckAccessResponse response;
  EXPECT_EQ(ErrorReason(access_->Check(kApp, request, response)), "PROFILE_OF_ANOTHER_APPLICATION");
}

TEST_F(EntitlementsTest, CHECK_aConsistencyTokenFromTheFutureIsRefused) {
  v1::CheckAccessRequest request;
  request.set_login_email("a@example.fr");
  request.set_profile(kUser);
  request.set_consistency_token(EncodeConsistencyToken(store_->LatestRevision().value() + 1000));
  v1::CheckAccessResponse response;
  EXPECT_EQ(ErrorReason(access_->Check(kApp, request, response)), "CONSISTENCY_TOKEN_UNKNOWN");
  request.set_consistency_token(EncodeConsistencyToken(store_->LatestRevision().value()));
  EXPECT_TRUE(access_->Check(kApp, request, response).ok());
}

}  // namespace
}  // namespace habilis::domain
