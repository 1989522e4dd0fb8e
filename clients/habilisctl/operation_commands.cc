// key, audit, backup, export, import: an operator's and an administrator's tools.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cpp/client.h"
#include "clients/habilisctl/cli.h"
#include "grpc/health/v1/health.pb.h"
#include "habilis/v1/account_files.grpc.pb.h"
#include "habilis/v1/api_keys.pb.h"
#include "habilis/v1/audit.pb.h"
#include "habilis/v1/operations.pb.h"

namespace habilis::ctl {
namespace {

// A progress line on standard error, redrawn in place, when standard error is a terminal (or --progress).
class Progress {
 public:
  Progress(std::string what, int64_t total, bool shown) : what_(std::move(what)), total_(total), shown_(shown) {}
  void Update(int64_t done) {
    if (!shown_) return;
    if (total_ > 0) {
      const int width = 30;
      const int filled = static_cast<int>(width * std::min<int64_t>(done, total_) / total_);
      std::cerr << absl::StrFormat("\r%s [%s%s] %3d%% %s", what_, std::string(filled, '#'),
                                   std::string(width - filled, '.'), static_cast<int>(100 * done / total_),
                                   Bytes(done));
    } else {
      std::cerr << "\r" << what_ << " " << Bytes(done);
    }
  }
  void Done() {
    if (shown_) std::cerr << "\n";
  }

 private:
  static std::string Bytes(int64_t n) {
    return n < (1 << 20) ? absl::StrFormat("%.1f KiB", n / 1024.0) : absl::StrFormat("%.1f MiB", n / 1048576.0);
  }
  std::string what_;
  int64_t total_;
  bool shown_;
};

struct FileOptions {
  std::string file;
  bool progress = false;
  bool byte_order_mark = false;
};

int Export(Cli& cli, const FileOptions& options) {
  v1::ExportAccountsRequest request;
  if (grpc::Status named = cli.Structure(request.mutable_parent()); !named.ok()) return Fail(named);
  request.set_byte_order_mark(options.byte_order_mark);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = cli.connection.Channel();
  if (!channel.ok()) return Fail(std::string(channel.status().message()), kExitInput);
  absl::StatusOr<std::string> bearer = cli.connection.Bearer();
  if (!bearer.ok()) return Fail(std::string(bearer.status().message()), kExitInput);
  const bool to_stdout = options.file == "-";
  // Written beside the target and renamed at the end: a failed export leaves no half file behind.
  const std::string partial = options.file + ".part";
  std::ofstream file;
  if (!to_stdout) {
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) return Fail("cannot write " + partial, kExitOutput);
  }
  std::ostream& out = to_stdout ? std::cout : file;
  auto stub = v1::AccountFileService::NewStub(*channel);
  grpc::ClientContext context;
  client::Authorize(context, *bearer);
  auto reader = stub->ExportAccounts(&context, request);
  v1::ExportAccountsResponse piece;
  Progress progress("export", 0, options.progress || isatty(STDERR_FILENO));
  int64_t bytes = 0, rows = 0;
  while (reader->Read(&piece)) {
    out.write(piece.data().data(), static_cast<std::streamsize>(piece.data().size()));
    bytes += static_cast<int64_t>(piece.data().size());
    if (piece.row_count() > 0) rows = piece.row_count();
    progress.Update(bytes);
  }
  progress.Done();
  grpc::Status status = reader->Finish();
  if (!to_stdout) file.close();
  if (!status.ok()) {
    if (!to_stdout) std::remove(partial.c_str());
    return Fail(status);
  }
  if (!to_stdout && (!file || std::rename(partial.c_str(), options.file.c_str()) != 0)) {
    return Fail("cannot write " + options.file, kExitOutput);
  }
  if (!to_stdout) std::cerr << rows << " accounts written to " << options.file << "\n";
  return 0;
}

int Import(Cli& cli, const FileOptions& options) {
  std::ifstream file(options.file, std::ios::binary | std::ios::ate);
  if (!file) return Fail("cannot read " + options.file, kExitInput);
  const int64_t size = file.tellg();
  file.seekg(0);
  v1::ImportAccountsRequest first;
  if (grpc::Status named = cli.Structure(first.mutable_parent()); !named.ok()) return Fail(named);
  first.set_validate_only(cli.settings.dry_run);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = cli.connection.Channel();
  if (!channel.ok()) return Fail(std::string(channel.status().message()), kExitInput);
  absl::StatusOr<std::string> bearer = cli.connection.Bearer();
  if (!bearer.ok()) return Fail(std::string(bearer.status().message()), kExitInput);
  auto stub = v1::AccountFileService::NewStub(*channel);
  grpc::ClientContext context;
  client::Authorize(context, *bearer);
  auto stream = stub->ImportAccounts(&context);
  Progress progress(cli.settings.dry_run ? "check" : "import", size, options.progress || isatty(STDERR_FILENO));
  std::string chunk(256 * 1024, '\0');
  int64_t sent = 0;
  bool first_message = true;
  while (file) {
    file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const std::streamsize got = file.gcount();
    if (got <= 0 && !first_message) break;
    v1::ImportAccountsRequest message = first_message ? first : v1::ImportAccountsRequest();
    message.set_data(chunk.data(), static_cast<size_t>(got));
    first_message = false;
    if (!stream->Write(message)) break;  // the server ended the call; Finish says why
    sent += got;
    progress.Update(sent);
  }
  stream->WritesDone();
  progress.Done();
  v1::ImportAccountsResponse response, all;
  while (stream->Read(&response)) {
    for (const v1::RowError& error : response.row_errors()) *all.add_row_errors() = error;
    if (response.has_summary()) *all.mutable_summary() = response.summary();
  }
  grpc::Status status = stream->Finish();
  if (all.row_errors_size() > 0 || !status.ok() || cli.settings.json) Print(all, cli.settings.json);
  if (!status.ok()) return Fail(status);
  if (!cli.settings.json) Print(all.summary(), false);
  return 0;
}

}  // namespace

