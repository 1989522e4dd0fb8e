#include "clients/habilisctl/cli.h"

#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "habilis/v1/accounts.pb.h"
#include "habilis/v1/org_chart.pb.h"

namespace habilis::ctl {

void Cli::Run(google::protobuf::Message& request, google::protobuf::Message& response) {
  grpc::Status status = connection.Call(request, response);
  if (!status.ok()) {
    exit_code = Fail(status);
    return;
  }
  Print(response, settings.json);
}

void Cli::RunAndSay(google::protobuf::Message& request, google::protobuf::Message& response, bool anonymously,
                    const std::string& done) {
  grpc::Status status =
      anonymously ? connection.CallAnonymously(request, response) : connection.Call(request, response);
  if (!status.ok()) {
    exit_code = Fail(status);
    return;
  }
  std::cout << done << "\n";
}

grpc::Status Cli::Structure(std::string* name, const std::string& siret) const {
  std::string value = siret.empty() ? settings.structure : siret;
  if (value.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "which structure? give --structure SIRET (or set HABILIS_STRUCTURE)");
  }
  *name = absl::StartsWith(value, "structures/") ? value : "structures/" + value;
  return grpc::Status::OK;
}

grpc::Status Cli::Account(const std::string& who, std::string* name) {
  if (absl::StartsWith(who, "accounts/")) {
    *name = who;
    return grpc::Status::OK;
  }
  if (who.find('@') == std::string::npos) {
    *name = "accounts/" + who;
    return grpc::Status::OK;
  }
  v1::ListAccountsRequest request;
  grpc::Status named = Structure(request.mutable_parent());
  if (!named.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "an account named by its login needs its structure: give --structure SIRET");
  }
  request.set_login_email(who);
  v1::ListAccountsResponse response;
  grpc::Status status = connection.Call(request, response);
  if (!status.ok()) return status;
  if (response.accounts_size() == 0) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat(request.parent(), " has no member ", who));
  }
  *name = response.accounts(0).name();
  return grpc::Status::OK;
}

grpc::Status Cli::Service(const std::string& which, std::string* name) {
  if (absl::StrContains(which, "/services/")) {
    *name = which;
    return grpc::Status::OK;
  }
  v1::GetServiceTreeRequest request;
  grpc::Status named = Structure(request.mutable_structure());
  if (!named.ok()) return named;
  v1::GetServiceTreeResponse tree;
  grpc::Status status = connection.Call(request, tree);
  if (!status.ok()) return status;
  std::vector<std::string> matches;
  std::function<void(const v1::ServiceNode&)> visit = [&](const v1::ServiceNode& node) {
    const std::string& service = node.service().name();
    if (service.substr(service.rfind('/') + 1) == which || node.service().display_name() == which) {
      matches.push_back(service);
    }
    for (const v1::ServiceNode& child : node.children()) visit(child);
  };
  for (const v1::ServiceNode& root : tree.roots()) visit(root);
  if (matches.size() != 1) {
    return grpc::Status(matches.empty() ? grpc::StatusCode::NOT_FOUND : grpc::StatusCode::INVALID_ARGUMENT,
                        matches.empty() ? absl::StrCat(request.structure(), " has no service ", which)
                                        : absl::StrCat("several services are called ", which, "; give its id"));
  }
  *name = matches[0];
  return grpc::Status::OK;
}

std::string Cli::Profile(const std::string& which) {
  if (absl::StartsWith(which, "applications/")) return which;
  const size_t slash = which.find('/');
  if (slash == std::string::npos) return which;  // the server says what is wrong with it
  return absl::StrCat("applications/", which.substr(0, slash), "/profiles/", which.substr(slash + 1));
}

std::string Cli::Application(const std::string& which) {
  return absl::StartsWith(which, "applications/") ? which : "applications/" + which;
}

std::string ReadSecret(const std::string& prompt, const std::string& file) {
  std::string secret;
  if (!file.empty()) {
    std::ifstream in(file);
    std::getline(in, secret);
    return secret;
  }
  if (isatty(STDIN_FILENO)) {
    std::cerr << prompt << std::flush;
    termios saved;
    tcgetattr(STDIN_FILENO, &saved);
    termios silent = saved;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &silent);
    std::getline(std::cin, secret);
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
    return secret;
  }
  std::getline(std::cin, secret);
  return secret;
}

}  // namespace habilis::ctl
