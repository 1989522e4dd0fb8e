// The configuration of habilisd: one struct with its defaults, validated once at start-up.
#ifndef HABILIS_SERVER_CONFIG_H_
#define HABILIS_SERVER_CONFIG_H_

#include <optional>
#include <string>

#include "absl/status/status.h"

namespace habilis {

struct Config {
  // HOST:PORT to serve gRPC on; port 0 picks a free port (printed at start-up).
  std::string listen = "127.0.0.1:50051";
  // The node's local directory (mail files, outbox key, backups, demo credentials) and, unless `store` says
  // otherwise, its embedded RocksDB store; created if missing.
  std::string data_dir = "./data";
  // Where the data lives: "rocksdb:DIR" (embedded, one node) or a PostgreSQL URI "postgresql://…" (shared by
  // several nodes: docs/SCALE-OUT.md). Empty: "rocksdb:<data_dir>". A password belongs in PGPASSFILE or
  // PGPASSWORD, not in the URI (it would show in the process list).
  std::string store;
  // PostgreSQL: connections per node, and how often the node reads the change feed for other nodes' commits.
  int store_connections = 16;
  int store_poll_ms = 10;
  // PostgreSQL: commits the change feed keeps; a node further behind restarts.
  int64_t store_feed_history = 1000000;
  // TLS (docs/OPERATIONS.md): the server's certificate chain and key, PEM; both or neither (plain text).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Mutual TLS: the CA (PEM) that signs the certificates clients must present; empty: none asked.
  std::string tls_client_ca_file;
  // Mutual TLS: a file mapping client certificates to client applications, "<common name> <application id>" per
  // line; such a certificate authenticates its application on calls without a bearer credential.
  std::string tls_client_applications_file;
  // How often the three files are read again, in seconds (renewed certificates need no restart).
  int tls_refresh_seconds = 10;
  // HOST:PORT of the Prometheus endpoint (GET /metrics, plain HTTP); empty: none. Keep it on a private
  // network: it tells call volumes, not secrets.
  std::string metrics_listen;
  // HOST:PORT of the HTTP/JSON API (the Connect protocol: POST /habilis.v1.Service/Method, docs/API.md);
  // empty: none. Plain HTTP: put it behind a TLS-terminating proxy, or give it on loopback only.
  std::string http_listen;
  // Browser origins allowed to call the HTTP/JSON API (CORS), comma-separated, e.g.
  // "https://portail.example.fr"; empty: no cross-origin call; "*" would allow any and is refused.
  std::string http_cors_origins;
  // The least level of the log lines written: debug (also every access check), info (every other call),
  // warning, error (docs/OPERATIONS.md "Logs").
  std::string log_level = "info";
  // Requests larger than this are refused with RESOURCE_EXHAUSTED before any handler runs.
  int max_message_bytes = 4 << 20;
  // Threads that run handlers (they block on store commits).
  int worker_threads = 4;
  // Calls waiting for a handler thread beyond which new calls get RESOURCE_EXHAUSTED (SERVER_BUSY).
  int max_queued_calls = 10000;
  // The key that seals e-mail bodies waiting in the outbox (links, codes), kept outside the store so that a
  // copy of the data directory alone reveals none; created on first start. Empty: "<data_dir>.outbox-key".
  std::string outbox_key_file;
  // First start of a service: when the store has no operator key yet, create one and write it to this file
  // (created mode 0600, never overwritten) before serving; nothing when the store has one. Lets a systemd
  // unit or a container bootstrap without a second process fighting the server for the store's lock.
  std::string bootstrap_operator_key_file;
  // Where CreateBackup writes (habilisctl backup); default "<data_dir>.backups". On the data directory's file
  // system, a backup hard-links the table files instead of copying them.
  std::string backup_dir;
  // The access index's snapshot, from which a restart catches up with the store's recent commits instead of
  // reading the whole store (docs/OPERATIONS.md "Start-up"). Empty: "<data_dir>/access-index.snapshot";
  // "none": no snapshot, every start reads the store.
  std::string index_snapshot_file;
  // How often the snapshot is written again when the store has changed, in seconds (and once at shutdown).
  int index_snapshot_seconds = 300;
  // Seed a small demo (operator key, structure, services, application) into an empty store.
  bool seed_demo = false;
  // SMTP relay for e-mails ("smtp://host:port"); empty keeps them in the outbox until one is configured.
  std::string smtp_url;
  // Upgrade smtp:// with STARTTLS, refusing a relay that does not offer it.
  bool smtp_starttls = false;
  // The CA (PEM) the relay's certificate must chain to; empty: the system's CAs.
  std::string smtp_ca_file;
  // SMTP AUTH: a file with the user name on its first line and the password on its second; read at start-up.
  // Needs TLS (smtps:// or --smtp-starttls): a password never crosses the network in clear.
  std::string smtp_credentials_file;
  // Sender of e-mails.
  std::string mail_from = "habilis@localhost";
  // How often the delivery worker looks at the outbox, in milliseconds.
  int mail_poll_ms = 200;
  // How often habilitations ending within a week are announced and past ones recorded.
  int expiry_sweep_ms = 60000;
  // The portal page e-mailed links open: "<link_base_url>/<action>?token=...".
  std::string link_base_url = "http://127.0.0.1:8080";
  // LOGIN-CODE for administrators.
  bool login_codes_for_administrators = true;
  // DEVICES: how often, at most, a session's last use is written, in seconds.
  int session_last_use_seconds = 300;
  // FIRST-LOGIN: the version of the privacy policy in force; a new one is accepted again at the next login.
  std::string privacy_policy_version = "1";
  // Password validity in days; 0 = passwords never expire.
  int password_max_age_days = 365;
  // How long the audit trail keeps an entry, in days (fractions allowed); 0 = forever.
  double audit_retention_days = 0;
  // AIP-155: how long a request_id's answer is kept for retries, in hours.
  int request_id_retention_hours = 24;
  // Attempts at the self-proving RPCs (login, codes, links, reset requests): per client address a burst and
  // a rate per minute; over all addresses a burst and a rate per second (docs/SECURITY.md).
  int attempts_per_peer_burst = 20;
  double attempts_per_peer_per_minute = 10;
  int attempts_global_burst = 100;
  double attempts_global_per_second = 30;

  // INVALID_ARGUMENT naming the first bad setting.
  [[nodiscard]] absl::Status Validate() const;
};

// Reads the settings: flags, then HABILIS_* environment variables, then the --config file (TOML or INI), then
// the defaults above, in that order of precedence; validates them. Returns the exit code when the process is
// to end at once (--help, --version, a setting that does not parse or is out of range, naming it), nullopt to
// go on. `operator_key_name` receives --create-operator-key.
std::optional<int> ParseSettings(int argc, char** argv, Config& config, std::string& operator_key_name);

}  // namespace habilis

#endif  // HABILIS_SERVER_CONFIG_H_