void AddKeyCommand(CLI::App& app, Cli& cli) {
  CLI::App* key = app.add_subcommand("key", "API keys (operators)")->require_subcommand(1);
  struct Create {
    std::string name, application;
    bool is_operator = false;
  };
  auto created = std::make_shared<Create>();
  CLI::App* create = key->add_subcommand("create", "create a key; its secret is printed once");
  create->add_option("name", created->name, "what it is for")->required();
  auto* as_operator = create->add_flag("--operator", created->is_operator, "an operator's key");
  auto* for_application = create->add_option("--application", created->application, "a client application's key");
  as_operator->excludes(for_application);
  create->callback([&cli, created] {
    v1::CreateApiKeyRequest request;
    request.mutable_api_key()->set_display_name(created->name);
    request.mutable_api_key()->set_operator_(created->is_operator);
    if (!created->application.empty()) {
      request.mutable_api_key()->set_application(Cli::Application(created->application));
    }
    v1::CreateApiKeyResponse response;
    cli.Run(request, response);
  });
  key->add_subcommand("list", "every key, revoked ones included")->callback([&cli] {
    v1::ListApiKeysRequest request;
    request.set_page_size(100);
    v1::ListApiKeysResponse response;
    cli.Run(request, response);
  });
  auto revoked = std::make_shared<std::string>();
  CLI::App* revoke = key->add_subcommand("revoke", "revoke a key at once");
  revoke->add_option("name", *revoked, "apiKeys/{id}")->required();
  revoke->callback([&cli, revoked] {
    v1::RevokeApiKeyRequest request;
    request.set_name(*revoked);
    v1::RevokeApiKeyResponse response;
    cli.Run(request, response);
  });
}

