// habilisd: the habilis server.
//
//   habilisd [--config FILE] --listen HOST:PORT --data-dir DIR [--seed-demo]   (docs/CONFIGURATION.md)
//   habilisd --data-dir DIR --create-operator-key NAME   (prints the first operator key, then exits)
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "server/api/server.h"
#include "server/common/call_log.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/config.h"
#include "server/domain/entitlements/api_keys.h"
#include "server/domain/operations/demo.h"
#include "server/mail/sealing.h"
#include "store/postgres/postgres_store.h"
#include "store/rocksdb/rocksdb_store.h"

namespace {

// Keeps the demo keys beside the data, readable by their owner only, so a restarted demo can still say
// how to call it. Only the demo writes a secret to disk.
void SaveDemoCredentials(const std::string& path, const habilis::domain::DemoCredentials& credentials) {
  std::ofstream out(path, std::ios::trunc);
  out << "HABILIS_OPERATOR_KEY=" << credentials.operator_key << "\n"
      << "HABILIS_APPLICATION_KEY=" << credentials.application_key << "\n";
  out.close();
  chmod(path.c_str(), 0600);
}

// The HTTP/JSON port speaks HTTPS when the gRPC port speaks TLS (http_gateway.h).
const char* HttpScheme(const habilis::Config& config) { return config.tls_cert_file.empty() ? "http" : "https"; }

void PrintHowToCall(const habilis::Config& config, int port, int http_port, const std::string& credentials_path) {
  const std::string host = config.listen.substr(0, config.listen.rfind(':'));
  const std::string server = host + ":" + std::to_string(port);
  std::cout << "\nThe demo is seeded: structure " << habilis::domain::kDemoSiret
            << " (Commune de Démo-sur-Mer) with four services, the application " << habilis::domain::kDemoApplication
            << " and its profile utilisateur, and these people, activated:\n";
  for (const habilis::domain::DemoPerson& person : habilis::domain::DemoPeople()) {
    std::cout << "  " << person.login_email << "  " << habilis::v1::Role_Name(person.role)
              << (person.service_id.empty() ? "" : " of " + person.service_id) << "\n";
  }
  std::cout << "Their activation e-mails (with the link to set a password) are delivered to the SMTP relay, if one"
               " is set (deploy/run-demo.sh keeps them as .eml files). The operator's and the application's keys"
               " are in "
            << credentials_path << " (mode 0600).\n\nTry:\n"
            << "  . " << credentials_path << "; echo \"$HABILIS_OPERATOR_KEY\" > operator.key;"
            << " echo \"$HABILIS_APPLICATION_KEY\" > application.key\n"
            << "  habilisctl --server " << server << " --key-file operator.key -s " << habilis::domain::kDemoSiret
            << " service tree\n"
            << "  habilisctl --server " << server << " --key-file operator.key -s " << habilis::domain::kDemoSiret
            << " account list\n"
            << "  habilisctl --server " << server
            << " --key-file application.key check lea.durand@demo-sur-mer.fr portail-partenaires/utilisateur\n";
  if (http_port != 0) {
    const std::string http_host = config.http_listen.substr(0, config.http_listen.rfind(':'));
    std::cout << "or over HTTP/JSON:\n"
              << "  curl -H \"Authorization: Bearer $HABILIS_APPLICATION_KEY\" -H 'Content-Type: application/json' \\\n"
              << "    -d '{\"loginEmail\": \"lea.durand@demo-sur-mer.fr\", \"profile\": "
                 "\"applications/portail-partenaires/profiles/utilisateur\"}' \\\n"
              << "    " << HttpScheme(config) << "://" << http_host << ":" << http_port
              << "/habilis.v1.AccessService/CheckAccess\n";
  }
  std::cout << std::endl;
}

// --bootstrap-operator-key-file: the first operator key of an empty store, written where only the service's
// user can read it. The file is made first (and must not exist), so that a key is never created unseen.
absl::Status BootstrapOperatorKey(habilis::store::Store& store, const habilis::Clock& clock, const std::string& path) {
  habilis::domain::ApiKeys api_keys(store, clock);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) return absl::OkStatus();  // written at an earlier start; left to its owner
  if (fd < 0) return absl::InvalidArgumentError("--bootstrap-operator-key-file: cannot create " + path);
  absl::StatusOr<std::string> key = api_keys.CreateFirstOperatorKey("bootstrap");
  if (!key.ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    // A store that has its operator key needs no bootstrap.
    return habilis::ErrorReason(key.status()) == "OPERATOR_KEY_EXISTS" ? absl::OkStatus() : key.status();
  }
  const std::string line = *key + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return absl::InternalError("--bootstrap-operator-key-file: cannot write " + path);
  std::cout << "habilisd: the first operator key is in " << path << " (mode 0600); keep it in a secret store, "
            << "then delete the file" << std::endl;
  return absl::OkStatus();
}

// Blocks the termination signals in every thread, so that the one that waits for them (ServeUntilSignalled)
// handles them in order.
sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // a reload request must not end the server (its default action)
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// --create-operator-key: prints the key once and returns the exit code.
int CreateOperatorKey(habilis::store::Store& store, const habilis::Clock& clock, const std::string& name) {
  habilis::domain::ApiKeys api_keys(store, clock);
  absl::StatusOr<std::string> key = api_keys.CreateFirstOperatorKey(name);
  if (!key.ok()) {
    std::cerr << "habilisd: " << key.status().message() << std::endl;
    return 1;
  }
  std::cout << *key << std::endl;
  std::cerr << "habilisd: this operator key is shown once; keep it in a secret store." << std::endl;
  return 0;
}

