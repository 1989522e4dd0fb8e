#include "server/config.h"

#include <cctype>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/common/call_log.h"

namespace habilis {
namespace {

// The environment variable of a setting: HABILIS_ and its flag in capitals, '-' as '_' (--data-dir:
// HABILIS_DATA_DIR).
std::string EnvironmentName(const std::string& flag) {
  std::string name = "HABILIS_" + flag;
  for (char& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// Settings that are actions, not configuration: never taken from the environment or a file.
bool IsAction(const std::string& flag) { return flag == "help" || flag == "version" || flag == "create-operator-key"; }

// Where habilisd listens, and with which TLS.
void AddTransportOptions(CLI::App& app, Config& config) {
  app.add_option("--listen", config.listen, "HOST:PORT to serve gRPC on (port 0 picks one)")->capture_default_str();
  app.add_option("--data-dir", config.data_dir, "the node's directory (and its embedded store unless --store)")
      ->capture_default_str();
  app.add_option("--store", config.store,
                 "rocksdb:DIR (embedded; default rocksdb:<data-dir>) or postgresql://… (shared by several nodes)");
  app.add_option("--store-connections", config.store_connections, "PostgreSQL: connections per node")
      ->capture_default_str();
  app.add_option("--store-feed-history", config.store_feed_history,
                 "PostgreSQL: commits the change feed keeps (a node further behind restarts)")
      ->capture_default_str();
  app.add_option("--store-poll-ms", config.store_poll_ms,
                 "PostgreSQL: how often a node reads the change feed for other nodes' commits")
      ->capture_default_str();
  app.add_option("--tls-cert", config.tls_cert_file, "TLS: the server's certificate chain, PEM (with --tls-key)");
  app.add_option("--tls-key", config.tls_key_file, "TLS: the server's private key, PEM, unencrypted");
  app.add_option("--tls-client-ca", config.tls_client_ca_file,
                 "mutual TLS: clients must present a certificate signed by this CA (PEM)");
  app.add_option("--tls-client-applications", config.tls_client_applications_file,
                 "mutual TLS: '<certificate common name> <application id>' per line; such a certificate "
                 "authenticates its client application without an API key");
  app.add_option("--tls-refresh-seconds", config.tls_refresh_seconds,
                 "how often the TLS files are read again (renewals need no restart)")
      ->capture_default_str();
  app.add_option("--metrics-listen", config.metrics_listen,
                 "HOST:PORT of the Prometheus endpoint GET /metrics (empty: none)");
  app.add_option("--http-listen", config.http_listen, "HOST:PORT of the HTTP/JSON API, Connect protocol (empty: none)");
  app.add_option("--http-cors-origins", config.http_cors_origins,
                 "browser origins allowed to call the HTTP/JSON API, comma-separated (empty: none)");
}

// The store, the log, and how much work habilisd takes on.
void AddServerOptions(CLI::App& app, Config& config) {
  app.add_option("--log-level", config.log_level,
                 "least level of the JSON log lines: debug (also each access check), info, warning, error")
      ->capture_default_str();
  app.add_option("--max-message-bytes", config.max_message_bytes, "largest request accepted")->capture_default_str();
  app.add_option("--workers", config.worker_threads, "handler threads")->capture_default_str();
  app.add_option("--max-queued-calls", config.max_queued_calls, "calls waiting beyond which the server says busy")
      ->capture_default_str();
  app.add_option("--bootstrap-operator-key-file", config.bootstrap_operator_key_file,
                 "on a store without an operator key, create one and write it to this new file (mode 0600)");
  app.add_option("--backup-dir", config.backup_dir, "where online backups are written (default: <data-dir>.backups)");
  app.add_option("--index-snapshot-file", config.index_snapshot_file,
                 "the access index's snapshot a restart starts from (default: <data-dir>/access-index.snapshot; "
                 "none: every start reads the whole store)");
  app.add_option("--index-snapshot-seconds", config.index_snapshot_seconds,
                 "how often the access index's snapshot is written when the store changed (and at shutdown)")
      ->capture_default_str();
  app.add_flag("--seed-demo", config.seed_demo, "seed a small demo into an empty store");
}

// E-mail: the relay, and what the messages say.
void AddMailOptions(CLI::App& app, Config& config) {
  app.add_option("--smtp-url", config.smtp_url, "SMTP relay, smtp://host:port (empty: e-mails wait in the outbox)");
  app.add_flag("--smtp-starttls", config.smtp_starttls, "upgrade smtp:// with STARTTLS; refuse a relay without it");
  app.add_option("--smtp-ca-file", config.smtp_ca_file, "the CA (PEM) of the relay's certificate (default: system's)");
  app.add_option("--smtp-credentials-file", config.smtp_credentials_file,
                 "SMTP AUTH: user name on line 1, password on line 2 (needs smtps:// or --smtp-starttls)");
  app.add_option("--mail-from", config.mail_from, "sender of e-mails")->capture_default_str();
  app.add_option("--mail-poll-ms", config.mail_poll_ms, "outbox polling interval")->capture_default_str();
  app.add_option("--expiry-sweep-ms", config.expiry_sweep_ms,
                 "how often habilitations with an end date are announced (a week before) and recorded as expired")
      ->capture_default_str();
  app.add_option("--link-base-url", config.link_base_url, "portal page that e-mailed links open")
      ->capture_default_str();
}

// The policy: login codes, passwords, the audit trail's retention, the attempt limits.
void AddPolicyOptions(CLI::App& app, Config& config) {
  app.add_option("--login-codes-for-administrators", config.login_codes_for_administrators,
                 "administrators confirm logins with an e-mailed code (true/false)")
      ->capture_default_str();
  app.add_option("--session-last-use-seconds", config.session_last_use_seconds,
                 "a session's last use is recorded at most this often")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--privacy-policy-version", config.privacy_policy_version,
                 "the privacy policy in force: accounts that accepted another version accept it at their next login")
      ->capture_default_str()
      ->check([](const std::string& v) { return v.empty() || v.size() > 40 ? "1 to 40 characters" : ""; });
  app.add_option("--password-max-age-days", config.password_max_age_days, "password validity; 0 = never expires")
      ->capture_default_str();
  app.add_option("--audit-retention-days", config.audit_retention_days,
                 "how long the audit trail keeps an entry (fractions allowed); 0 = forever")
      ->capture_default_str();
  app.add_option("--request-id-retention-hours", config.request_id_retention_hours,
                 "how long a request_id's first answer is kept for retries (1 to 8760)")
      ->capture_default_str();
  app.add_option("--attempts-per-peer-burst", config.attempts_per_peer_burst,
                 "logins, codes, links and reset requests one client address may try at once")
      ->capture_default_str();
  app.add_option("--attempts-per-peer-per-minute", config.attempts_per_peer_per_minute,
                 "then this many a minute per client address")
      ->capture_default_str();
  app.add_option("--attempts-global-burst", config.attempts_global_burst,
                 "logins, codes, links and reset requests all addresses together may try at once")
      ->capture_default_str();
  app.add_option("--attempts-global-per-second", config.attempts_global_per_second,
                 "then this many a second over all addresses")
      ->capture_default_str();
  app.add_option("--outbox-key-file", config.outbox_key_file,
                 "key sealing e-mails waiting in the outbox; keep it apart from backups of the data directory "
                 "(default: <data-dir>.outbox-key, created on first start)");
}

void AddOptions(CLI::App& app, Config& config, std::string& operator_key_name) {
  AddTransportOptions(app, config);
  AddServerOptions(app, config);
  AddMailOptions(app, config);
  AddPolicyOptions(app, config);
  app.add_option("--create-operator-key", operator_key_name,
                 "create the first operator key of an empty store, print it once, and exit")
      ->configurable(false);
}

}  // namespace

std::optional<int> ParseSettings(int argc, char** argv, Config& config, std::string& operator_key_name) {
  CLI::App app{
      "habilisd: identity and authorization server. Every setting is also read from HABILIS_<SETTING> "
      "(e.g. HABILIS_DATA_DIR) and from the --config file; a flag wins over the environment, which wins "
      "over the file (docs/CONFIGURATION.md)."};
  // The environment is given to the parser as flags placed before the real ones, and the last value of a
  // setting wins: so a flag beats its variable, and both beat the file, which CLI11 reads only for settings
  // still unset. (CLI11's own envname() would let the file beat the environment.)
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", std::string("habilisd ") + HABILIS_VERSION);
  app.set_config("--config", "", "a settings file, TOML or INI (docs/CONFIGURATION.md)");
  app.allow_config_extras(CLI::config_extras_mode::error);
  AddOptions(app, config, operator_key_name);

  std::vector<std::string> args = {argc > 0 ? argv[0] : "habilisd"};
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_lnames().empty()) continue;
    const std::string& flag = option->get_lnames().front();
    if (IsAction(flag)) continue;
    const char* value = std::getenv(EnvironmentName(flag).c_str());
    if (value != nullptr && *value != '\0') args.push_back(absl::StrCat("--", flag, "=", value));
  }
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<const char*> pointers;
  for (const std::string& arg : args) pointers.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(pointers.size()), pointers.data());
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (absl::Status valid = config.Validate(); !valid.ok()) {
    std::cerr << "habilisd: " << valid.message() << " (from a flag, HABILIS_* variable or the --config file)"
              << std::endl;
    return 2;
  }
  return std::nullopt;
}

