// Issue 14: what the seeds show a person doing around the core rules, over gRPC against the real habilisd
// and a real SMTP server.
#include <string>
#include <vector>

#include "clients/cpp/client.h"
#include "gtest/gtest.h"
#include "tests/integration/flows_fixture.h"

namespace habilis {
namespace {

using testing::kStructure;

class PeopleTest : public testing::FlowsFixture {
 protected:
  std::vector<v1::AuditEntry> Trail(const std::string& caller, v1::ListAuditEntriesRequest request,
                                    grpc::Status* status_out = nullptr) {
    std::vector<v1::AuditEntry> entries;
    for (;;) {
      v1::ListAuditEntriesResponse response;
      grpc::Status status = audit_->ListAuditEntries(As(caller).get(), request, &response);
      if (status_out != nullptr) *status_out = status;
      if (!status.ok()) return entries;
      entries.insert(entries.end(), response.audit_entries().begin(), response.audit_entries().end());
      if (response.next_page_token().empty()) return entries;
      request.set_page_token(response.next_page_token());
    }
  }

  static const v1::AuditEntry* Find(const std::vector<v1::AuditEntry>& entries, const std::string& action,
                                    const std::string& target) {
    for (const v1::AuditEntry& entry : entries) {
      if (entry.action() == action && entry.target() == target) return &entry;
    }
    return nullptr;
  }

  // A member created by the operator, activated, with his password set from the e-mailed link, logged in.
  struct Member {
    std::string name;
    std::string session;
  };
  Member LoggedInMember(const std::string& login, v1::Role role) {
    Member member{CreateAndActivate(login, role), ""};
    absl::StatusOr<testing::ReceivedMail> activation = sink_->NextTo(login, "ACTIVATION");
    EXPECT_TRUE(activation.ok()) << activation.status();
    if (activation.ok()) {
      EXPECT_TRUE(SetPassword(testing::LinkToken(*activation)).ok());
    }
    member.session = Session(login);
    return member;
  }

  // The operator publishes profile "utilisateur" of "portail" and subscribes the structure to it.
  void PublishPortail() {
    v1::CreateProfileRequest profile;
    profile.set_parent("applications/portail");
    profile.set_profile_id("utilisateur");
    profile.mutable_profile()->set_display_name("Utilisateur du portail");
    profile.mutable_profile()->add_permissions("factures.lire");
    v1::CreateProfileResponse created;
    ASSERT_TRUE(applications_->CreateProfile(As(operator_key_).get(), profile, &created).ok());
    v1::CreateSubscriptionRequest subscription;
    subscription.set_parent(kStructure);
    subscription.set_application("applications/portail");
    v1::CreateSubscriptionResponse subscribed;
    ASSERT_TRUE(entitlements_->CreateSubscription(As(operator_key_).get(), subscription, &subscribed).ok());
  }

  grpc::Status Grant(const std::string& caller, const std::string& account, const std::string& profile) {
    v1::GrantHabilitationRequest request;
    request.set_structure(kStructure);
    request.set_account(account);
    request.set_profile(profile);
    v1::GrantHabilitationResponse response;
    return entitlements_->GrantHabilitation(As(caller).get(), request, &response);
  }

  grpc::Status Applications(const std::string& caller, const std::string& account, const std::string& structure,
                            v1::ListAccountApplicationsResponse* response) {
    v1::ListAccountApplicationsRequest request;
    request.set_account(account);
    request.set_structure(structure);
    return entitlements_->ListAccountApplications(As(caller).get(), request, response);
  }

