// application, profile, subscription, grant, revoke, habilitations, delegate, undelegate, delegations, check,
// entitlements: who may use which client application (seed 000 «Gérer les habilitations»).
#include <iostream>

#include "clients/habilisctl/cli.h"
#include "habilis/v1/access.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"

namespace habilis::ctl {
namespace {

void AddApplicationCommand(CLI::App& app, Cli& cli) {
  CLI::App* application = app.add_subcommand("application", "client applications (APP-REG)")->require_subcommand(1);
  struct Create {
    std::string id;
    v1::Application application;
  };
  auto created = std::make_shared<Create>();
  CLI::App* create = application->add_subcommand("create", "register a client application (operators)");
  create->add_option("id", created->id, "its id, e.g. portail-partenaires")->required();
  create->add_option("--name", *created->application.mutable_display_name())->required();
  create->add_option("--description", *created->application.mutable_description());
  create->callback([&cli, created] {
    v1::CreateApplicationRequest request;
    request.set_application_id(created->id);
    *request.mutable_application() = created->application;
    v1::CreateApplicationResponse response;
    cli.Run(request, response);
  });
  auto id = std::make_shared<std::string>();
  CLI::App* get = application->add_subcommand("get", "an application");
  get->add_option("application", *id)->required();
  get->callback([&cli, id] {
    v1::GetApplicationRequest request;
    request.set_name(Cli::Application(*id));
    v1::GetApplicationResponse response;
    cli.Run(request, response);
  });
  application->add_subcommand("list", "every application")->callback([&cli] {
    v1::ListApplicationsRequest request;
    request.set_page_size(100);
    v1::ListApplicationsResponse response;
    cli.Run(request, response);
  });
}

void AddProfileCommand(CLI::App& app, Cli& cli) {
  CLI::App* profile = app.add_subcommand("profile", "an application's profiles (APP-REG)")->require_subcommand(1);
  struct Profile {
    std::string application, id;
    v1::Profile profile;
    std::vector<std::string> permissions;
  };
  auto profile_options = std::make_shared<Profile>();
  CLI::App* create_profile = profile->add_subcommand("create", "publish a profile of an application");
  create_profile->add_option("application", profile_options->application)->required();
  create_profile->add_option("id", profile_options->id, "the profile's id, e.g. utilisateur")->required();
  create_profile->add_option("--name", *profile_options->profile.mutable_display_name())->required();
  create_profile->add_option("--permission", profile_options->permissions, "a permission it gives (repeatable)");
  create_profile->callback([&cli, profile_options] {
    v1::CreateProfileRequest request;
    request.set_parent(Cli::Application(profile_options->application));
    request.set_profile_id(profile_options->id);
    *request.mutable_profile() = profile_options->profile;
    for (const std::string& permission : profile_options->permissions) {
      request.mutable_profile()->add_permissions(permission);
    }
    v1::CreateProfileResponse response;
    cli.Run(request, response);
  });
  auto of = std::make_shared<std::string>();
  CLI::App* list_profiles = profile->add_subcommand("list", "an application's profiles");
  list_profiles->add_option("application", *of)->required();
  list_profiles->callback([&cli, of] {
    v1::ListProfilesRequest request;
    request.set_parent(Cli::Application(*of));
    request.set_page_size(100);
    v1::ListProfilesResponse response;
    cli.Run(request, response);
  });
  auto retired = std::make_shared<std::string>();
  CLI::App* retire = profile->add_subcommand("retire", "retire a profile: no longer given, no longer effective");
  retire->add_option("profile", *retired, "APP/PROFILE")->required();
  retire->callback([&cli, retired] {
    v1::RetireProfileRequest request;
    request.set_name(Cli::Profile(*retired));
    v1::RetireProfileResponse response;
    cli.Run(request, response);
  });
}

void AddSubscriptionCommand(CLI::App& app, Cli& cli) {
  CLI::App* subscription =
      app.add_subcommand("subscription", "the structure's subscriptions (SUB, --structure)")->require_subcommand(1);
  auto subscribed = std::make_shared<std::string>();
  CLI::App* subscribe = subscription->add_subcommand("create", "subscribe the structure to an application");
  subscribe->add_option("application", *subscribed)->required();
  subscribe->callback([&cli, subscribed] {
    v1::CreateSubscriptionRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    request.set_application(Cli::Application(*subscribed));
    v1::CreateSubscriptionResponse response;
    cli.Run(request, response);
  });
  subscription->add_subcommand("list", "the structure's subscriptions")->callback([&cli] {
    v1::ListSubscriptionsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    request.set_page_size(100);
    v1::ListSubscriptionsResponse response;
    cli.Run(request, response);
  });
  auto unsubscribed = std::make_shared<std::string>();
  CLI::App* unsubscribe = subscription->add_subcommand("delete", "end a subscription");
  unsubscribe->add_option("subscription", *unsubscribed, "its name, as listed")->required();
  unsubscribe->callback([&cli, unsubscribed] {
    v1::DeleteSubscriptionRequest request;
    request.set_name(*unsubscribed);
    v1::DeleteSubscriptionResponse response;
    cli.Run(request, response);
  });
}

void AddCatalogCommands(CLI::App& app, Cli& cli) {
  AddApplicationCommand(app, cli);
  AddProfileCommand(app, cli);
  AddSubscriptionCommand(app, cli);
}

struct Grant {
  std::string who;
  std::vector<std::string> profiles;
};

void AddGrantCommand(CLI::App& app, Cli& cli) {
  auto grant_options = std::make_shared<Grant>();
  CLI::App* grant = app.add_subcommand("grant", "give an account a profile in the structure (HAB-GRANT)");
  grant->add_option("account", grant_options->who, "login e-mail, accounts/{id} or id")->required();
  grant->add_option("profile", grant_options->profiles, "APP/PROFILE")->required()->expected(1);
  grant->callback([&cli, grant_options] {
    v1::GrantHabilitationRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_structure()); !named.ok()) return cli.Refuse(named);
    if (grpc::Status named = cli.Account(grant_options->who, request.mutable_account()); !named.ok()) {
      return cli.Refuse(named);
    }
    request.set_profile(Cli::Profile(grant_options->profiles.front()));
    v1::GrantHabilitationResponse response;
    cli.Run(request, response);
  });
}

