// account, invitation: the structure's people (seed 000 «Gérer les utilisateurs»).
#include <iostream>

#include "absl/strings/ascii.h"
#include "clients/habilisctl/cli.h"
#include "habilis/v1/accounts.pb.h"
#include "habilis/v1/invitations.pb.h"

namespace habilis::ctl {
namespace {

const std::map<std::string, v1::Role>& Roles() {
  static const auto* roles = new std::map<std::string, v1::Role>{
      {"administrator", v1::ADMINISTRATOR}, {"responsable", v1::RESPONSABLE}, {"collaborator", v1::COLLABORATOR}};
  return *roles;
}

// An account command that names one account and, for some, the structure it acts in.
template <typename Request, typename Response>
void AddAccountAction(CLI::App& parent, Cli& cli, const std::string& name, const std::string& help) {
  auto who = std::make_shared<std::string>();
  CLI::App* command = parent.add_subcommand(name, help);
  command->add_option("account", *who, "login e-mail (with --structure), accounts/{id} or id")->required();
  command->callback([&cli, who] {
    Request request;
    std::string* account_field = nullptr;
    if constexpr (requires { request.mutable_name(); }) {
      account_field = request.mutable_name();
    } else {
      account_field = request.mutable_account();
    }
    if (grpc::Status named = cli.Account(*who, account_field); !named.ok()) return cli.Refuse(named);
    if constexpr (requires { request.mutable_structure(); }) {
      if (grpc::Status named = cli.Structure(request.mutable_structure()); !named.ok()) return cli.Refuse(named);
    }
    Response response;
    cli.Run(request, response);
  });
}

void AddAccountCreate(CLI::App* account, Cli& cli) {
  struct Create {
    v1::Account account;
    std::string role = "collaborator";
    std::string service;
  };
  auto create_options = std::make_shared<Create>();
  v1::Account& draft = create_options->account;
  CLI::App* create = account->add_subcommand("create", "create an account, INACTIVE until activated (NEW-CREATE)");
  create->add_option("login_email", *draft.mutable_login_email())->required();
  create->add_option("--given-name", *draft.mutable_given_name())->required();
  create->add_option("--family-name", *draft.mutable_family_name())->required();
  create->add_option("--role", create_options->role, "administrator, responsable or collaborator")
      ->check(CLI::IsMember({"administrator", "responsable", "collaborator"}))
      ->capture_default_str();
  create->add_option("--service", create_options->service, "the service (id or name); default: the root");
  create->add_option("--address", *draft.mutable_address())->required();
  create->add_option("--postal-code", *draft.mutable_postal_code())->required();
  create->add_option("--city", *draft.mutable_city())->required();
  create->add_option("--country", *draft.mutable_country(), "ISO 3166 code")->default_str("FR");
  create->add_option("--civility", *draft.mutable_civility(), "M. or Mme");
  create->add_option("--job-function", *draft.mutable_job_function());
  create->add_option("--mobile-phone", *draft.mutable_mobile_phone());
  create->add_option("--language", *draft.mutable_language(), "fr or en");
  create->callback([&cli, create_options] {
    v1::CreateAccountRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    *request.mutable_account() = create_options->account;
    if (request.account().country().empty()) request.mutable_account()->set_country("FR");
    request.mutable_membership()->set_role(Roles().at(create_options->role));
    if (!create_options->service.empty()) {
      grpc::Status found = cli.Service(create_options->service, request.mutable_membership()->mutable_service());
      if (!found.ok()) return cli.Refuse(found);
    }
    v1::CreateAccountResponse response;
    cli.Run(request, response);
  });
}

void AddAccountGet(CLI::App* account, Cli& cli) {
  auto who = std::make_shared<std::string>();
  CLI::App* get = account->add_subcommand("get", "an account's details");
  get->add_option("account", *who, "login e-mail (with --structure), accounts/{id} or id")->required();
  get->callback([&cli, who] {
    v1::GetAccountRequest request;
    if (grpc::Status named = cli.Account(*who, request.mutable_name()); !named.ok()) return cli.Refuse(named);
    v1::GetAccountResponse response;
    cli.Run(request, response);
  });
}

void AddAccountList(CLI::App* account, Cli& cli) {
  struct List {
    int page_size = 100;
    std::string page_token, login;
  };
  auto list_options = std::make_shared<List>();
  CLI::App* list = account->add_subcommand("list", "the structure's members (SVC-LIST)");
  list->add_option("--login", list_options->login, "only the member with this login e-mail");
  list->add_option("--page-size", list_options->page_size)->capture_default_str();
  list->add_option("--page-token", list_options->page_token);
  list->callback([&cli, list_options] {
    v1::ListAccountsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    request.set_page_size(list_options->page_size);
    request.set_page_token(list_options->page_token);
    request.set_login_email(list_options->login);
    v1::ListAccountsResponse response;
    cli.Run(request, response);
  });
}

// The acts on one account that take only its name: activate, deactivate, suspend, resume, remove,
// resend-identifier, delete-request, unlock.
void AddAccountActions(CLI::App* account, Cli& cli) {
  AddAccountAction<v1::ActivateAccountRequest, v1::ActivateAccountResponse>(
      *account, cli, "activate", "activate it: an activation link is e-mailed (NEW-ACTIVATE)");
  AddAccountAction<v1::DeactivateAccountRequest, v1::DeactivateAccountResponse>(
      *account, cli, "deactivate", "switch it off in every structure (operators)");
  AddAccountAction<v1::SuspendMembershipRequest, v1::SuspendMembershipResponse>(
      *account, cli, "suspend", "suspend it in the structure only (MEMBERSHIP-END)");
  AddAccountAction<v1::ResumeMembershipRequest, v1::ResumeMembershipResponse>(*account, cli, "resume",
                                                                              "lift its suspension in the structure");
  AddAccountAction<v1::RemoveMembershipRequest, v1::RemoveMembershipResponse>(
      *account, cli, "remove", "remove it from the structure, with its profiles there (MEMBERSHIP-END)");
  AddAccountAction<v1::ResendIdentifierRequest, v1::ResendIdentifierResponse>(
      *account, cli, "resend-identifier", "e-mail its login identifier to it again (RESEND-ID)");
  AddAccountAction<v1::RequestAccountDeletionRequest, v1::RequestAccountDeletionResponse>(
      *account, cli, "delete-request", "ask for its deletion (DEL-REQUEST)");
  AddAccountAction<v1::UnlockAccountRequest, v1::UnlockAccountResponse>(*account, cli, "unlock",
                                                                        "lift a lock after failed logins");
}

void AddAccountSetRole(CLI::App* account, Cli& cli) {
  struct Role {
    std::string who, role, service;
  };
  auto role_options = std::make_shared<Role>();
  CLI::App* membership = account->add_subcommand("set-role", "change its role or service in the structure");
  membership->add_option("account", role_options->who)->required();
  membership->add_option("--role", role_options->role)
      ->check(CLI::IsMember({"administrator", "responsable", "collaborator"}))
      ->required();
  membership->add_option("--service", role_options->service, "id or name; default: the root");
  membership->callback([&cli, role_options] {
    v1::UpdateMembershipRequest request;
    if (grpc::Status named = cli.Account(role_options->who, request.mutable_account()); !named.ok()) {
      return cli.Refuse(named);
    }
    if (grpc::Status named = cli.Structure(request.mutable_membership()->mutable_structure()); !named.ok()) {
      return cli.Refuse(named);
    }
    request.mutable_membership()->set_role(Roles().at(role_options->role));
    if (!role_options->service.empty()) {
      grpc::Status found = cli.Service(role_options->service, request.mutable_membership()->mutable_service());
      if (!found.ok()) return cli.Refuse(found);
    }
    v1::UpdateMembershipResponse response;
    cli.Run(request, response);
  });
}

void AddAccountDeletionRequests(CLI::App* account, Cli& cli) {
  CLI::App* deletions = account->add_subcommand("deletion-requests", "pending deletion requests (operators)");
  deletions->callback([&cli] {
    v1::ListDeletionRequestsRequest request;
    request.set_page_size(100);
    v1::ListDeletionRequestsResponse response;
    cli.Run(request, response);
  });
  struct Decide {
    std::string name, comment;
    bool approve = false, refuse = false;
  };
  auto decide_options = std::make_shared<Decide>();
  CLI::App* decide = account->add_subcommand("decide-deletion", "approve or refuse a deletion request (operators)");
  decide->add_option("request", decide_options->name, "deletionRequests/{id}")->required();
  auto* approve = decide->add_flag("--approve", decide_options->approve);
  auto* refuse = decide->add_flag("--refuse", decide_options->refuse);
  approve->excludes(refuse);
  decide->add_option("--comment", decide_options->comment, "required to refuse");
  decide->callback([&cli, decide_options] {
    if (decide_options->approve == decide_options->refuse) {
      cli.exit_code = Fail("say --approve or --refuse", kExitUsage);
      return;
    }
    v1::DecideDeletionRequestRequest request;
    request.set_name(decide_options->name);
    request.set_approve(decide_options->approve);
    request.set_comment(decide_options->comment);
    v1::DecideDeletionRequestResponse response;
    cli.Run(request, response);
  });
}

void AddAccountCommands(CLI::App& app, Cli& cli) {
  CLI::App* account = app.add_subcommand("account", "accounts of the structure (--structure)")->require_subcommand(1);
  AddAccountCreate(account, cli);
  AddAccountGet(account, cli);
  AddAccountList(account, cli);
  AddAccountActions(account, cli);
  AddAccountSetRole(account, cli);
  AddAccountDeletionRequests(account, cli);
}

void AddInvitationSend(CLI::App* invitation, Cli& cli) {
  struct Send {
    std::vector<std::string> emails;
    std::string application, role = "collaborator", service;
  };
  auto send_options = std::make_shared<Send>();
  CLI::App* send = invitation->add_subcommand("send", "e-mail invitations to a pre-creation form (INV-SEND)");
  send->add_option("emails", send_options->emails)->required();
  send->add_option("--application", send_options->application, "the client application they are invited to")
      ->required();
  send->add_option("--role", send_options->role)
      ->check(CLI::IsMember({"administrator", "responsable", "collaborator"}))
      ->capture_default_str();
  send->add_option("--service", send_options->service, "id or name; default: the root");
  send->callback([&cli, send_options] {
    v1::SendInvitationsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    request.set_application(Cli::Application(send_options->application));
    for (const std::string& email : send_options->emails) request.add_emails(email);
    request.set_role(Roles().at(send_options->role));
    if (!send_options->service.empty()) {
      if (grpc::Status found = cli.Service(send_options->service, request.mutable_service()); !found.ok()) {
        return cli.Refuse(found);
      }
    }
    v1::SendInvitationsResponse response;
    cli.Run(request, response);
  });
}

void AddInvitationList(CLI::App* invitation, Cli& cli) {
  auto state = std::make_shared<std::string>();
  CLI::App* list = invitation->add_subcommand("list", "the structure's invitations");
  list->add_option("--state", *state, "only those in this state, e.g. PENDING");
  list->callback([&cli, state] {
    v1::ListInvitationsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    if (!state->empty()) {
      v1::Invitation::State value;
      if (!v1::Invitation::State_Parse(absl::AsciiStrToUpper(*state), &value)) {
        cli.exit_code = Fail("unknown --state " + *state, kExitUsage);
        return;
      }
      request.set_state(value);
    }
    request.set_page_size(100);
    v1::ListInvitationsResponse response;
    cli.Run(request, response);
  });
}

void AddInvitationDecide(CLI::App* invitation, Cli& cli) {
  struct Decide {
    std::vector<std::string> accepted, refused;
    std::string comment;
  };
  auto decide_options = std::make_shared<Decide>();
  CLI::App* decide =
      invitation->add_subcommand("decide", "accept and refuse pending requests, all at once (INV-DECIDE)");
  decide->add_option("--accept", decide_options->accepted, "invitations to accept (names or ids)");
  decide->add_option("--refuse", decide_options->refused, "invitations to refuse (names or ids)");
  decide->add_option("--comment", decide_options->comment, "why they are refused (required to refuse)");
  decide->callback([&cli, decide_options] {
    v1::DecideInvitationsRequest request;
    if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return cli.Refuse(named);
    auto add = [&](const std::string& which, bool accept) {
      v1::InvitationDecision* decision = request.add_decisions();
      decision->set_invitation(which.find('/') == std::string::npos ? request.parent() + "/invitations/" + which
                                                                    : which);
      decision->set_accept(accept);
      if (!accept) decision->set_comment(decide_options->comment);
    };
    for (const std::string& which : decide_options->accepted) add(which, true);
    for (const std::string& which : decide_options->refused) add(which, false);
    v1::DecideInvitationsResponse response;
    cli.Run(request, response);
  });
}

void AddInvitationCommands(CLI::App& app, Cli& cli) {
  CLI::App* invitation =
      app.add_subcommand("invitation", "invitations to the structure (--structure)")->require_subcommand(1);
  AddInvitationSend(invitation, cli);
  AddInvitationList(invitation, cli);
  AddInvitationDecide(invitation, cli);
}

}  // namespace

void AddPeopleCommands(CLI::App& app, Cli& cli) {
  AddAccountCommands(app, cli);
  AddInvitationCommands(app, cli);
}

}  // namespace habilis::ctl