// What a store needs before it is served: the outbox key, the bootstrap operator key, the demo. Sets
// *demo_seeded when the demo's credentials are there to print.
absl::Status PrepareStore(const habilis::Config& config, habilis::store::Store& store, const habilis::Clock& clock,
                          const std::string& credentials_path, bool* demo_seeded) {
  const std::string outbox_key_file = config.outbox_key_file.empty()
                                          ? std::string(absl::StripSuffix(config.data_dir, "/")) + ".outbox-key"
                                          : config.outbox_key_file;
  if (absl::Status key = habilis::mail::UseOutboxKeyFile(outbox_key_file); !key.ok()) return key;
  if (absl::StartsWith(config.store, "postgres")) {
    if (absl::Status shared = habilis::mail::CheckOutboxKeyIsShared(store); !shared.ok()) return shared;
  }
  if (!config.bootstrap_operator_key_file.empty()) {
    absl::Status bootstrapped = BootstrapOperatorKey(store, clock, config.bootstrap_operator_key_file);
    if (!bootstrapped.ok()) return bootstrapped;
  }
  *demo_seeded = false;
  if (!config.seed_demo) return absl::OkStatus();
  auto demo = habilis::domain::SeedDemo(store, clock, habilis::api::IdentityPolicyOf(config));
  if (!demo.ok())
    return absl::Status(demo.status().code(), absl::StrCat("cannot seed the demo: ", demo.status().message()));
  if (demo->has_value()) SaveDemoCredentials(credentials_path, **demo);
  *demo_seeded = std::ifstream(credentials_path).good();
  return absl::OkStatus();
}

// The addresses served. "listening on" comes last: it tells a supervisor (and the tests) that all is up.
void PrintListening(const habilis::Config& config, const habilis::api::Server& server) {
  if (server.metrics_port() != 0) {
    std::string metrics_host = config.metrics_listen.substr(0, config.metrics_listen.rfind(':'));
    std::cout << "habilisd: metrics on http://" << metrics_host << ":" << server.metrics_port() << "/metrics"
              << std::endl;
  }
  if (server.http_port() != 0) {
    std::string http_host = config.http_listen.substr(0, config.http_listen.rfind(':'));
    std::cout << "habilisd: HTTP/JSON API on " << HttpScheme(config) << "://" << http_host << ":" << server.http_port()
              << std::endl;
  }
  std::string host = config.listen.substr(0, config.listen.rfind(':'));
  std::cout << "habilisd: listening on " << host << ":" << server.port() << ", data in " << config.data_dir
            << std::endl;
}

// Serves until SIGINT or SIGTERM; SIGHUP only says what a reload does.
void ServeUntilSignalled(const habilis::Config& config, habilis::api::Server& server, const sigset_t& signals) {
  std::thread stopper([&] {
    int signal = 0;
    while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
      // The TLS files are re-read on their own (transport_security.h); other settings need a restart.
      std::cout << "habilisd: SIGHUP: TLS files are read again within " << config.tls_refresh_seconds
                << " s; other settings take a restart" << std::endl;
    }
    std::cout << "habilisd: stopping" << std::endl;
    server.Shutdown();
  });
  server.Wait();
  stopper.join();
}

// The store --store names (docs/CONFIGURATION.md).
absl::StatusOr<std::unique_ptr<habilis::store::Store>> OpenStore(const habilis::Config& config) {
  if (absl::StartsWith(config.store, "postgres")) {
    return habilis::store::PostgresStore::Open(
        habilis::store::PostgresOptions{.url = config.store,
                                        .max_connections = config.store_connections,
                                        .poll_interval = absl::Milliseconds(config.store_poll_ms),
                                        .feed_history = config.store_feed_history});
  }
  const std::string directory = config.store.empty() ? config.data_dir : config.store.substr(strlen("rocksdb:"));
  return habilis::store::RocksDbStore::Open(directory);
}

}  // namespace

int main(int argc, char** argv) {
  // absl::Mutex's deadlock detection is a debugging aid; in a server it costs a graph update on every lock
  // (gRPC's own locks included): measured at 2-3% of the CPU of a CheckAccess.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  habilis::Config config;
  std::string operator_key_name;
  if (std::optional<int> exit_code = habilis::ParseSettings(argc, argv, config, operator_key_name)) return *exit_code;

  habilis::LogLevel log_level = habilis::LogLevel::kInfo;
  habilis::ParseLogLevel(config.log_level, &log_level);  // validated by ParseSettings
  habilis::SetLogLevel(log_level);
  // Handle termination signals on a thread of our own, for an orderly shutdown.
  const sigset_t signals = BlockTerminationSignals();

  absl::StatusOr<std::unique_ptr<habilis::store::Store>> store = OpenStore(config);
  if (!store.ok()) {
    std::cerr << "habilisd: cannot open the store: " << store.status().message() << std::endl;
    return 1;
  }
  const habilis::Clock& clock = habilis::SystemClock();
  if (!operator_key_name.empty()) return CreateOperatorKey(**store, clock, operator_key_name);

  const std::string credentials_path = config.data_dir + "/demo-credentials.env";
  bool demo_seeded = false;
  if (absl::Status prepared = PrepareStore(config, **store, clock, credentials_path, &demo_seeded); !prepared.ok()) {
    std::cerr << "habilisd: " << prepared.message() << std::endl;
    return 1;
  }
  auto server = habilis::api::Server::Start(config, **store, clock);
  if (!server.ok()) {
    std::cerr << "habilisd: " << server.status().message() << std::endl;
    return 1;
  }
  PrintListening(config, **server);
  if (demo_seeded) PrintHowToCall(config, (*server)->port(), (*server)->http_port(), credentials_path);
  ServeUntilSignalled(config, **server, signals);
  habilis::FlushLog();
  return 0;
}
