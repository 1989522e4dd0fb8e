// Issue 14: what the seeds show a person doing around the core rules, over gRPC against the real habilisd
// and a real SMTP server.
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cpp/client.h"
#include "gtest/gtest.h"
#include "habilis/v1/access.grpc.pb.h"
#include "habilis/v1/api_keys.grpc.pb.h"
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

  // The operator publishes profile "utilisateur" of "portail" (the structure subscribes to it already).
  void PublishPortail() {
    v1::CreateProfileRequest profile;
    profile.set_parent("applications/portail");
    profile.set_profile_id("utilisateur");
    profile.mutable_profile()->set_display_name("Utilisateur du portail");
    profile.mutable_profile()->add_permissions("factures.lire");
    v1::CreateProfileResponse created;
    ASSERT_TRUE(applications_->CreateProfile(As(operator_key_).get(), profile, &created).ok());
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

  // A member created by the operator in `service` ("" for the root level), not activated.
  std::string CreateNamed(const std::string& login, const std::string& given, const std::string& family, v1::Role role,
                          const std::string& service) {
    v1::CreateAccountRequest create;
    create.set_parent(kStructure);
    *create.mutable_account() = testing::Person(login);
    create.mutable_account()->set_given_name(given);
    create.mutable_account()->set_family_name(family);
    create.mutable_membership()->set_role(role);
    if (!service.empty()) create.mutable_membership()->set_service(std::string(kStructure) + "/services/" + service);
    v1::CreateAccountResponse created;
    grpc::Status status = accounts_->CreateAccount(As(operator_key_).get(), create, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.account().name();
  }

  // The family names ListAccounts answers `request` with, over every page of `page_size`; the total of each
  // page in `totals`.
  std::vector<std::string> Search(const std::string& caller, v1::ListAccountsRequest request,
                                  std::vector<int>* totals = nullptr, grpc::Status* status_out = nullptr) {
    std::vector<std::string> names;
    request.set_parent(kStructure);
    for (;;) {
      v1::ListAccountsResponse response;
      grpc::Status status = accounts_->ListAccounts(As(caller).get(), request, &response);
      if (status_out != nullptr) *status_out = status;
      if (!status.ok()) return names;
      for (const v1::Account& account : response.accounts()) names.push_back(account.family_name());
      if (totals != nullptr) totals->push_back(response.total_size());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    std::sort(names.begin(), names.end());  // pages run in account-id order, which is random
    return names;
  }

  grpc::Status Deactivate(const std::string& caller, const std::string& account) {
    v1::DeactivateAccountRequest request;
    request.set_name(account);
    request.set_structure(kStructure);
    v1::DeactivateAccountResponse response;
    return accounts_->DeactivateAccount(As(caller).get(), request, &response);
  }

  grpc::Status Suspend(const std::string& caller, const std::string& account, const std::string& structure = kStructure,
                       v1::SuspendMembershipResponse* out = nullptr) {
    v1::SuspendMembershipRequest request;
    request.set_account(account);
    request.set_structure(structure);
    v1::SuspendMembershipResponse response;
    return accounts_->SuspendMembership(As(caller).get(), request, out != nullptr ? out : &response);
  }

  grpc::Status Resume(const std::string& caller, const std::string& account) {
    v1::ResumeMembershipRequest request;
    request.set_account(account);
    request.set_structure(kStructure);
    v1::ResumeMembershipResponse response;
    return accounts_->ResumeMembership(As(caller).get(), request, &response);
  }

  grpc::Status Remove(const std::string& caller, const std::string& account, const std::string& structure) {
    v1::RemoveMembershipRequest request;
    request.set_account(account);
    request.set_structure(structure);
    v1::RemoveMembershipResponse response;
    return accounts_->RemoveMembership(As(caller).get(), request, &response);
  }

  // The secret of an api key of "portail", for CheckAccess.
  std::string PortailKey() {
    auto api_keys = v1::ApiKeyService::NewStub(client::Connect(process_->target()));
    v1::CreateApiKeyRequest key;
    key.mutable_api_key()->set_display_name("portail");
    key.mutable_api_key()->set_application("applications/portail");
    v1::CreateApiKeyResponse created;
    EXPECT_TRUE(api_keys->CreateApiKey(As(operator_key_).get(), key, &created).ok());
    return created.secret();
  }

  v1::CheckAccessResponse Check(const std::string& key, const std::string& account, const std::string& structure) {
    v1::CheckAccessRequest check;
    check.set_account(account);
    check.set_profile("applications/portail/profiles/utilisateur");
    check.set_structure(structure);
    v1::CheckAccessResponse answer;
    grpc::Status status = access_->CheckAccess(As(key).get(), check, &answer);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return answer;
  }

  // A second structure, subscribed to "portail".
  void SeedOtherStructure() {
    v1::CreateStructureRequest structure;
    structure.mutable_structure()->set_siret(kOtherSiret);
    structure.mutable_structure()->set_category("Entreprise");
    structure.mutable_structure()->set_display_name("Cabinet Comptable");
    structure.mutable_structure()->set_address("3 quai Est");
    structure.mutable_structure()->set_postal_code("29200");
    structure.mutable_structure()->set_city("Brest");
    v1::CreateStructureResponse created;
    ASSERT_TRUE(structures_->CreateStructure(As(operator_key_).get(), structure, &created).ok());
    v1::CreateSubscriptionRequest subscription;
    subscription.set_parent(kOther);
    subscription.set_application("applications/portail");
    v1::CreateSubscriptionResponse subscribed;
    ASSERT_TRUE(entitlements_->CreateSubscription(As(operator_key_).get(), subscription, &subscribed).ok());
  }

  // Seed 001: an accountant with an account in the other structure is added to this one; he holds
  // "utilisateur" of "portail" in both. Returns his account.
  std::string AccountantInBothStructures() {
    SeedOtherStructure();
    PublishPortail();
    v1::CreateAccountRequest create;
    create.set_parent(kOther);
    *create.mutable_account() = testing::Person("comptable@example.fr");
    create.mutable_membership()->set_role(v1::COLLABORATOR);
    v1::CreateAccountResponse created;
    EXPECT_TRUE(accounts_->CreateAccount(As(operator_key_).get(), create, &created).ok());
    const std::string accountant = created.account().name();
    v1::ActivateAccountRequest activate;
    activate.set_name(accountant);
    activate.set_structure(kOther);
    v1::ActivateAccountResponse activated;
    EXPECT_TRUE(accounts_->ActivateAccount(As(operator_key_).get(), activate, &activated).ok());
    absl::StatusOr<testing::ReceivedMail> activation = sink_->NextTo("comptable@example.fr", "ACTIVATION");
    EXPECT_TRUE(activation.ok()) << activation.status();
    if (activation.ok()) {
      EXPECT_TRUE(SetPassword(testing::LinkToken(*activation)).ok());
    }

    // An operator's NEW-CREATE with a login that has an account attaches that account (DECISIONS.md).
    create.set_parent(kStructure);
    v1::CreateAccountResponse attached;
    grpc::Status status = accounts_->CreateAccount(As(operator_key_).get(), create, &attached);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(attached.account().name(), accountant);
    Session("comptable@example.fr");  // FIRST-LOGIN: the privacy policy accepted, CheckAccess may grant
    for (const std::string& structure : {std::string(kStructure), std::string(kOther)}) {
      v1::GrantHabilitationRequest grant;
      grant.set_structure(structure);
      grant.set_account(accountant);
      grant.set_profile("applications/portail/profiles/utilisateur");
      v1::GrantHabilitationResponse granted;
      EXPECT_TRUE(entitlements_->GrantHabilitation(As(operator_key_).get(), grant, &granted).ok());
    }
    return accountant;
  }

  int HabilitationsOf(const std::string& account, const std::string& structure) {
    v1::ListHabilitationsRequest list;
    list.set_structure(structure);
    list.set_account(account);
    v1::ListHabilitationsResponse habilitations;
    EXPECT_TRUE(entitlements_->ListHabilitations(As(operator_key_).get(), list, &habilitations).ok());
    return habilitations.habilitations_size();
  }

  static constexpr char kOtherSiret[] = "44306184100047";
  static constexpr char kOther[] = "structures/44306184100047";
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
  EXPECT_EQ(Applications(jean.session, paul, "", &theirs).error_code(), grpc::StatusCode::PERMISSION_DENIED)
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

// Item 2 (SEARCH): an administrator finds his members by the start of a name (accents and case aside), by
// service, role, state and password expiry, with the total count on every page.
TEST_F(PeopleTest, SEARCH_anAdministratorFindsMembersByNameServiceRoleStateAndPasswordExpiry) {
  Start(sink_->url(), {"--password-max-age-days", "90"});
  const std::string admin = AdministratorSession();  // Jeanne Martin, administrator in finances
  CreateNamed("elodie@example.fr", "Élodie", "Lefèvre", v1::COLLABORATOR, "finances");
  CreateNamed("eloise@example.fr", "Eloïse", "Dupont", v1::RESPONSABLE, "finances");
  CreateNamed("jean@example.fr", "Jean", "LEFEBVRE", v1::COLLABORATOR, "");

  v1::ListAccountsRequest request;
  request.set_name_prefix("lefe");
  std::vector<int> totals;
  EXPECT_EQ(Search(admin, request, &totals), (std::vector<std::string>{"LEFEBVRE", "Lefèvre"}));
  request.set_page_size(1);
  totals.clear();
  const std::vector<std::string> paged = Search(admin, request, &totals);
  EXPECT_EQ(paged.size(), 2u) << "two pages of one";
  EXPECT_EQ(totals, (std::vector<int>{2, 2})) << "the total on every page";
  request.set_page_size(0);

  request.set_name_prefix("ELODIE l");
  EXPECT_EQ(Search(admin, request), std::vector<std::string>{"Lefèvre"}) << "given then family name";
  request.set_name_prefix("élo");
  EXPECT_EQ(Search(admin, request).size(), 2u) << "Élodie and Eloïse";
  request.clear_name_prefix();
  request.set_role(v1::RESPONSABLE);
  EXPECT_EQ(Search(admin, request), std::vector<std::string>{"Dupont"});
  request.clear_role();
  request.set_service("root");
  EXPECT_EQ(Search(admin, request), std::vector<std::string>{"LEFEBVRE"});
  request.set_service(std::string(kStructure) + "/services/finances");
  request.set_state(v1::Account::INACTIVE);
  EXPECT_EQ(Search(admin, request).size(), 2u) << "Lefèvre and Dupont were never activated";
  request.clear_state();
  request.clear_service();

  // Only the administrator set a password: it expires in 90 days.
  request.mutable_password_expire_before()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 100)));
  EXPECT_EQ(Search(admin, request), std::vector<std::string>{"Martin"});
  request.mutable_password_expire_before()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(24)));
  EXPECT_TRUE(Search(admin, request).empty());
  request.clear_password_expire_before();

  v1::ListAccountsResponse all;
  request.set_parent(kStructure);
  ASSERT_TRUE(accounts_->ListAccounts(As(admin).get(), request, &all).ok());
  EXPECT_EQ(all.total_size(), 4);

  grpc::Status bad;
  request.set_service("structures/44306184100047/services/finances");
  Search(admin, request, nullptr, &bad);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "a service of another structure";
  request.clear_service();
  request.set_name_prefix(std::string("a\x01b", 3));
  Search(admin, request, nullptr, &bad);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "a control character";
}