namespace {

absl::Status CheckHostPort(const std::string& setting, const std::string& value) {
  size_t colon = value.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(value.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(setting, " must be HOST:PORT, got '", value, "'"));
  }
  return absl::OkStatus();
}

absl::Status CheckOrigins(const std::string& origins) {
  for (absl::string_view origin : absl::StrSplit(origins, ',', absl::SkipWhitespace())) {
    origin = absl::StripAsciiWhitespace(origin);
    if (origin == "*" || !(absl::StartsWith(origin, "https://") || absl::StartsWith(origin, "http://")) ||
        absl::EndsWith(origin, "/")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--http-cors-origins must list origins like https://portail.example.fr (no path, no '*'), got '",
                       origin, "'"));
    }
  }
  return absl::OkStatus();
}

// The addresses habilisd listens on, and the data directory.
absl::Status CheckListeners(const Config& c) {
  if (absl::Status checked = CheckHostPort("--listen", c.listen); !checked.ok()) return checked;
  if (!c.metrics_listen.empty()) {
    if (absl::Status checked = CheckHostPort("--metrics-listen", c.metrics_listen); !checked.ok()) return checked;
  }
  if (!c.http_listen.empty()) {
    if (absl::Status checked = CheckHostPort("--http-listen", c.http_listen); !checked.ok()) return checked;
  }
  if (absl::Status checked = CheckOrigins(c.http_cors_origins); !checked.ok()) return checked;
  if (c.data_dir.empty()) return absl::InvalidArgumentError("--data-dir must name a directory");
  const bool rocksdb = absl::StartsWith(c.store, "rocksdb:") && c.store.size() > 8;
  const bool postgresql = absl::StartsWith(c.store, "postgresql://") || absl::StartsWith(c.store, "postgres://");
  if (!c.store.empty() && !rocksdb && !postgresql) {
    return absl::InvalidArgumentError("--store must be rocksdb:DIR or a postgresql:// URI");
  }
  if (c.store_connections < 2 || c.store_connections > 1000) {
    return absl::InvalidArgumentError("--store-connections must be between 2 and 1000");
  }
  if (c.store_feed_history < 1000) return absl::InvalidArgumentError("--store-feed-history must be at least 1000");
  if (c.store_poll_ms < 1 || c.store_poll_ms > 10000) {
    return absl::InvalidArgumentError("--store-poll-ms must be between 1 and 10000");
  }
  return absl::OkStatus();
}