void AddAuditCommand(CLI::App& app, Cli& cli) {
  struct Audit {
    std::string account, actor;
    int page_size = 50;
    std::string page_token;
  };
  auto audit_options = std::make_shared<Audit>();
  CLI::App* audit =
      app.add_subcommand("audit", "the audit trail: of an account, an actor, the structure (--structure) or all");
  audit->add_option("--account", audit_options->account,
                    "only changes to this account (operators: it spans structures)");
  audit->add_option("--actor", audit_options->actor, "only what this principal did (operators)");
  audit->add_option("--page-size", audit_options->page_size)->capture_default_str();
  audit->add_option("--page-token", audit_options->page_token);
  audit->callback([&cli, audit_options] {
    v1::ListAuditEntriesRequest request;
    // One scope (a oneof): an account, else an actor, else the structure, else everything (operators).
    if (!audit_options->account.empty()) {
      if (grpc::Status named = cli.Account(audit_options->account, request.mutable_account()); !named.ok()) {
        return cli.Refuse(named);
      }
    } else if (!audit_options->actor.empty()) {
      request.set_actor(audit_options->actor);
    } else if (!cli.settings.structure.empty()) {
      (void)cli.Structure(request.mutable_structure());
    }
    request.set_page_size(audit_options->page_size);
    request.set_page_token(audit_options->page_token);
    v1::ListAuditEntriesResponse response;
    cli.Run(request, response);
  });
}

void AddHealthCommand(CLI::App& app, Cli& cli) {
  auto service = std::make_shared<std::string>();
  CLI::App* health = app.add_subcommand("health", "is the server serving? exit 0 if SERVING (for probes)");
  health->add_option("service", *service, "a service name, e.g. habilis.v1.AccessService (default: the server)");
  health->callback([&cli, service] {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(*service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = cli.connection.CallAnonymously(request, response);
    if (!status.ok()) return cli.Refuse(status);
    std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
    if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      cli.exit_code = static_cast<int>(grpc::StatusCode::UNAVAILABLE);
    }
  });
}

void AddBackupCommand(CLI::App& app, Cli& cli) {
  auto backup_id = std::make_shared<std::string>();
  CLI::App* backup = app.add_subcommand("backup", "an online backup of the store, on the server's host (operators)");
  backup->add_option("backup_id", *backup_id, "its directory name under --backup-dir (default: time and revision)");
  backup->callback([&cli, backup_id] {
    v1::CreateBackupRequest request;
    request.set_backup_id(*backup_id);
    v1::CreateBackupResponse response;
    cli.Run(request, response);
  });
}

void AddExportCommand(CLI::App& app, Cli& cli) {
  auto export_options = std::make_shared<FileOptions>();
  CLI::App* exported = app.add_subcommand("export", "the structure's accounts to a CSV file (--structure)");
  exported->add_option("file", export_options->file, "the file to write, or - for standard output")->required();
  exported->add_flag("--progress", export_options->progress, "show progress even when not on a terminal");
  exported->add_flag("--bom", export_options->byte_order_mark, "start with a UTF-8 byte order mark (for Excel)");
  exported->callback([&cli, export_options] { cli.exit_code = Export(cli, *export_options); });
  auto import_options = std::make_shared<FileOptions>();
  CLI::App* imported = app.add_subcommand("import",
                                          "accounts from a CSV file into the structure (--structure; "
                                          "--dry-run checks it and writes nothing)");
  imported->add_option("file", import_options->file)->required();
  imported->add_flag("--progress", import_options->progress, "show progress even when not on a terminal");
  imported->callback([&cli, import_options] { cli.exit_code = Import(cli, *import_options); });
}

void AddOperationCommands(CLI::App& app, Cli& cli) {
  AddKeyCommand(app, cli);
  AddAuditCommand(app, cli);
  AddHealthCommand(app, cli);
  AddBackupCommand(app, cli);
  AddExportCommand(app, cli);
}

}  // namespace habilis::ctl
