#include "server/domain/demo.h"

#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/api_keys.h"
#include "server/domain/applications.h"
#include "server/domain/entitlements.h"
#include "server/domain/org_chart.h"
#include "server/domain/resource_names.h"
#include "server/domain/structures.h"

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

}  // namespace

absl::StatusOr<std::optional<DemoCredentials>> SeedDemo(store::Store& store, const Clock& clock) {
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

  return DemoCredentials{*operator_key, key_created.secret()};
}

}  // namespace habilis::domain