// TLS settings come in the pairs they need.
absl::Status CheckTls(const Config& c) {
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together: give both, or neither for plain text");
  }
  if (!c.tls_client_ca_file.empty() && c.tls_cert_file.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)");
  }
  if (!c.tls_client_applications_file.empty() && c.tls_client_ca_file.empty()) {
    return absl::InvalidArgumentError("--tls-client-applications needs --tls-client-ca (certificates it verifies)");
  }
  return absl::OkStatus();
}

// The log level, and the limits of the server.
absl::Status CheckServer(const Config& c) {
  LogLevel level;
  if (!ParseLogLevel(c.log_level, &level)) {
    return absl::InvalidArgumentError("--log-level must be debug, info, warning or error");
  }
  if (c.tls_refresh_seconds < 1 || c.tls_refresh_seconds > 86400) {
    return absl::InvalidArgumentError("--tls-refresh-seconds must be between 1 and 86400");
  }
  if (c.max_message_bytes < 1024 || c.max_message_bytes > (64 << 20)) {
    return absl::InvalidArgumentError("--max-message-bytes must be between 1024 and 67108864");
  }
  if (c.worker_threads < 1 || c.worker_threads > 256) {
    return absl::InvalidArgumentError("--workers must be between 1 and 256");
  }
  if (c.max_queued_calls < 1 || c.max_queued_calls > 1000000) {
    return absl::InvalidArgumentError("--max-queued-calls must be between 1 and 1000000");
  }
  if (c.index_snapshot_seconds < 10 || c.index_snapshot_seconds > 86400) {
    return absl::InvalidArgumentError("--index-snapshot-seconds must be between 10 and 86400");
  }
  return absl::OkStatus();
}

