// login, logout, password, privacy-policy, session: a person's own commands.
#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "clients/habilisctl/cli.h"
#include "habilis/v1/sessions.pb.h"

namespace habilis::ctl {
namespace {

// Keeps the session of a completed login and says what the person must do first.
int KeepSession(Cli& cli, const v1::LoginResponse& login) {
  absl::Status written = cli.connection.session().Write({{"server", cli.connection.Server()},
                                                         {"token", login.session_token()},
                                                         {"login", login.account().login_email()},
                                                         {"account", login.account().name()}});
  if (!written.ok()) return Fail(std::string(written.message()), kExitOutput);
  std::cout << "Logged in as " << login.account().login_email() << " (" << login.account().name() << "), session "
            << login.session().name() << ", kept in " << cli.connection.session().path() << "\n";
  if (login.privacy_consent_required()) {
    std::cout << "First, accept the privacy policy: habilisctl privacy-policy accept\n";
  }
  if (login.password_change_required()) std::cout << "First, change the expired password: habilisctl password change\n";
  return 0;
}

int ConfirmCode(Cli& cli, const std::string& challenge, const std::string& code) {
  v1::ConfirmLoginCodeRequest request;
  request.set_code_challenge(challenge);
  request.set_code(code);
  v1::ConfirmLoginCodeResponse response;
  grpc::Status status = cli.connection.CallAnonymously(request, response);
  if (!status.ok()) return Fail(status);
  return KeepSession(cli, response.login());
}

struct LoginOptions {
  std::string login_email;
  std::string password_file;
  std::string device = "habilisctl";
  std::string code;
};

int Login(Cli& cli, const LoginOptions& options) {
  if (!options.code.empty()) {
    auto pending = cli.connection.session().Read();
    if (pending["challenge"].empty()) {
      return Fail("no login is waiting for a code; run habilisctl login EMAIL first", kExitUsage);
    }
    return ConfirmCode(cli, pending["challenge"], options.code);
  }
  if (options.login_email.empty()) return Fail("give the login e-mail: habilisctl login EMAIL", kExitUsage);
  v1::LoginRequest request;
  request.set_login_email(options.login_email);
  request.set_password(ReadSecret("Password for " + options.login_email + ": ", options.password_file));
  request.set_device_label(options.device);
  v1::LoginResponse response;
  grpc::Status status = cli.connection.CallAnonymously(request, response);
  if (!status.ok()) return Fail(status);
  if (!response.session_token().empty()) return KeepSession(cli, response);
  // LOGIN-CODE: a code was e-mailed.
  if (isatty(STDIN_FILENO)) {
    return ConfirmCode(cli, response.code_challenge(),
                       ReadSecret("Code e-mailed to " + options.login_email + ": ", ""));
  }
  absl::Status written = cli.connection.session().Write(
      {{"server", cli.connection.Server()}, {"challenge", response.code_challenge()}, {"login", options.login_email}});
  if (!written.ok()) return Fail(std::string(written.message()), kExitOutput);
  std::cout << "A code was e-mailed to " << options.login_email << "; finish with: habilisctl login --code CODE\n";
  return 0;
}

}  // namespace

void AddLoginCommand(CLI::App& app, Cli& cli) {
  auto login_options = std::make_shared<LoginOptions>();
  CLI::App* login =
      app.add_subcommand("login", "log in as a person (password prompt, then the e-mailed code if asked)");
  login->add_option("login_email", login_options->login_email, "the login e-mail");
  login->add_option("--password-file", login_options->password_file, "read the password from this file");
  login->add_option("--device", login_options->device, "the device label the session lists")->capture_default_str();
  login->add_option("--code", login_options->code, "finish a login with the code e-mailed");
  login->callback([&cli, login_options] { cli.exit_code = Login(cli, *login_options); });
}

void AddLogoutCommand(CLI::App& app, Cli& cli) {
  app.add_subcommand("logout", "end this session and forget it")->callback([&cli] {
    v1::LogoutRequest request;
    v1::LogoutResponse response;
    grpc::Status status = cli.connection.Call(request, response);
    cli.connection.session().Remove();
    if (!status.ok()) cli.exit_code = Fail(status);
  });
}

void AddPrivacyPolicyCommand(CLI::App& app, Cli& cli) {
  CLI::App* privacy = app.add_subcommand("privacy-policy", "the privacy policy (FIRST-LOGIN)")->require_subcommand(1);
  privacy->add_subcommand("accept", "accept it, as the first login must")->callback([&cli] {
    v1::AcceptPrivacyPolicyRequest request;
    v1::AcceptPrivacyPolicyResponse response;
    cli.Run(request, response);
  });
}

void AddPasswordCommand(CLI::App& app, Cli& cli) {
  CLI::App* password = app.add_subcommand("password", "passwords (PWD)")->require_subcommand(1);
  auto link = std::make_shared<std::pair<std::string, std::string>>();  // token, password file
  CLI::App* set = password->add_subcommand("set-with-link", "set a password with the token of an e-mailed link");
  set->add_option("token", link->first, "the link's token (token=… in the e-mailed link)")->required();
  set->add_option("--password-file", link->second, "read the new password from this file");
  set->callback([&cli, link] {
    v1::SetPasswordWithLinkRequest request;
    request.set_link_token(link->first);
    request.set_new_password(ReadSecret("New password: ", link->second));
    v1::SetPasswordWithLinkResponse response;
    cli.RunAndSay(request, response, true, "The password is set.");
  });
  auto reset_email = std::make_shared<std::string>();
  CLI::App* reset = password->add_subcommand("reset", "e-mail a reset link to a login (forgot password)");
  reset->add_option("login_email", *reset_email)->required();
  reset->callback([&cli, reset_email] {
    v1::RequestPasswordResetRequest request;
    request.set_login_email(*reset_email);
    v1::RequestPasswordResetResponse response;
    cli.RunAndSay(request, response, true, absl::StrCat("If ", *reset_email, " has an account, a link is on its way."));
  });
  auto change_files = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* change = password->add_subcommand("change", "change this session's password");
  change->add_option("--current-file", change_files->first, "read the current password from this file");
  change->add_option("--new-file", change_files->second, "read the new password from this file");
  change->callback([&cli, change_files] {
    v1::ChangePasswordRequest request;
    request.set_current_password(ReadSecret("Current password: ", change_files->first));
    request.set_new_password(ReadSecret("New password: ", change_files->second));
    v1::ChangePasswordResponse response;
    cli.RunAndSay(request, response, false, "The password is changed.");
  });
}

void AddSessionCommand(CLI::App& app, Cli& cli) {
  CLI::App* session = app.add_subcommand("session", "this account's sessions (DEVICES)")->require_subcommand(1);
  auto account = std::make_shared<std::string>();
  CLI::App* list = session->add_subcommand("list", "the devices this account is logged in on");
  list->add_option("account", *account, "another account (administrators): login e-mail or id");
  list->callback([&cli, account] {
    v1::ListSessionsRequest request;
    request.set_parent(cli.connection.session().Read()["account"]);
    if (!account->empty()) {
      std::string name;
      if (grpc::Status named = cli.Account(*account, &name); !named.ok()) return cli.Refuse(named);
      request.set_parent(name);
    }
    v1::ListSessionsResponse response;
    cli.Run(request, response);
  });
  auto session_name = std::make_shared<std::string>();
  CLI::App* end = session->add_subcommand("end", "end one session (a forced logout)");
  end->add_option("name", *session_name, "the session's name, as listed")->required();
  end->callback([&cli, session_name] {
    v1::EndSessionRequest request;
    request.set_name(*session_name);
    v1::EndSessionResponse response;
    cli.Run(request, response);
  });
}

void AddSessionCommands(CLI::App& app, Cli& cli) {
  AddLoginCommand(app, cli);
  AddLogoutCommand(app, cli);
  AddPrivacyPolicyCommand(app, cli);
  AddPasswordCommand(app, cli);
  AddSessionCommand(app, cli);
}

}  // namespace habilis::ctl