  grpc::Status Deactivate(const std::string& caller, const std::string& account) {
    v1::DeactivateAccountRequest request;
    request.set_name(account);
    request.set_structure(kStructure);
    v1::DeactivateAccountResponse response;
    return accounts_->DeactivateAccount(As(caller).get(), request, &response);
  }
};

// Item 1 (SELF-APPS): a collaborator lists, by his own session, the applications he can use, by name; his
// administrator sees them in his structure; nobody else does.
TEST_F(PeopleTest, SELF_APPS_aCollaboratorListsHisApplicationsByName) {
  const std::string admin = AdministratorSession();
  const Member jean = LoggedInMember("jean@example.fr", v1::COLLABORATOR);
  PublishPortail();
  ASSERT_TRUE(Grant(admin, jean.name, "applications/portail/profiles/utilisateur").ok());

  v1::ListAccountApplicationsResponse mine;
  grpc::Status status = Applications(jean.session, jean.name, "", &mine);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(mine.applications_size(), 1);
  const v1::AccountApplication& portail = mine.applications(0);
  EXPECT_EQ(portail.structure(), kStructure);
  EXPECT_EQ(portail.structure_display_name(), "Commune de Test");
  EXPECT_EQ(portail.application(), "applications/portail");
  EXPECT_EQ(portail.application_display_name(), "Portail");
  EXPECT_EQ(portail.profile_display_name(), "Utilisateur du portail");
  EXPECT_EQ(portail.permissions_size(), 1);
  EXPECT_TRUE(portail.effective());
  EXPECT_EQ(portail.reason(), v1::GRANTED);

  const std::string paul = CreateAndActivate("paul@example.fr", v1::COLLABORATOR);
  v1::ListAccountApplicationsResponse theirs;
  EXPECT_EQ(Applications(jean.session, paul, "", &theirs).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "a collaborator reads only his own";
  status = Applications(admin, jean.name, "", &theirs);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "an administrator names his structure";
  EXPECT_EQ(client::DetailsOf(status).reason, "REQUIRED");
  status = Applications(admin, jean.name, kStructure, &theirs);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(theirs.applications_size(), 1);

  // The subscription ends: the application is still listed, and says why it no longer opens.
  v1::DeleteSubscriptionRequest end;
  end.set_name(std::string(kStructure) + "/subscriptions/portail");
  v1::DeleteSubscriptionResponse ended;
  ASSERT_TRUE(entitlements_->DeleteSubscription(As(operator_key_).get(), end, &ended).ok());
  mine.Clear();
  ASSERT_TRUE(Applications(jean.session, jean.name, "", &mine).ok());
  ASSERT_EQ(mine.applications_size(), 1);
  EXPECT_FALSE(mine.applications(0).effective());
  EXPECT_EQ(mine.applications(0).reason(), v1::NOT_SUBSCRIBED);
}

// Item 12: an administrator's act on his member's account (a record keyed by the account, not the SIRET) is
// in his structure's trail, under his name; he reads that member's trail within his structure, and only so.
TEST_F(PeopleTest, AUDIT_anAdministratorsActOnHisMemberIsInHisStructuresTrailUnderHisName) {
  const std::string admin = AdministratorSession();
  const std::string member = CreateAndActivate("membre@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Deactivate(admin, member).ok());

  v1::ListAuditEntriesRequest of_structure;
  of_structure.set_structure(kStructure);
  const std::vector<v1::AuditEntry> trail = Trail(admin, of_structure);
  const v1::AuditEntry* deactivated = Find(trail, "habilis.v1.DeactivateAccount", member);
  ASSERT_NE(deactivated, nullptr) << "the structure's trail shows the deactivation of its member";
  EXPECT_EQ(deactivated->actor_display_name(), "Jeanne Martin") << "the administrator, by name";
  const v1::AuditEntry* activated = Find(trail, "habilis.v1.ActivateAccount", member);
  ASSERT_NE(activated, nullptr) << "and the operator's activation";
  EXPECT_EQ(activated->actor_display_name(), "Operator t");

  v1::ListAuditEntriesRequest of_member;
  of_member.set_account(member);
  grpc::Status refused;
  Trail(admin, of_member, &refused);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << "an account's whole trail is operators'";
  of_member.set_within_structure(kStructure);
  grpc::Status status;
  const std::vector<v1::AuditEntry> members = Trail(admin, of_member, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(Find(members, "habilis.v1.DeactivateAccount", member), nullptr);
  EXPECT_NE(Find(members, "habilis.v1.CreateAccount", kStructure), nullptr);
  for (const v1::AuditEntry& entry : members) {
    EXPECT_FALSE(entry.target().empty()) << entry.action() << " names its target";
  }

  of_member.set_within_structure("structures/44306184100047");
  Trail(admin, of_member, &refused);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << "not within another structure";
  of_member.clear_account();
  of_member.set_structure(kStructure);
  of_member.set_within_structure(kStructure);
  Trail(admin, of_member, &refused);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(client::DetailsOf(refused).reason, "WITHIN_STRUCTURE_NEEDS_SCOPE");
}

// Item 12: the calls that name no resource (a form sent by its link) name the one they changed.
TEST_F(PeopleTest, AUDIT_aFilledInvitationsEntryNamesTheInvitation) {
  const std::string admin = AdministratorSession();
  const v1::Invitation invitation = InviteAndFill(admin, "invite@example.fr");
  v1::ListAuditEntriesRequest request;
  request.set_structure(kStructure);
  const std::vector<v1::AuditEntry> trail = Trail(admin, request);
  const v1::AuditEntry* filled = Find(trail, "habilis.v1.FillInvitation", invitation.name());
  ASSERT_NE(filled, nullptr);
  EXPECT_EQ(filled->actor(), "anonymous");
  for (const v1::AuditEntry& entry : trail) EXPECT_FALSE(entry.target().empty()) << entry.action();
}

}  // namespace
}  // namespace habilis