void AddRevokeCommand(CLI::App& app, Cli& cli) {
  auto revoke_options = std::make_shared<Grant>();
  CLI::App* revoke = app.add_subcommand("revoke", "take an application's profile from an account (HAB-REVOKE)");
  revoke->add_option("account", revoke_options->who)->required();
  revoke->add_option("application", revoke_options->profiles, "the application")->required()->expected(1);
  revoke->callback([&cli, revoke_options] {
    v1::RevokeHabilitationRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_structure()); !named.ok()) return cli.Refuse(named);
    if (grpc::Status named = cli.Account(revoke_options->who, request.mutable_account()); !named.ok()) {
      return cli.Refuse(named);
    }
    request.set_application(Cli::Application(revoke_options->profiles.front()));
    v1::RevokeHabilitationResponse response;
    cli.Run(request, response);
  });
}

void AddHabilitationsCommand(CLI::App& app, Cli& cli) {
  auto listed = std::make_shared<std::string>();
  CLI::App* habilitations = app.add_subcommand("habilitations", "the structure's habilitations, or one account's");
  habilitations->add_option("account", *listed);
  habilitations->callback([&cli, listed] {
    v1::ListHabilitationsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_structure()); !named.ok()) return cli.Refuse(named);
    if (!listed->empty()) {
      if (grpc::Status named = cli.Account(*listed, request.mutable_account()); !named.ok()) return cli.Refuse(named);
    }
    request.set_page_size(100);
    v1::ListHabilitationsResponse response;
    cli.Run(request, response);
  });
}

void AddDelegateCommand(CLI::App& app, Cli& cli) {
  auto delegate_options = std::make_shared<Grant>();
  CLI::App* delegate = app.add_subcommand("delegate", "hand profiles to a responsable to give on (DLG-GRANT)");
  delegate->add_option("account", delegate_options->who, "the responsable")->required();
  delegate->add_option("profiles", delegate_options->profiles, "APP/PROFILE ...")->required();
  delegate->callback([&cli, delegate_options] {
    v1::GrantDelegationsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_structure()); !named.ok()) return cli.Refuse(named);
    if (grpc::Status named = cli.Account(delegate_options->who, request.mutable_account()); !named.ok()) {
      return cli.Refuse(named);
    }
    for (const std::string& profile : delegate_options->profiles) request.add_profiles(Cli::Profile(profile));
    v1::GrantDelegationsResponse response;
    cli.Run(request, response);
  });
}