// Item 2: the seed's form resends identifiers to several addresses at once, all or nothing.
TEST_F(PeopleTest, SEARCH_identifiersAreResentToSeveralAddressesAtOnceAllOrNothing) {
  const std::string admin = AdministratorSession();
  CreateNamed("elodie@example.fr", "Élodie", "Lefèvre", v1::COLLABORATOR, "finances");
  CreateNamed("jean@example.fr", "Jean", "Lefebvre", v1::COLLABORATOR, "");
  v1::ResendIdentifierRequest request;
  request.set_structure(kStructure);
  request.add_login_emails("ELODIE@example.fr");
  request.add_login_emails("personne@example.fr");
  v1::ResendIdentifierResponse response;
  grpc::Status status = accounts_->ResendIdentifier(As(admin).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(client::DetailsOf(status).reason, "MEMBER_NOT_FOUND");
  EXPECT_NE(status.error_message().find("login_emails[1]"), std::string::npos) << status.error_message();

  request.clear_login_emails();
  request.add_login_emails("jean@example.fr");
  ASSERT_TRUE(accounts_->ResendIdentifier(As(admin).get(), request, &response).ok());
  EXPECT_TRUE(sink_->NextTo("jean@example.fr", "IDENTIFIER").ok());
  EXPECT_FALSE(sink_->NextTo("elodie@example.fr", "IDENTIFIER", absl::Seconds(1)).ok())
      << "the refused call sent nothing";
  request.add_login_emails("elodie@example.fr");
  ASSERT_TRUE(accounts_->ResendIdentifier(As(admin).get(), request, &response).ok());
  EXPECT_TRUE(sink_->NextTo("jean@example.fr", "IDENTIFIER").ok());
  EXPECT_TRUE(sink_->NextTo("elodie@example.fr", "IDENTIFIER").ok());
}

// Item 6 (STR-EDIT, STR-1): an administrator keeps his structure's coordinates, contact phone and e-mail
// included, never its SIRET; the category is required.
TEST_F(PeopleTest, STR_EDIT_anAdministratorUpdatesHisStructuresCoordinatesButNotItsSiret) {
  const std::string admin = AdministratorSession();
  v1::UpdateStructureRequest update;
  update.mutable_structure()->set_name(kStructure);
  update.mutable_structure()->set_address("3 rue de la Gare");
  update.mutable_structure()->set_contact_phone("02 98 00 00 00");
  update.mutable_structure()->set_contact_email("mairie@commune-test.fr");
  for (const char* path : {"address", "contact_phone", "contact_email"}) update.mutable_update_mask()->add_paths(path);
  v1::UpdateStructureResponse updated;
  grpc::Status status = structures_->UpdateStructure(As(admin).get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.structure().address(), "3 rue de la Gare");
  EXPECT_EQ(updated.structure().contact_phone(), "02 98 00 00 00");
  EXPECT_EQ(updated.structure().contact_email(), "mairie@commune-test.fr");
  EXPECT_EQ(updated.structure().category(), "Commune") << "untouched";

  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("siret");
  EXPECT_EQ(structures_->UpdateStructure(As(admin).get(), update, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("category");
  status = structures_->UpdateStructure(As(admin).get(), update, &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "the category cannot be cleared";
  EXPECT_EQ(client::DetailsOf(status).reason, "REQUIRED");
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("contact_email");
  update.mutable_structure()->set_contact_email("pas une adresse");
  status = structures_->UpdateStructure(As(admin).get(), update, &updated);
  EXPECT_EQ(client::DetailsOf(status).reason, "EMAIL_FORMAT");

  v1::CreateStructureRequest create;
  create.mutable_structure()->set_siret("44306184100047");
  create.mutable_structure()->set_display_name("Cabinet comptable");
  create.mutable_structure()->set_address("3 quai Est");
  create.mutable_structure()->set_postal_code("29200");
  create.mutable_structure()->set_city("Brest");
  v1::CreateStructureResponse created;
  status = structures_->CreateStructure(As(operator_key_).get(), create, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "STR-1: a category is required";
  EXPECT_NE(status.error_message().find("category"), std::string::npos) << status.error_message();
}

grpc::Status Invite(v1::InvitationService::Stub& stub, std::unique_ptr<grpc::ClientContext> context,
                    const std::string& email) {
  v1::SendInvitationsRequest send;
  send.set_parent(kStructure);
  send.set_application("applications/portail");
  send.add_emails(email);
  send.set_role(v1::COLLABORATOR);
  send.set_service(std::string(kStructure) + "/services/finances");
  v1::SendInvitationsResponse sent;
  return stub.SendInvitations(context.get(), send, &sent);
}

// Item 3: a responsable sees his own service's members and their habilitations, the invitations he sent,
// and his delegations; not the rest of the structure.
TEST_F(PeopleTest, RESPONSABLE_seesHisServicesMembersHabilitationsInvitationsAndDelegationsOnly) {
  const std::string admin = AdministratorSession();
  const Member responsable = LoggedInMember("resp@example.fr", v1::RESPONSABLE);  // in finances
  const std::string in_service = CreateAndActivate("c1@example.fr", v1::COLLABORATOR);
  const std::string elsewhere = CreateNamed("c2@example.fr", "Paul", "Ailleurs", v1::COLLABORATOR, "");
  PublishPortail();
  ASSERT_TRUE(Grant(admin, in_service, "applications/portail/profiles/utilisateur").ok());
  ASSERT_TRUE(Grant(admin, elsewhere, "applications/portail/profiles/utilisateur").ok());

  v1::ListAccountsRequest members;
  members.set_parent(kStructure);
  v1::ListAccountsResponse listed;
  ASSERT_TRUE(accounts_->ListAccounts(As(responsable.session).get(), members, &listed).ok());
  EXPECT_EQ(listed.total_size(), listed.accounts_size());
  for (const v1::Account& account : listed.accounts()) {
    EXPECT_EQ(account.memberships(0).service(), std::string(kStructure) + "/services/finances") << account.name();
    EXPECT_NE(account.name(), elsewhere);
  }

  v1::ListHabilitationsRequest habilitations;
  habilitations.set_structure(kStructure);
  v1::ListHabilitationsResponse held;
  ASSERT_TRUE(entitlements_->ListHabilitations(As(responsable.session).get(), habilitations, &held).ok());
  ASSERT_EQ(held.habilitations_size(), 1) << "his collaborator's, not the root member's";
  EXPECT_EQ(held.habilitations(0).account(), in_service);
  held.Clear();
  ASSERT_TRUE(entitlements_->ListHabilitations(As(admin).get(), habilitations, &held).ok());
  EXPECT_EQ(held.habilitations_size(), 2) << "the administrator reads the whole structure's";

  ASSERT_TRUE(Invite(*invitations_, As(responsable.session), "recrue@example.fr").ok());
  ASSERT_TRUE(Invite(*invitations_, As(admin), "autre@example.fr").ok());
  v1::ListInvitationsRequest invitations;
  invitations.set_parent(kStructure);
  v1::ListInvitationsResponse sent;
  ASSERT_TRUE(invitations_->ListInvitations(As(responsable.session).get(), invitations, &sent).ok());
  ASSERT_EQ(sent.invitations_size(), 1);
  EXPECT_EQ(sent.invitations(0).email(), "recrue@example.fr");
  EXPECT_EQ(sent.invitations(0).inviter(), responsable.name);
  sent.Clear();
  ASSERT_TRUE(invitations_->ListInvitations(As(admin).get(), invitations, &sent).ok());
  EXPECT_EQ(sent.invitations_size(), 2);

  v1::GrantDelegationsRequest delegate;
  delegate.set_structure(kStructure);
  delegate.set_account(responsable.name);
  delegate.add_profiles("applications/portail/profiles/utilisateur");
  v1::GrantDelegationsResponse delegated;
  ASSERT_TRUE(entitlements_->GrantDelegations(As(admin).get(), delegate, &delegated).ok());
  v1::ListDelegationsRequest own;
  own.set_structure(kStructure);
  own.set_account(responsable.name);
  v1::ListDelegationsResponse delegations;
  grpc::Status status = entitlements_->ListDelegations(As(responsable.session).get(), own, &delegations);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(delegations.delegations_size(), 1);
}

// Item 11: a habilitation with an end date. Its holder and administrator are told a week before; CheckAccess
// denies from the end with its own reason; Watch reports the expiry.
TEST_F(PeopleTest, HAB_EXPIRE_aHabilitationEndsAtItsDateIsAnnouncedAndWatchReportsIt) {
  Start(sink_->url(), {"--expiry-sweep-ms", "100"});
  const std::string admin = AdministratorSession();
  const Member jean = LoggedInMember("jean@example.fr", v1::COLLABORATOR);
  PublishPortail();
  auto api_keys = v1::ApiKeyService::NewStub(client::Connect(process_->target()));
  v1::CreateApiKeyRequest key;
  key.mutable_api_key()->set_display_name("portail");
  key.mutable_api_key()->set_application("applications/portail");
  v1::CreateApiKeyResponse portail;
  ASSERT_TRUE(api_keys->CreateApiKey(As(operator_key_).get(), key, &portail).ok());

  v1::GrantHabilitationRequest grant;
  grant.set_structure(kStructure);
  grant.set_account(jean.name);
  grant.set_profile("applications/portail/profiles/utilisateur");
  grant.mutable_expire_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 1);
  v1::GrantHabilitationResponse granted;
  grpc::Status status = entitlements_->GrantHabilitation(As(admin).get(), grant, &granted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(client::DetailsOf(status).reason, "EXPIRE_TIME_RANGE") << "an end date in the past";
  const absl::Time end = absl::Now() + absl::Seconds(6);
  grant.mutable_expire_time()->set_seconds(absl::ToUnixSeconds(end));
  ASSERT_TRUE(entitlements_->GrantHabilitation(As(admin).get(), grant, &granted).ok());
  EXPECT_TRUE(granted.habilitation().has_expire_time());

  v1::WatchChangesRequest watch;
  watch.set_structure(kStructure);
  watch.set_consistency_token(granted.consistency_token());
  grpc::ClientContext watching;
  watching.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  client::Authorize(watching, admin);
  std::unique_ptr<grpc::ClientReader<v1::WatchChangesResponse>> stream = audit_->WatchChanges(&watching, watch);

  EXPECT_TRUE(sink_->NextTo("jean@example.fr", "HABILITATION_EXPIRING").ok()) << "the holder is told";
  EXPECT_TRUE(sink_->NextTo("admin@example.fr", "HABILITATION_EXPIRING").ok()) << "and his administrator";

  v1::CheckAccessRequest check;
  check.set_account(jean.name);
  check.set_profile("applications/portail/profiles/utilisateur");
  v1::CheckAccessResponse answer;
  ASSERT_TRUE(access_->CheckAccess(As(portail.secret()).get(), check, &answer).ok());
  EXPECT_TRUE(answer.allowed()) << "before its end";
  absl::SleepFor(end - absl::Now() + absl::Milliseconds(100));
  ASSERT_TRUE(access_->CheckAccess(As(portail.secret()).get(), check, &answer).ok());
  EXPECT_FALSE(answer.allowed()) << "after its end";
  EXPECT_EQ(answer.reason(), v1::HABILITATION_EXPIRED);

  bool reported = false;
  v1::WatchChangesResponse changes;
  while (!reported && stream->Read(&changes)) {
    for (const v1::AuditEntry& entry : changes.audit_entries()) {
      for (const v1::RecordChange& change : entry.changes()) {
        for (const v1::FieldChange& field : change.fields()) {
          if (entry.target() == granted.habilitation().name() && field.path() == "expiry_recorded_time") {
            reported = true;
          }
        }
      }
    }
  }
  EXPECT_TRUE(reported) << "Watch reports the expiry";
  watching.TryCancel();
}

// Item 9: an invitation is for a subscribed application, by name; its landing page reads it by its link
// before the form is sent; an administrator sends it again with a new link.
TEST_F(PeopleTest, INV_theLandingPageReadsTheInvitationByItsLinkAndAnAdministratorResendsIt) {
  const std::string admin = AdministratorSession();
  v1::SendInvitationsRequest unsubscribed;
  unsubscribed.set_parent(kStructure);
  unsubscribed.set_application("applications/absente");
  unsubscribed.add_emails("x@example.fr");
  unsubscribed.set_role(v1::COLLABORATOR);
  v1::CreateApplicationRequest app;
  app.set_application_id("absente");
  app.mutable_application()->set_display_name("Non souscrite");
  v1::CreateApplicationResponse app_created;
  ASSERT_TRUE(applications_->CreateApplication(As(operator_key_).get(), app, &app_created).ok());
  v1::SendInvitationsResponse sent;
  grpc::Status status = invitations_->SendInvitations(As(admin).get(), unsubscribed, &sent);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(client::DetailsOf(status).reason, "NOT_SUBSCRIBED");

  ASSERT_TRUE(Invite(*invitations_, As(admin), "nouveau@example.fr").ok());
  absl::StatusOr<testing::ReceivedMail> mail = sink_->NextTo("nouveau@example.fr", "INVITATION");
  ASSERT_TRUE(mail.ok()) << mail.status();
  v1::GetInvitationByLinkRequest by_link;
  by_link.set_link_token(testing::LinkToken(*mail));
  v1::GetInvitationByLinkResponse landing;
  status = invitations_->GetInvitationByLink(As("").get(), by_link, &landing);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(landing.structure(), kStructure);
  EXPECT_EQ(landing.structure_display_name(), "Commune de Test");
  EXPECT_EQ(landing.invitation().application_display_name(), "Portail");
  EXPECT_EQ(landing.invitation().email(), "nouveau@example.fr");
  EXPECT_EQ(landing.invitation().state(), v1::Invitation::SENT);
  EXPECT_TRUE(landing.invitation().inviter().empty()) << "the landing page learns nothing about the sender";

  v1::ResendInvitationsRequest resend;
  resend.set_parent(kStructure);
  resend.add_invitations(landing.invitation().name());
  v1::ResendInvitationsResponse resent;
  ASSERT_TRUE(invitations_->ResendInvitations(As(admin).get(), resend, &resent).ok());
  absl::StatusOr<testing::ReceivedMail> again = sink_->NextTo("nouveau@example.fr", "INVITATION");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(testing::LinkToken(*again), testing::LinkToken(*mail));
  status = invitations_->GetInvitationByLink(As("").get(), by_link, &landing);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << "the first link is spent";
  by_link.set_link_token(testing::LinkToken(*again));
  EXPECT_TRUE(invitations_->GetInvitationByLink(As("").get(), by_link, &landing).ok());
}

// Item 12: an administrator's act on his member's account (a record keyed by the account, not the SIRET) is
// in his structure's trail, under his name; he reads that member's trail within his structure, and only so.
TEST_F(PeopleTest, AUDIT_anAdministratorsActOnHisMemberIsInHisStructuresTrailUnderHisName) {
  const std::string admin = AdministratorSession();
  const std::string member = CreateAndActivate("membre@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(Suspend(admin, member).ok());
  ASSERT_TRUE(Deactivate(operator_key_, member).ok());

  v1::ListAuditEntriesRequest of_structure;
  of_structure.set_structure(kStructure);
  const std::vector<v1::AuditEntry> trail = Trail(admin, of_structure);
  const v1::AuditEntry* suspended = Find(trail, "habilis.v1.SuspendMembership", member);
  ASSERT_NE(suspended, nullptr) << "the structure's trail shows the suspension of its member";
  EXPECT_EQ(suspended->actor_display_name(), "Jeanne Martin") << "the administrator, by name";
  const v1::AuditEntry* deactivated = Find(trail, "habilis.v1.DeactivateAccount", member);
  ASSERT_NE(deactivated, nullptr) << "and the operator's account-wide deactivation of its member";
  EXPECT_EQ(deactivated->actor_display_name(), "Operator t");
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
  EXPECT_NE(Find(members, "habilis.v1.SuspendMembership", member), nullptr);
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

// Item 4 (MEMBERSHIP-END): one client company suspends, then removes, its accountant without switching him off
// for the other structure he belongs to; account-wide deactivation is an operator's act.
TEST_F(PeopleTest, MEMBERSHIP_END_aSuspensionOrRemovalInOneStructureLeavesHisOtherStructure) {
  const std::string admin = AdministratorSession();
  const std::string accountant = AccountantInBothStructures();
  const std::string key = PortailKey();
  ASSERT_TRUE(Check(key, accountant, kStructure).allowed());

  grpc::Status status = Deactivate(admin, accountant);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << "account-wide: an operator's act";

  v1::SuspendMembershipResponse suspended;
  status = Suspend(admin, accountant, kStructure, &suspended);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(suspended.account().memberships_size(), 1) << "the other structure stays out of sight";
  EXPECT_TRUE(suspended.account().memberships(0).has_suspend_time());
  EXPECT_EQ(suspended.account().state(), v1::Account::ACTIVE);
  v1::CheckAccessResponse answer = Check(key, accountant, kStructure);
  EXPECT_FALSE(answer.allowed());
  EXPECT_EQ(answer.reason(), v1::MEMBERSHIP_SUSPENDED);
  EXPECT_TRUE(Check(key, accountant, kOther).allowed()) << "his other structure is untouched";
  answer = Check(key, accountant, "");
  EXPECT_TRUE(answer.allowed());
  EXPECT_EQ(answer.structure(), kOther) << "asked about no structure, only the other one grants";
  EXPECT_EQ(client::DetailsOf(Suspend(admin, accountant)).reason, "MEMBERSHIP_ALREADY_SUSPENDED");
  EXPECT_EQ(HabilitationsOf(accountant, kStructure), 1) << "a suspension keeps his habilitations";

  ASSERT_TRUE(Resume(admin, accountant).ok());
  EXPECT_TRUE(Check(key, accountant, kStructure).allowed());
  EXPECT_EQ(client::DetailsOf(Resume(admin, accountant)).reason, "MEMBERSHIP_NOT_SUSPENDED");

  grpc::Status of_other = Remove(admin, accountant, kOther);
  EXPECT_EQ(of_other.error_code(), grpc::StatusCode::PERMISSION_DENIED) << "not in another structure";
  // The other structure's own member and an account that does not exist get the same answer here.
  v1::CreateAccountRequest create;
  create.set_parent(kOther);
  *create.mutable_account() = testing::Person("autre@example.fr");
  create.mutable_membership()->set_role(v1::COLLABORATOR);
  v1::CreateAccountResponse created;
  ASSERT_TRUE(accounts_->CreateAccount(As(operator_key_).get(), create, &created).ok());
  grpc::Status elsewhere = Suspend(admin, created.account().name());
  grpc::Status missing = Suspend(admin, "accounts/0123456789abcdef");
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(elsewhere.error_code(), missing.error_code());
  EXPECT_EQ(client::DetailsOf(elsewhere).reason, client::DetailsOf(missing).reason);

  status = Remove(admin, accountant, kStructure);
  ASSERT_TRUE(status.ok()) << status.error_message();
  answer = Check(key, accountant, kStructure);
  EXPECT_EQ(answer.reason(), v1::MEMBERSHIP_ENDED);
  EXPECT_EQ(HabilitationsOf(accountant, kStructure), 0) << "his habilitations there end with the membership";
  EXPECT_EQ(HabilitationsOf(accountant, kOther), 1);
  EXPECT_TRUE(Check(key, accountant, kOther).allowed());
  v1::LoginResponse login;
  EXPECT_TRUE(Login("comptable@example.fr", &login).ok()) << "he still logs in for the other structure";

  status = Remove(operator_key_, accountant, kOther);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(client::DetailsOf(status).reason, "ONLY_STRUCTURE") << "an account is not left without a structure";
}

// Item 4: a suspended administrator acts for nobody in the structure, and the structure keeps an active
// administrator even when two of them suspend each other at the same moment.
TEST_F(PeopleTest, MEMBERSHIP_END_aSuspendedAdministratorActsForNobodyAndTheLastOneStays) {
  const std::string admin = AdministratorSession();
  const Member second = LoggedInMember("second@example.fr", v1::ADMINISTRATOR);
  v1::GetAccountRequest own;
  own.set_name(second.name);
  v1::GetAccountResponse got;
  ASSERT_TRUE(accounts_->GetAccount(As(second.session).get(), own, &got).ok());
  v1::ListAccountsRequest list;
  list.set_parent(kStructure);
  v1::ListAccountsResponse members;
  ASSERT_TRUE(accounts_->ListAccounts(As(second.session).get(), list, &members).ok());
  std::string admin_name;
  for (const v1::Account& account : members.accounts()) {
    if (account.login_email() == "admin@example.fr") admin_name = account.name();
  }
  ASSERT_FALSE(admin_name.empty());

  ASSERT_TRUE(Suspend(admin, second.name).ok());
  grpc::Status status = accounts_->ListAccounts(As(second.session).get(), list, &members);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << "suspended, he acts for nobody here";
  EXPECT_TRUE(accounts_->GetAccount(As(second.session).get(), own, &got).ok()) << "he still reads himself";
  status = Suspend(admin, admin_name);
  EXPECT_EQ(client::DetailsOf(status).reason, "LAST_ADMINISTRATOR");
  ASSERT_TRUE(Resume(admin, second.name).ok());
  ASSERT_TRUE(accounts_->ListAccounts(As(second.session).get(), list, &members).ok()) << "resumed, he acts again";

  // Two administrators suspend each other at once: one of them stays.
  grpc::Status a, b;
  std::thread one([&] { a = Suspend(admin, second.name); });
  std::thread two([&] { b = Suspend(second.session, admin_name); });
  one.join();
  two.join();
  EXPECT_NE(a.ok(), b.ok()) << a.error_message() << " / " << b.error_message();
  const std::string& survivor = a.ok() ? admin : second.session;
  EXPECT_TRUE(accounts_->ListAccounts(As(survivor).get(), list, &members).ok());
}

// Item 5 (DEL-REQUEST, followed through): the administrator follows his structure's requests, a second one for
// the same person is refused, and he is told by e-mail what the operator decided.
TEST_F(PeopleTest, DEL_REQUEST_theRequesterFollowsHisRequestsAndIsToldTheDecision) {
  const std::string admin = AdministratorSession();
  const std::string accountant = AccountantInBothStructures();
  v1::RevokeHabilitationRequest revoke;
  revoke.set_structure(kStructure);
  revoke.set_account(accountant);
  revoke.set_application("applications/portail");
  v1::RevokeHabilitationResponse revoked;
  grpc::Status status = entitlements_->RevokeHabilitation(As(admin).get(), revoke, &revoked);
  ASSERT_TRUE(status.ok()) << status.error_message();

  v1::RequestAccountDeletionRequest ask;
  ask.set_name(accountant);
  ask.set_structure(kStructure);
  v1::RequestAccountDeletionResponse asked;
  status = accounts_->RequestAccountDeletion(As(admin).get(), ask, &asked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(asked.deletion_request().state(), v1::DeletionRequest::PENDING) << "he belongs to another structure";
  v1::RequestAccountDeletionResponse twice;
  status = accounts_->RequestAccountDeletion(As(admin).get(), ask, &twice);
  EXPECT_EQ(client::DetailsOf(status).reason, "DELETION_ALREADY_REQUESTED");

  v1::ListDeletionRequestsRequest list;
  v1::ListDeletionRequestsResponse listed;
  status = accounts_->ListDeletionRequests(As(admin).get(), list, &listed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << "all of them are operators' to read";
  list.set_structure(kOther);
  status = accounts_->ListDeletionRequests(As(admin).get(), list, &listed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  list.set_structure(kStructure);
  list.set_state(v1::DeletionRequest::PENDING);
  ASSERT_TRUE(accounts_->ListDeletionRequests(As(admin).get(), list, &listed).ok());
  ASSERT_EQ(listed.deletion_requests_size(), 1);
  EXPECT_EQ(listed.deletion_requests(0).account(), accountant);

  v1::DecideDeletionRequestRequest refuse;
  refuse.set_name(asked.deletion_request().name());
  refuse.set_comment("Le cabinet travaille encore pour une autre entreprise");
  v1::DecideDeletionRequestResponse decided;
  ASSERT_TRUE(accounts_->DecideDeletionRequest(As(operator_key_).get(), refuse, &decided).ok());
  absl::StatusOr<testing::ReceivedMail> refused = sink_->NextTo("admin@example.fr", "DELETION_REFUSED");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_NE(refused->body.find("encore pour une autre entreprise"), std::string::npos) << refused->body;
  EXPECT_NE(refused->body.find("comptable@example.fr"), std::string::npos);

  ASSERT_TRUE(accounts_->RequestAccountDeletion(As(admin).get(), ask, &asked).ok()) << "refused, it may be asked again";
  v1::DecideDeletionRequestRequest approve;
  approve.set_name(asked.deletion_request().name());
  approve.set_approve(true);
  ASSERT_TRUE(accounts_->DecideDeletionRequest(As(operator_key_).get(), approve, &decided).ok());
  EXPECT_TRUE(sink_->NextTo("admin@example.fr", "DELETION_APPROVED").ok());
  list.set_state(v1::DeletionRequest::DONE);
  ASSERT_TRUE(accounts_->ListDeletionRequests(As(operator_key_).get(), list, &listed).ok());
  ASSERT_EQ(listed.deletion_requests_size(), 1);
  EXPECT_EQ(listed.deletion_requests(0).name(), asked.deletion_request().name());
  v1::LoginResponse login;
  EXPECT_FALSE(Login("comptable@example.fr", &login).ok()) << "approved: deleted from every structure";
}

// Item 10: a person's page shows when he last logged in and what each session is; an administrator has a
// reset link sent to a member who forgot his password, as his own recorded act.
TEST_F(PeopleTest, PERSON_PAGE_lastLoginDeviceKindAndAnAdministratorsPasswordReset) {
  const std::string admin = AdministratorSession();
  const std::string member = CreateAndActivate("oubli@example.fr", v1::COLLABORATOR);
  v1::GetAccountRequest get;
  get.set_name(member);
  v1::GetAccountResponse got;
  ASSERT_TRUE(accounts_->GetAccount(As(admin).get(), get, &got).ok());
  EXPECT_FALSE(got.account().has_last_login_time()) << "«Dernière connexion : Pas de connexion enregistrée»";

  v1::SendPasswordResetRequest reset;
  reset.set_name(CreateNamed("inactif@example.fr", "Ines", "Morvan", v1::COLLABORATOR, ""));
  reset.set_structure(kStructure);
  v1::SendPasswordResetResponse sent;
  grpc::Status status = accounts_->SendPasswordReset(As(admin).get(), reset, &sent);
  EXPECT_EQ(client::DetailsOf(status).reason, "ACCOUNT_NOT_ACTIVE") << "its activation link sets a first password";
  reset.set_name(member);
  absl::StatusOr<testing::ReceivedMail> activation = sink_->NextTo("oubli@example.fr", "ACTIVATION");
  ASSERT_TRUE(activation.ok()) << activation.status();
  ASSERT_TRUE(SetPassword(testing::LinkToken(*activation)).ok());
  v1::LoginRequest login;
  login.set_login_email("oubli@example.fr");
  login.set_password(testing::kPassword);
  login.set_device_label("Téléphone de Marie");
  login.set_device_kind(v1::MOBILE_APP);
  v1::LoginResponse logged_in;
  ASSERT_TRUE(sessions_->Login(As("").get(), login, &logged_in).ok());
  EXPECT_EQ(logged_in.session().device_kind(), v1::MOBILE_APP);
  v1::AcceptPrivacyPolicyResponse consent;
  ASSERT_TRUE(
      sessions_->AcceptPrivacyPolicy(As(logged_in.session_token()).get(), v1::AcceptPrivacyPolicyRequest(), &consent)
          .ok());
  ASSERT_TRUE(accounts_->GetAccount(As(admin).get(), get, &got).ok());
  EXPECT_TRUE(got.account().has_last_login_time());
  v1::ListSessionsRequest list;
  list.set_parent(member);
  v1::ListSessionsResponse sessions;
  ASSERT_TRUE(sessions_->ListSessions(As(logged_in.session_token()).get(), list, &sessions).ok());
  ASSERT_EQ(sessions.sessions_size(), 1);
  EXPECT_EQ(sessions.sessions(0).device_kind(), v1::MOBILE_APP) << "listed as a mobile app";

  status = accounts_->SendPasswordReset(As(admin).get(), reset, &sent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  absl::StatusOr<testing::ReceivedMail> mail = sink_->NextTo("oubli@example.fr", "PASSWORD_RESET");
  ASSERT_TRUE(mail.ok()) << mail.status();
  ASSERT_TRUE(SetPassword(testing::LinkToken(*mail), "a brand new passphrase here").ok());
  v1::LoginResponse again;
  EXPECT_TRUE(Login("oubli@example.fr", &again, "a brand new passphrase here").ok());

  v1::ListAuditEntriesRequest trail;
  trail.set_structure(kStructure);
  const std::vector<v1::AuditEntry> entries = Trail(admin, trail);
  const v1::AuditEntry* entry = Find(entries, "habilis.v1.SendPasswordReset", member);
  ASSERT_NE(entry, nullptr) << "recorded as the administrator's act";
  EXPECT_EQ(entry->actor_display_name(), "Jeanne Martin");
}

// Seed 001 «Gérez les notifications»: each kind of notice is stopped or sent as the person chose; mails name
// the application by its display name (item 7).
TEST_F(PeopleTest, PERSON_PAGE_noticesAreChosenPerKindAndEachChoiceIsHonoured) {
  const std::string admin = AdministratorSession();
  PublishPortail();
  const Member resp = LoggedInMember("resp@example.fr", v1::RESPONSABLE);
  v1::UpdateAccountRequest prefs;
  prefs.mutable_account()->set_name(resp.name);
  prefs.mutable_account()->add_muted_notices(v1::NOTICE_KIND_UNSPECIFIED);
  prefs.mutable_update_mask()->add_paths("muted_notices");
  v1::UpdateAccountResponse updated;
  grpc::Status status = accounts_->UpdateAccount(As(resp.session).get(), prefs, &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(client::DetailsOf(status).reason, "NOTICE_KIND");
  prefs.mutable_account()->clear_muted_notices();
  prefs.mutable_account()->add_muted_notices(v1::HABILITATION_NOTICES);
  status = accounts_->UpdateAccount(As(resp.session).get(), prefs, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(updated.account().muted_notices_size(), 1);

  ASSERT_TRUE(Grant(admin, resp.name, "applications/portail/profiles/utilisateur").ok());
  v1::GrantDelegationsRequest delegate;
  delegate.set_structure(kStructure);
  delegate.set_account(resp.name);
  delegate.add_profiles("applications/portail/profiles/utilisateur");
  v1::GrantDelegationsResponse delegated;
  status = entitlements_->GrantDelegations(As(admin).get(), delegate, &delegated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  absl::StatusOr<testing::ReceivedMail> delegation = sink_->NextTo("resp@example.fr", "DELEGATION_GRANTED");
  ASSERT_TRUE(delegation.ok()) << "delegation notices still come: " << delegation.status();
  EXPECT_NE(delegation->body.find("l'application Portail "), std::string::npos) << delegation->body;
  EXPECT_FALSE(sink_->NextTo("resp@example.fr", "HABILITATION_GRANTED", absl::Seconds(1)).ok())
      << "habilitation notices are stopped";

  prefs.mutable_account()->clear_muted_notices();
  ASSERT_TRUE(accounts_->UpdateAccount(As(resp.session).get(), prefs, &updated).ok());
  EXPECT_EQ(updated.account().muted_notices_size(), 0);
  v1::RevokeHabilitationRequest revoke;
  revoke.set_structure(kStructure);
  revoke.set_account(resp.name);
  revoke.set_application("applications/portail");
  v1::RevokeHabilitationResponse revoked;
  ASSERT_TRUE(entitlements_->RevokeHabilitation(As(admin).get(), revoke, &revoked).ok());
  EXPECT_TRUE(sink_->NextTo("resp@example.fr", "HABILITATION_REVOKED").ok()) << "sent again once chosen";
}

// FIRST-LOGIN with versions: a new privacy policy is accepted again before anything else; a session's last
// use is recorded (DEVICES).
TEST_F(PeopleTest, PERSON_PAGE_aNewPrivacyPolicyIsAcceptedAgainAndSessionsShowTheirLastUse) {
  const Member jean = LoggedInMember("jean@example.fr", v1::COLLABORATOR);
  v1::GetAccountRequest own;
  own.set_name(jean.name);
  v1::GetAccountResponse got;
  ASSERT_TRUE(accounts_->GetAccount(As(jean.session).get(), own, &got).ok());
  EXPECT_EQ(got.account().privacy_policy_version(), "1");

  Start(sink_->url(), {"--privacy-policy-version", "2026-12", "--session-last-use-seconds", "1"});
  grpc::Status status = accounts_->GetAccount(As(jean.session).get(), own, &got);
  EXPECT_EQ(client::DetailsOf(status).reason, "PRIVACY_CONSENT_REQUIRED") << "asked again before anything else";
  v1::LoginResponse login;
  ASSERT_TRUE(Login("jean@example.fr", &login).ok());
  EXPECT_TRUE(login.privacy_consent_required());
  EXPECT_EQ(login.privacy_policy_version(), "2026-12");
  v1::AcceptPrivacyPolicyRequest accept;
  accept.set_version("1");
  v1::AcceptPrivacyPolicyResponse accepted;
  status = sessions_->AcceptPrivacyPolicy(As(login.session_token()).get(), accept, &accepted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(client::DetailsOf(status).reason, "PRIVACY_POLICY_CHANGED") << "he was shown an old version";
  accept.set_version("2026-12");
  status = sessions_->AcceptPrivacyPolicy(As(login.session_token()).get(), accept, &accepted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(accepted.account().privacy_policy_version(), "2026-12");
  EXPECT_TRUE(accounts_->GetAccount(As(jean.session).get(), own, &got).ok()) << "every session goes on";

  v1::ListSessionsRequest list;
  list.set_parent(jean.name);
  v1::ListSessionsResponse sessions;
  ASSERT_TRUE(sessions_->ListSessions(As(login.session_token()).get(), list, &sessions).ok());
  const v1::Session* current = nullptr;
  for (const v1::Session& session : sessions.sessions()) {
    if (session.current()) current = &session;
  }
  ASSERT_NE(current, nullptr);
  EXPECT_TRUE(current->has_last_use_time());
  const int64_t opened = current->create_time().seconds();
  absl::SleepFor(absl::Milliseconds(2100));
  ASSERT_TRUE(sessions_->ListSessions(As(login.session_token()).get(), list, &sessions).ok());
  ASSERT_TRUE(sessions_->ListSessions(As(login.session_token()).get(), list, &sessions).ok());
  for (const v1::Session& session : sessions.sessions()) {
    if (session.current()) {
      EXPECT_GT(session.last_use_time().seconds(), opened) << "its last use moved on";
    }
  }
}

// NEW-CREATE step 2 (seed 003 «définissant son rôle pour chaque service»): the profiles come with the account,
// all or nothing.
TEST_F(PeopleTest, NEW_CREATE_anAccountIsCreatedWithItsProfilesAllOrNothing) {
  const std::string admin = AdministratorSession();
  PublishPortail();
  v1::CreateApplicationRequest other;
  other.set_application_id("autre");
  other.mutable_application()->set_display_name("Autre");
  v1::CreateApplicationResponse other_created;
  ASSERT_TRUE(applications_->CreateApplication(As(operator_key_).get(), other, &other_created).ok());
  v1::CreateProfileRequest profile;
  profile.set_parent("applications/autre");
  profile.set_profile_id("lecteur");
  profile.mutable_profile()->set_display_name("Lecteur");
  v1::CreateProfileResponse profile_created;
  ASSERT_TRUE(applications_->CreateProfile(As(operator_key_).get(), profile, &profile_created).ok());

  v1::CreateAccountRequest create;
  create.set_parent(kStructure);
  *create.mutable_account() = testing::Person("nouveau@example.fr");
  create.mutable_membership()->set_role(v1::COLLABORATOR);
  create.add_profiles("applications/portail/profiles/utilisateur");
  create.add_profiles("applications/portail/profiles/utilisateur");
  v1::CreateAccountResponse created;
  grpc::Status status = accounts_->CreateAccount(As(admin).get(), create, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(client::DetailsOf(status).reason, "ONE_PROFILE_PER_APPLICATION");
  create.mutable_profiles()->RemoveLast();
  create.add_profiles("applications/autre/profiles/lecteur");
  status = accounts_->CreateAccount(As(admin).get(), create, &created);
  EXPECT_EQ(client::DetailsOf(status).reason, "NOT_SUBSCRIBED");
  v1::ListAccountsRequest search;
  search.set_login_email("nouveau@example.fr");
  EXPECT_TRUE(Search(admin, search).empty()) << "no account without its profiles";

  create.mutable_profiles()->RemoveLast();
  status = accounts_->CreateAccount(As(admin).get(), create, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(HabilitationsOf(created.account().name(), kStructure), 1);
  EXPECT_EQ(Check(PortailKey(), created.account().name(), kStructure).reason(), v1::ACCOUNT_INACTIVE)
      << "held, and given once the account is activated";
}

// «Modifier l'utilisateur»: a new login takes effect once its address confirms it, the old one is told, and
// uniqueness is kept at the confirmation.
TEST_F(PeopleTest, MODIFY_USER_aLoginChangesOnceTheNewAddressConfirmsIt) {
  const std::string admin = AdministratorSession();
  const Member jean = LoggedInMember("jean@example.fr", v1::COLLABORATOR);
  CreateAndActivate("pris@example.fr", v1::COLLABORATOR);
  auto ask = [&](const std::string& login) {
    v1::UpdateAccountRequest change;
    change.mutable_account()->set_name(jean.name);
    change.mutable_account()->set_login_email(login);
    change.mutable_update_mask()->add_paths("login_email");
    v1::UpdateAccountResponse changed;
    grpc::Status status = accounts_->UpdateAccount(As(admin).get(), change, &changed);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(changed.account().login_email(), "jean@example.fr") << "unchanged until confirmed";
    EXPECT_EQ(changed.account().pending_login_email(), login);
    EXPECT_TRUE(sink_->NextTo("jean@example.fr", "LOGIN_EMAIL_CHANGE").ok()) << "the old address is told";
    absl::StatusOr<testing::ReceivedMail> mail = sink_->NextTo(login, "LOGIN_EMAIL_CONFIRMATION");
    EXPECT_TRUE(mail.ok()) << mail.status();
    return mail.ok() ? testing::LinkToken(*mail) : std::string();
  };
  auto confirm = [&](const std::string& token) {
    v1::ConfirmLoginEmailRequest request;
    request.set_link_token(token);
    v1::ConfirmLoginEmailResponse response;
    return accounts_->ConfirmLoginEmail(As("").get(), request, &response);
  };
  const std::string first = ask("jean.dupont@nouveau.fr");
  const std::string taken = ask("pris@example.fr");
  EXPECT_EQ(client::DetailsOf(confirm(first)).reason, "LINK_SUPERSEDED");
  grpc::Status status = confirm(taken);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(client::DetailsOf(status).reason, "LOGIN_TAKEN");
  v1::LoginResponse login;
  EXPECT_TRUE(Login("jean@example.fr", &login).ok()) << "the old login works until the change is confirmed";

  status = confirm(ask("jean.dupont@nouveau.fr"));
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Login("jean.dupont@nouveau.fr", &login).ok());
  EXPECT_EQ(Login("jean@example.fr", &login).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::GetAccountRequest get;
  get.set_name(jean.name);
  v1::GetAccountResponse got;
  ASSERT_TRUE(accounts_->GetAccount(As(admin).get(), get, &got).ok());
  EXPECT_EQ(got.account().login_email(), "jean.dupont@nouveau.fr");
  EXPECT_TRUE(got.account().pending_login_email().empty());
  v1::ListAccountsRequest search;
  search.set_login_email("jean.dupont@nouveau.fr");
  EXPECT_EQ(Search(admin, search).size(), 1u) << "found under the new login";
}

// Item 7: seed 000 «Je sélectionne l'application cliente … le type de service concerne uniquement
// l'application FICOBA»; members read the applications their structure subscribes to, by name.
TEST_F(PeopleTest, APPS_BY_NAME_aServiceForAnApplicationTakesOneOfItsTypes) {
  const std::string admin = AdministratorSession();
  const Member jean = LoggedInMember("jean@example.fr", v1::COLLABORATOR);
  v1::CreateApplicationRequest app;
  app.set_application_id("ficoba");
  app.mutable_application()->set_display_name("FICOBA");
  app.mutable_application()->add_service_types("Guichet");
  app.mutable_application()->add_service_types("Service FICOBA");
  v1::CreateApplicationResponse app_created;
  ASSERT_TRUE(applications_->CreateApplication(As(operator_key_).get(), app, &app_created).ok());
  EXPECT_EQ(app_created.application().service_types_size(), 2);

  v1::GetApplicationRequest get;
  get.set_name("applications/ficoba");
  v1::GetApplicationResponse got;
  grpc::Status unsubscribed = applications_->GetApplication(As(jean.session).get(), get, &got);
  get.set_name("applications/absente");
  grpc::Status absent = applications_->GetApplication(As(jean.session).get(), get, &got);
  EXPECT_EQ(unsubscribed.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(client::DetailsOf(unsubscribed).reason, client::DetailsOf(absent).reason)
      << "an application his structures do not use is as one that does not exist";
  get.set_name("applications/portail");
  ASSERT_TRUE(applications_->GetApplication(As(jean.session).get(), get, &got).ok());
  EXPECT_EQ(got.application().display_name(), "Portail");
  v1::ListProfilesRequest profiles;
  profiles.set_parent("applications/ficoba");
  v1::ListProfilesResponse listed;
  EXPECT_EQ(client::DetailsOf(applications_->ListProfiles(As(jean.session).get(), profiles, &listed)).reason,
            "APPLICATION_NOT_FOUND")
      << "nor its profiles";
  profiles.set_parent("applications/portail");
  EXPECT_TRUE(applications_->ListProfiles(As(jean.session).get(), profiles, &listed).ok());

  v1::CreateServiceRequest service;
  service.set_parent(kStructure);
  service.mutable_service()->set_display_name("Guichet FICOBA");
  service.mutable_service()->set_application("applications/ficoba");
  service.mutable_service()->set_service_type("guichet");
  v1::CreateServiceResponse created;
  grpc::Status status = org_chart_->CreateService(As(admin).get(), service, &created);
  EXPECT_EQ(client::DetailsOf(status).reason, "NOT_SUBSCRIBED");
  v1::CreateSubscriptionRequest subscription;
  subscription.set_parent(kStructure);
  subscription.set_application("applications/ficoba");
  v1::CreateSubscriptionResponse subscribed;
  ASSERT_TRUE(entitlements_->CreateSubscription(As(operator_key_).get(), subscription, &subscribed).ok());
  service.mutable_service()->set_service_type("Autre chose");
  status = org_chart_->CreateService(As(admin).get(), service, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(client::DetailsOf(status).reason, "SERVICE_TYPE_NOT_OFFERED");
  service.mutable_service()->set_service_type("guichet");
  status = org_chart_->CreateService(As(admin).get(), service, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.service().service_type(), "Guichet") << "spelt as the application spells it";
  EXPECT_EQ(created.service().application(), "applications/ficoba");
}

// Seed 000 «je renseigne l'adresse mail»: where a request names an account and its structure, the login names
// the member (AIP-122 alias "accounts/{login}"), within that structure only.
TEST_F(PeopleTest, SEARCH_aMemberIsNamedByHisLoginWithinTheRequestsStructure) {
  const std::string admin = AdministratorSession();
  PublishPortail();
  const Member jean = LoggedInMember("jean@example.fr", v1::COLLABORATOR);
  grpc::Status status = Grant(admin, "accounts/Jean@Example.fr", "applications/portail/profiles/utilisateur");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(HabilitationsOf(jean.name, kStructure), 1);

  SeedOtherStructure();
  v1::CreateAccountRequest elsewhere;
  elsewhere.set_parent(kOther);
  *elsewhere.mutable_account() = testing::Person("ailleurs@example.fr");
  elsewhere.mutable_membership()->set_role(v1::COLLABORATOR);
  v1::CreateAccountResponse created;
  ASSERT_TRUE(accounts_->CreateAccount(As(operator_key_).get(), elsewhere, &created).ok());
  grpc::Status nobody = Grant(admin, "accounts/personne@example.fr", "applications/portail/profiles/utilisateur");
  status = Grant(admin, "accounts/ailleurs@example.fr", "applications/portail/profiles/utilisateur");
  EXPECT_EQ(nobody.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(client::DetailsOf(nobody).reason, "ACCOUNT_NOT_FOUND") << "as an unknown account id";
  EXPECT_EQ(status.error_code(), nobody.error_code()) << "a login of another structure is as no login";
  EXPECT_EQ(client::DetailsOf(status).reason, client::DetailsOf(nobody).reason);

  status = Grant(jean.session, "accounts/jean@example.fr", "applications/portail/profiles/utilisateur");
  grpc::Status by_id = Grant(jean.session, jean.name, "applications/portail/profiles/utilisateur");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(client::DetailsOf(status).reason, client::DetailsOf(by_id).reason) << "the gate judges alike";

  EXPECT_TRUE(Suspend(admin, "accounts/jean@example.fr").ok());
  EXPECT_EQ(Check(PortailKey(), jean.name, kStructure).reason(), v1::MEMBERSHIP_SUSPENDED);
  EXPECT_TRUE(Resume(admin, "accounts/jean@example.fr").ok());
  EXPECT_EQ(Check(PortailKey(), jean.name, kStructure).reason(), v1::GRANTED);
}

}  // namespace
}  // namespace habilis
