// How habilisctl reaches habilisd and who it is there: the server address, TLS, and the credential (an API key
// from a file or HABILIS_KEY, or the session `habilisctl login` keeps in the config directory).
#ifndef HABILIS_CLIENTS_HABILISCTL_CONNECTION_H_
#define HABILIS_CLIENTS_HABILISCTL_CONNECTION_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"

namespace habilis::ctl {

// Global options, from flags or their HABILIS_* variables (docs/CLI.md).
struct Settings {
  std::string server;      // HOST:PORT; default: the session's, else 127.0.0.1:50051
  std::string key_file;    // a file holding an API key (never the key itself on the command line)
  std::string config_dir;  // where the session is kept; default $XDG_CONFIG_HOME/habilis or ~/.config/habilis
  std::string tls_ca;      // TLS: the CA of the server's certificate
  bool tls = false;        // TLS with the system's roots
  std::string tls_cert;    // mutual TLS: the client's certificate and key
  std::string tls_key;
  std::string structure;  // the structure commands act in (SIRET or structures/{siret})
  bool json = false;      // print responses as JSON
  bool dry_run = false;   // validate_only on every write
};

// The config directory's session file: key=value lines, mode 0600. Its place is read from `settings` at each
// use, since the settings are filled in after this is made.
class SessionFile {
 public:
  explicit SessionFile(const Settings& settings) : settings_(settings) {}
  std::map<std::string, std::string> Read() const;
  // Replaces the file (written beside it, then renamed), mode 0600 in a 0700 directory.
  absl::Status Write(const std::map<std::string, std::string>& values) const;
  void Remove() const;
  std::string directory() const;
  std::string path() const { return directory() + "/session"; }

 private:
  const Settings& settings_;
};

class Connection {
 public:
  explicit Connection(const Settings& settings) : settings_(settings), session_(settings) {}

  // Calls the unary method taking `request`'s type with the credential, if any. A request with a request_id
  // field gets a fresh one (so a retried command is not applied twice only if the user reuses --request-id);
  // with --dry-run, validate_only is set.
  grpc::Status Call(google::protobuf::Message& request, google::protobuf::Message& response);
  // The same without any credential (login, links).
  grpc::Status CallAnonymously(google::protobuf::Message& request, google::protobuf::Message& response);

  // The channel, made on first use; an unreadable TLS file is a failed status.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel();
  // The bearer credential: --key-file, else HABILIS_KEY, else the session's token; "" if none.
  absl::StatusOr<std::string> Bearer() const;
  std::string Server() const;
  const Settings& settings() const { return settings_; }
  const SessionFile& session() const { return session_; }

 private:
  grpc::Status Send(google::protobuf::Message& request, google::protobuf::Message& response, bool with_credential);

  const Settings& settings_;
  SessionFile session_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace habilis::ctl

#endif  // HABILIS_CLIENTS_HABILISCTL_CONNECTION_H_
