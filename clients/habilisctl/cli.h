// habilisctl's commands share this: the connection, how a user names things (a structure by SIRET, an account
// by login e-mail, a profile as APP/PROFILE, a service by id or display name) and how a call ends.
#ifndef HABILIS_CLIENTS_HABILISCTL_CLI_H_
#define HABILIS_CLIENTS_HABILISCTL_CLI_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "clients/habilisctl/connection.h"
#include "clients/habilisctl/output.h"

namespace habilis::ctl {

struct Cli {
  Settings settings;
  Connection connection{settings};
  int exit_code = 0;

  // Calls, prints the response (or the error) and records the exit code.
  void Run(google::protobuf::Message& request, google::protobuf::Message& response);
  // Calls (with the credential, or without for the self-proving calls) and says `done` instead of printing the
  // response, which holds nothing a person needs.
  void RunAndSay(google::protobuf::Message& request, google::protobuf::Message& response, bool anonymously,
                 const std::string& done);
  // Records a failure to name something (an unknown login, no --structure): the status's code.
  void Refuse(const grpc::Status& status) { exit_code = Fail(status); }

  // "structures/{siret}" of --structure / HABILIS_STRUCTURE, or of `siret` when given.
  grpc::Status Structure(std::string* name, const std::string& siret = "") const;
  // "accounts/{id}" of an account named by its login e-mail (a member of --structure), its resource name, or
  // its id.
  grpc::Status Account(const std::string& who, std::string* name);
  // "structures/{siret}/services/{id}" of a service named by its id, its resource name or its display name.
  grpc::Status Service(const std::string& which, std::string* name);
  // "applications/{app}/profiles/{profile}" of APP/PROFILE or of the resource name.
  static std::string Profile(const std::string& which);
  // "applications/{app}" of APP or of the resource name.
  static std::string Application(const std::string& which);
};

// Reads a secret: from `file` if given, else typed on a terminal without echo, else one line of standard input.
std::string ReadSecret(const std::string& prompt, const std::string& file);

// The command groups, each in its own file.
void AddSessionCommands(CLI::App& app, Cli& cli);       // login, logout, password, privacy, session
void AddOrganisationCommands(CLI::App& app, Cli& cli);  // structure, service
void AddPeopleCommands(CLI::App& app, Cli& cli);        // account, invitation
void AddEntitlementCommands(CLI::App& app, Cli& cli);   // application, profile, subscription, grant...
void AddOperationCommands(CLI::App& app, Cli& cli);     // key, audit, backup, export, import

}  // namespace habilis::ctl

#endif  // HABILIS_CLIENTS_HABILISCTL_CLI_H_
