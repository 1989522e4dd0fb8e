// habilisctl: habilis at a terminal (docs/CLI.md).
//
//   habilisctl [--server HOST:PORT] [--structure SIRET] [--json] [--dry-run] <command> ...
//
// Every command is one or a few calls of the API; exit code 0, or the failed call's gRPC code.
#include <iostream>

#include "CLI/CLI.hpp"
#include "clients/habilisctl/cli.h"

int main(int argc, char** argv) {
  habilis::ctl::Cli cli;
  habilis::ctl::Settings& settings = cli.settings;
  CLI::App app{
      "habilisctl: manage habilis from a terminal. Credentials: habilisctl login (a person's session, kept in the "
      "config directory), or an API key from --key-file or HABILIS_KEY; never on the command line."};
  app.set_version_flag("--version", std::string("habilisctl ") + HABILIS_VERSION);
  app.fallthrough();  // global options may follow the command
  app.require_subcommand(1);
  app.add_option("--server", settings.server, "habilisd's HOST:PORT (default: the session's, else 127.0.0.1:50051)")
      ->envname("HABILIS_SERVER");
  app.add_option("--key-file", settings.key_file, "a file holding an API key")->envname("HABILIS_KEY_FILE");
  app.add_option("-s,--structure", settings.structure, "the structure to act in: its SIRET")
      ->envname("HABILIS_STRUCTURE");
  app.add_option("--config-dir", settings.config_dir, "where the session is kept (default ~/.config/habilis)")
      ->envname("HABILIS_CONFIG_DIR");
  app.add_flag("--tls", settings.tls, "speak TLS, trusting the system's CAs");
  app.add_option("--tls-ca", settings.tls_ca, "speak TLS, trusting this CA (PEM)")->envname("HABILIS_TLS_CA");
  app.add_option("--tls-cert", settings.tls_cert, "mutual TLS: this client certificate (PEM)");
  app.add_option("--tls-key", settings.tls_key, "mutual TLS: its key (PEM)");
  app.add_flag("--json", settings.json, "print responses as JSON");
  app.add_flag("--dry-run", settings.dry_run, "check every write and commit nothing (validate_only)");

  habilis::ctl::AddSessionCommands(app, cli);
  habilis::ctl::AddOrganisationCommands(app, cli);
  habilis::ctl::AddPeopleCommands(app, cli);
  habilis::ctl::AddEntitlementCommands(app, cli);
  habilis::ctl::AddOperationCommands(app, cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : habilis::ctl::kExitUsage;
  }
  std::cout.flush();
  return cli.exit_code;
}
