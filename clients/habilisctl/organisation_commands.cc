// structure, service: the organisation and its org chart (seed 000 «Gérer les services»).
#include <iostream>

#include "clients/habilisctl/cli.h"
#include "habilis/v1/accounts.pb.h"
#include "habilis/v1/org_chart.pb.h"
#include "habilis/v1/structures.pb.h"

namespace habilis::ctl {
namespace {

void PrintTree(const v1::ServiceNode& node, const std::string& indent) {
  std::cout << indent << node.service().display_name() << "  (" << node.service().name() << ", " << node.account_count()
            << " accounts)\n";
  for (const v1::ServiceNode& child : node.children()) PrintTree(child, indent + "  ");
}

void AddStructureCommands(CLI::App& app, Cli& cli) {
  CLI::App* structure = app.add_subcommand("structure", "structures (organisations, by SIRET)")->require_subcommand(1);
  auto created = std::make_shared<v1::Structure>();
  CLI::App* create = structure->add_subcommand("create", "register a structure (operators)");
  create->add_option("siret", *created->mutable_siret(), "its SIRET, 14 digits")->required();
  create->add_option("--name", *created->mutable_display_name(), "its name")->required();
  create->add_option("--category", *created->mutable_category(), "its category (seed 000: required)");
  create->add_option("--address", *created->mutable_address())->required();
  create->add_option("--postal-code", *created->mutable_postal_code())->required();
  create->add_option("--city", *created->mutable_city())->required();
  create->add_option("--country", *created->mutable_country(), "ISO 3166 code, e.g. FR");
  create->callback([&cli, created] {
    v1::CreateStructureRequest request;
    *request.mutable_structure() = *created;
    v1::CreateStructureResponse response;
    cli.Run(request, response);
  });
  auto siret = std::make_shared<std::string>();
  CLI::App* get = structure->add_subcommand("get", "a structure's details");
  get->add_option("siret", *siret, "default: --structure");
  get->callback([&cli, siret] {
    v1::GetStructureRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_name(), *siret); !named.ok()) return cli.Refuse(named);
    v1::GetStructureResponse response;
    cli.Run(request, response);
  });
  auto page = std::make_shared<std::pair<int, std::string>>(100, "");
  CLI::App* list = structure->add_subcommand("list", "every structure (operators)");
  list->add_option("--page-size", page->first)->capture_default_str();
  list->add_option("--page-token", page->second);
  list->callback([&cli, page] {
    v1::ListStructuresRequest request;
    request.set_page_size(page->first);
    request.set_page_token(page->second);
    v1::ListStructuresResponse response;
    cli.Run(request, response);
  });
}

void AddServiceCreate(CLI::App* service, Cli& cli) {
  struct Create {
    std::string display_name, parent, type, id;
  };
  auto create_options = std::make_shared<Create>();
  CLI::App* create = service->add_subcommand("create", "create a service (SVC-CREATE)");
  create->add_option("name", create_options->display_name, "its display name")->required();
  create->add_option("--parent", create_options->parent, "the service it sits under (id or name); default: the root");
  create->add_option("--type", create_options->type, "its service type");
  create->add_option("--id", create_options->id, "its id (default: chosen by the server)");
  create->callback([&cli, create_options] {
    v1::CreateServiceRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    request.mutable_service()->set_display_name(create_options->display_name);
    request.mutable_service()->set_service_type(create_options->type);
    request.set_service_id(create_options->id);
    if (!create_options->parent.empty()) {
      grpc::Status found = cli.Service(create_options->parent, request.mutable_service()->mutable_parent());
      if (!found.ok()) return cli.Refuse(found);
    }
    v1::CreateServiceResponse response;
    cli.Run(request, response);
  });
}

void AddServiceTree(CLI::App* service, Cli& cli) {
  service->add_subcommand("tree", "the org chart, with account counts")->callback([&cli] {
    v1::GetServiceTreeRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_structure()); !named.ok()) return cli.Refuse(named);
    v1::GetServiceTreeResponse response;
    grpc::Status status = cli.connection.Call(request, response);
    if (!status.ok()) return cli.Refuse(status);
    if (cli.settings.json) return Print(response, true);
    std::cout << request.structure() << ": " << response.service_count() << " services, " << response.account_count()
              << " accounts (" << response.root_account_count() << " at the root)\n";
    for (const v1::ServiceNode& root : response.roots()) PrintTree(root, "  ");
  });
}

