#include "server/domain/operations/demo.h"

#include <map>

#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/entitlements/api_keys.h"
#include "server/domain/entitlements/applications.h"
#include "server/domain/entitlements/entitlements.h"
#include "server/domain/identity/accounts.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/org_chart.h"
#include "server/domain/organisation/structures.h"

namespace habilis::domain {
namespace {

absl::StatusOr<std::string> AddService(OrgChart& org_chart, const authz::Principal& op, absl::string_view id,
                                       absl::string_view display_name, absl::string_view parent_id) {
  v1::CreateServiceRequest request;
  request.set_parent(StructureName(kDemoSiret));
  request.set_service_id(std::string(id));
  request.mutable_service()->set_display_name(std::string(display_name));
  if (!parent_id.empty()) request.mutable_service()->set_parent(ServiceResourceName(kDemoSiret, parent_id));
  v1::CreateServiceResponse response;
  RETURN_IF_ERROR(org_chart.CreateService(op, request, response).status());
  return response.service().name();
}

// One person of the demo: created and activated by the operator through the same operations as over the API
// (NEW-CREATE, NEW-ACTIVATE), so the activation e-mail carrying the link to set a password goes out.
absl::StatusOr<std::string> AddPerson(Accounts& accounts, const authz::Principal& op, const DemoPerson& person) {
  v1::CreateAccountRequest request;
  request.set_parent(StructureName(kDemoSiret));
  v1::Account& account = *request.mutable_account();
  account.set_login_email(person.login_email);
  account.set_given_name(person.given_name);
  account.set_family_name(person.family_name);
  account.set_address("1 place de la Mairie");
  account.set_postal_code("29200");
  account.set_city("Brest");
  account.set_country("FR");
  request.mutable_membership()->set_role(person.role);
  if (!person.service_id.empty()) {
    request.mutable_membership()->set_service(ServiceResourceName(kDemoSiret, person.service_id));
  }
  v1::CreateAccountResponse created;
  RETURN_IF_ERROR(accounts.Create(op, request, created).status());
  v1::ActivateAccountRequest activate;
  activate.set_name(created.account().name());
  activate.set_structure(StructureName(kDemoSiret));
  v1::ActivateAccountResponse activated;
  RETURN_IF_ERROR(accounts.Activate(op, activate, activated).status());
  return created.account().name();
}

absl::Status SeedPeople(store::Store& store, const Clock& clock, const IdentityPolicy& policy,
                        const authz::Principal& op, Entitlements& entitlements) {
  Accounts accounts(store, clock, policy);
  const std::string profile = ProfileName(kDemoApplication, "utilisateur");
  std::map<std::string, std::string> names;
  for (const DemoPerson& person : DemoPeople()) {
    ASSIGN_OR_RETURN(names[person.login_email], AddPerson(accounts, op, person));
  }
  // The responsable of Finances may give the profile on (DLG-GRANT); one of his collaborators holds it.
  v1::GrantDelegationsRequest delegate;
  delegate.set_structure(StructureName(kDemoSiret));
  delegate.set_account(names[DemoPeople()[1].login_email]);
  delegate.add_profiles(profile);
  v1::GrantDelegationsResponse delegated;
  RETURN_IF_ERROR(entitlements.GrantDelegations(op, delegate, delegated).status());
  for (const std::string& holder : {DemoPeople()[0].login_email, DemoPeople()[2].login_email}) {
    v1::GrantHabilitationRequest grant;
    grant.set_structure(StructureName(kDemoSiret));
    grant.set_account(names[holder]);
    grant.set_profile(profile);
    v1::GrantHabilitationResponse granted;
    RETURN_IF_ERROR(entitlements.GrantHabilitation(op, grant, granted).status());
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<DemoPerson>& DemoPeople() {
  static const auto* people = new std::vector<DemoPerson>{
      {"marie.martin@demo-sur-mer.fr", "Marie", "Martin", v1::ADMINISTRATOR, ""},
      {"paul.bernard@demo-sur-mer.fr", "Paul", "Bernard", v1::RESPONSABLE, "finances"},
      {"lea.durand@demo-sur-mer.fr", "Léa", "Durand", v1::COLLABORATOR, "finances"},
      {"hugo.petit@demo-sur-mer.fr", "Hugo", "Petit", v1::COLLABORATOR, "accueil"},
  };
  return *people;
}

absl::StatusOr<std::optional<DemoCredentials>> SeedDemo(store::Store& store, const Clock& clock,
                                                        const IdentityPolicy& policy) {
  ApiKeys api_keys(store, clock);
  absl::StatusOr<std::string> operator_key = api_keys.CreateFirstOperatorKey("demo operator");
  if (ErrorReason(operator_key.status()) == "OPERATOR_KEY_EXISTS") return std::nullopt;
  RETURN_IF_ERROR(operator_key.status());
  ASSIGN_OR_RETURN(authz::Principal op, api_keys.Authenticate(*operator_key));

  Structures structures(store, clock);
  v1::CreateStructureRequest structure;
  structure.mutable_structure()->set_siret(std::string(kDemoSiret));
  structure.mutable_structure()->set_display_name("Commune de Démo-sur-Mer");
  structure.mutable_structure()->set_category("Collectivité territoriale");
  structure.mutable_structure()->set_address("1 place de la Mairie");
  structure.mutable_structure()->set_postal_code("29200");
  structure.mutable_structure()->set_city("Brest");
  structure.mutable_structure()->set_canton("Brest-1");
  v1::CreateStructureResponse created;
  RETURN_IF_ERROR(structures.Create(op, structure, created).status());

  OrgChart org_chart(store, clock);
  RETURN_IF_ERROR(AddService(org_chart, op, "direction-generale", "Direction générale", "").status());
  RETURN_IF_ERROR(
      AddService(org_chart, op, "ressources-humaines", "Ressources humaines", "direction-generale").status());
  RETURN_IF_ERROR(AddService(org_chart, op, "finances", "Finances", "direction-generale").status());
  RETURN_IF_ERROR(AddService(org_chart, op, "accueil", "Accueil", "").status());

  Applications applications(store, clock);
  v1::CreateApplicationRequest application;
  application.set_application_id(std::string(kDemoApplication));
  application.mutable_application()->set_display_name("Portail partenaires");
  application.mutable_application()->set_description("Demo client application of habilis");
  v1::CreateApplicationResponse app_created;
  RETURN_IF_ERROR(applications.Create(op, application, app_created).status());

  v1::CreateProfileRequest profile;
  profile.set_parent(ApplicationName(kDemoApplication));
  profile.set_profile_id("utilisateur");
  profile.mutable_profile()->set_display_name("Utilisateur du service");
  profile.mutable_profile()->add_permissions("dossiers.lire");
  profile.mutable_profile()->add_permissions("dossiers.deposer");
  v1::CreateProfileResponse profile_created;
  RETURN_IF_ERROR(applications.CreateProfile(op, profile, profile_created).status());
  Entitlements entitlements(store, clock);
  v1::CreateSubscriptionRequest subscription;
  subscription.set_parent(StructureName(kDemoSiret));
  subscription.set_application(ApplicationName(kDemoApplication));
  v1::CreateSubscriptionResponse subscribed;
  RETURN_IF_ERROR(entitlements.CreateSubscription(op, subscription, subscribed).status());

  v1::CreateApiKeyRequest key;
  key.mutable_api_key()->set_display_name("portail-partenaires production");
  key.mutable_api_key()->set_application(ApplicationName(kDemoApplication));
  v1::CreateApiKeyResponse key_created;
  RETURN_IF_ERROR(api_keys.Create(op, key, key_created).status());
  RETURN_IF_ERROR(SeedPeople(store, clock, policy, op, entitlements));

  return DemoCredentials{*operator_key, key_created.secret()};
}

}  // namespace habilis::domain