// The relay and how it is reached.
absl::Status CheckMail(const Config& c) {
  if (c.expiry_sweep_ms < 10 || c.expiry_sweep_ms > 3600000) {
    return absl::InvalidArgumentError("--expiry-sweep-ms must be between 10 and 3600000");
  }
  if (c.mail_poll_ms < 10 || c.mail_poll_ms > 60000) {
    return absl::InvalidArgumentError("--mail-poll-ms must be between 10 and 60000");
  }
  if (!c.smtp_url.empty() && c.smtp_url.rfind("smtp://", 0) != 0 && c.smtp_url.rfind("smtps://", 0) != 0) {
    return absl::InvalidArgumentError("--smtp-url must start with smtp:// or smtps://");
  }
  if (!c.smtp_credentials_file.empty() && c.smtp_url.rfind("smtps://", 0) != 0 && !c.smtp_starttls) {
    return absl::InvalidArgumentError("--smtp-credentials-file needs TLS: an smtps:// --smtp-url, or --smtp-starttls");
  }
  if (c.smtp_starttls && c.smtp_url.rfind("smtps://", 0) == 0) {
    return absl::InvalidArgumentError("--smtp-starttls is for smtp:// (smtps:// is TLS from the start)");
  }
  return absl::OkStatus();
}

// Password age, audit retention, attempt limits.
absl::Status CheckPolicy(const Config& c) {
  if (c.password_max_age_days < 0 || c.password_max_age_days > 3650) {
    return absl::InvalidArgumentError("--password-max-age-days must be between 0 and 3650");
  }
  if (!(c.audit_retention_days >= 0 && c.audit_retention_days <= 36500)) {
    return absl::InvalidArgumentError("--audit-retention-days must be between 0 (keep forever) and 36500");
  }
  if (c.request_id_retention_hours < 1 || c.request_id_retention_hours > 8760) {
    return absl::InvalidArgumentError("--request-id-retention-hours must be between 1 and 8760");
  }
  if (c.attempts_per_peer_burst < 1 || c.attempts_global_burst < 1) {
    return absl::InvalidArgumentError("--attempts-per-peer-burst and --attempts-global-burst must be at least 1");
  }
  if (!(c.attempts_per_peer_per_minute > 0) || !(c.attempts_global_per_second > 0)) {
    return absl::InvalidArgumentError(
        "--attempts-per-peer-per-minute and --attempts-global-per-second must be greater than 0");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Config::Validate() const {
  for (auto check : {CheckListeners, CheckTls, CheckServer, CheckMail, CheckPolicy}) {
    if (absl::Status checked = check(*this); !checked.ok()) return checked;
  }
  return absl::OkStatus();
}

}  // namespace habilis