void AddServiceRename(CLI::App* service, Cli& cli) {
  auto renamed = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* rename = service->add_subcommand("rename", "rename a service (SVC-RENAME)");
  rename->add_option("service", renamed->first, "id or name")->required();
  rename->add_option("new_name", renamed->second)->required();
  rename->callback([&cli, renamed] {
    v1::UpdateServiceRequest request;
    if (grpc::Status found = cli.Service(renamed->first, request.mutable_service()->mutable_name()); !found.ok()) {
      return cli.Refuse(found);
    }
    request.mutable_service()->set_display_name(renamed->second);
    request.mutable_update_mask()->add_paths("display_name");
    v1::UpdateServiceResponse response;
    cli.Run(request, response);
  });
}

void AddServiceMerge(CLI::App* service, Cli& cli) {
  struct Merge {
    std::vector<std::string> sources;
    std::string into;
  };
  auto merge_options = std::make_shared<Merge>();
  CLI::App* merge = service->add_subcommand("merge", "merge services into one (SVC-MERGE): their accounts move");
  merge->add_option("sources", merge_options->sources, "the services merged away (ids or names)")->required();
  merge->add_option("--into", merge_options->into, "the service that remains")->required();
  merge->callback([&cli, merge_options] {
    v1::MergeServicesRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    for (const std::string& source : merge_options->sources) {
      if (grpc::Status found = cli.Service(source, request.add_sources()); !found.ok()) return cli.Refuse(found);
    }
    if (grpc::Status found = cli.Service(merge_options->into, request.mutable_target()); !found.ok()) {
      return cli.Refuse(found);
    }
    v1::MergeServicesResponse response;
    cli.Run(request, response);
  });
}

void AddServiceDelete(CLI::App* service, Cli& cli) {
  auto deleted = std::make_shared<std::vector<std::string>>();
  CLI::App* remove =
      service->add_subcommand("delete", "delete services (SVC-DELETE): refused while accounts are in them");
  remove->add_option("services", *deleted, "ids or names")->required();
  remove->callback([&cli, deleted] {
    v1::BatchDeleteServicesRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    for (const std::string& which : *deleted) {
      if (grpc::Status found = cli.Service(which, request.add_names()); !found.ok()) return cli.Refuse(found);
    }
    v1::BatchDeleteServicesResponse response;
    cli.Run(request, response);
  });
}

void AddServiceTransfer(CLI::App* service, Cli& cli) {
  struct Transfer {
    std::vector<std::string> logins;
    std::string to;
  };
  auto transfer_options = std::make_shared<Transfer>();
  CLI::App* transfer = service->add_subcommand("transfer", "move accounts to another service (SVC-TRANSFER)");
  transfer->add_option("login_emails", transfer_options->logins, "the accounts' login e-mails")->required();
  transfer->add_option("--to", transfer_options->to, "the service they move to (id or name)")->required();
  transfer->callback([&cli, transfer_options] {
    v1::TransferAccountsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    for (const std::string& login : transfer_options->logins) request.add_login_emails(login);
    if (grpc::Status found = cli.Service(transfer_options->to, request.mutable_service()); !found.ok()) {
      return cli.Refuse(found);
    }
    v1::TransferAccountsResponse response;
    cli.Run(request, response);
  });
}

void AddServiceCommands(CLI::App& app, Cli& cli) {
  CLI::App* service = app.add_subcommand("service", "the structure's services (--structure)")->require_subcommand(1);
  AddServiceCreate(service, cli);
  AddServiceTree(service, cli);
  AddServiceRename(service, cli);
  AddServiceMerge(service, cli);
  AddServiceDelete(service, cli);
  AddServiceTransfer(service, cli);
}

}  // namespace

void AddOrganisationCommands(CLI::App& app, Cli& cli) {
  AddStructureCommands(app, cli);
  AddServiceCommands(app, cli);
}

}  // namespace habilis::ctl