void AddUndelegateCommand(CLI::App& app, Cli& cli) {
  auto undelegate_options = std::make_shared<Grant>();
  CLI::App* undelegate = app.add_subcommand("undelegate", "take delegated profiles back (DLG-REVOKE)");
  undelegate->add_option("account", undelegate_options->who)->required();
  undelegate->add_option("profiles", undelegate_options->profiles, "APP/PROFILE ...")->required();
  undelegate->callback([&cli, undelegate_options] {
    v1::RevokeDelegationsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_structure()); !named.ok()) return cli.Refuse(named);
    if (grpc::Status named = cli.Account(undelegate_options->who, request.mutable_account()); !named.ok()) {
      return cli.Refuse(named);
    }
    for (const std::string& profile : undelegate_options->profiles) request.add_profiles(Cli::Profile(profile));
    v1::RevokeDelegationsResponse response;
    cli.Run(request, response);
  });
}

void AddDelegationsCommand(CLI::App& app, Cli& cli) {
  auto delegated = std::make_shared<std::string>();
  CLI::App* delegations = app.add_subcommand("delegations", "the structure's delegations, or one responsable's");
  delegations->add_option("account", *delegated);
  delegations->callback([&cli, delegated] {
    v1::ListDelegationsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_structure()); !named.ok()) return cli.Refuse(named);
    if (!delegated->empty()) {
      if (grpc::Status named = cli.Account(*delegated, request.mutable_account()); !named.ok()) {
        return cli.Refuse(named);
      }
    }
    v1::ListDelegationsResponse response;
    cli.Run(request, response);
  });
}

void AddGrantCommands(CLI::App& app, Cli& cli) {
  AddGrantCommand(app, cli);
  AddRevokeCommand(app, cli);
  AddHabilitationsCommand(app, cli);
  AddDelegateCommand(app, cli);
  AddUndelegateCommand(app, cli);
  AddDelegationsCommand(app, cli);
}

struct Check {
  std::string who, profile, permission;
};

void AddCheckCommand(CLI::App& app, Cli& cli) {
  auto check_options = std::make_shared<Check>();
  CLI::App* check =
      app.add_subcommand("check", "may this account use this profile? (CHECK; a client application's key)");
  check->add_option("account", check_options->who, "login e-mail or accounts/{id}")->required();
  check->add_option("profile", check_options->profile, "APP/PROFILE");
  check->add_option("--permission", check_options->permission, "a permission instead of a profile");
  check->callback([&cli, check_options] {
    v1::CheckAccessRequest request;
    if (check_options->who.find('@') != std::string::npos) {
      request.set_login_email(check_options->who);
    } else {
      request.set_account(check_options->who.rfind("accounts/", 0) == 0 ? check_options->who
                                                                        : "accounts/" + check_options->who);
    }
    if (!check_options->profile.empty()) request.set_profile(Cli::Profile(check_options->profile));
    if (!check_options->permission.empty()) request.set_permission(check_options->permission);
    if (!cli.settings.structure.empty()) (void)cli.Structure(request.mutable_structure());
    v1::CheckAccessResponse response;
    grpc::Status status = cli.connection.Call(request, response);
    if (!status.ok()) return cli.Refuse(status);
    if (cli.settings.json) return Print(response, true);
    std::cout << (response.allowed() ? "ALLOWED" : "DENIED") << " " << v1::AccessReason_Name(response.reason())
              << (response.structure().empty() ? "" : " in " + response.structure())
              << (response.profile().empty() ? "" : " by " + response.profile()) << "\n";
  });
}

void AddEntitlementsCommand(CLI::App& app, Cli& cli) {
  auto entitled = std::make_shared<std::string>();
  CLI::App* entitlements = app.add_subcommand("entitlements", "an account's entitlements in the application (LIST)");
  entitlements->add_option("account", *entitled, "login e-mail or accounts/{id}")->required();
  entitlements->callback([&cli, entitled] {
    v1::ListEntitlementsRequest request;
    if (entitled->find('@') != std::string::npos) {
      request.set_login_email(*entitled);
    } else {
      request.set_account(entitled->rfind("accounts/", 0) == 0 ? *entitled : "accounts/" + *entitled);
    }
    v1::ListEntitlementsResponse response;
    cli.Run(request, response);
  });
}

void AddAccessCommands(CLI::App& app, Cli& cli) {
  AddCheckCommand(app, cli);
  AddEntitlementsCommand(app, cli);
}

}  // namespace

void AddEntitlementCommands(CLI::App& app, Cli& cli) {
  AddCatalogCommands(app, cli);
  AddGrantCommands(app, cli);
  AddAccessCommands(app, cli);
}

}  // namespace habilis::ctl
