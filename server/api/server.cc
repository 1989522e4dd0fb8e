#include "server/api/server.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "authz/engine.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/server_initializer.h"
#include "server/api/http_gateway.h"
#include "server/api/metrics_endpoint.h"
#include "server/api/services.h"
#include "server/api/transport_security.h"
#include "server/api/undecodable_requests.h"
#include "server/common/clock.h"
#include "server/common/paging.h"
#include "server/domain/access/snapshot_schedule.h"
#include "server/domain/audit/audit_retention.h"
#include "server/domain/commands/request_id_expiry.h"
#include "server/domain/entitlements/habilitation_expiry.h"
#include "server/domain/identity/account_records.h"
#include "server/mail/delivery.h"

namespace habilis::api {
namespace {

// Reads the list of services the server registered, as gRPC itself keeps it, once the server is built.
class ServiceListPlugin final : public grpc::ServerBuilderPlugin {
 public:
  explicit ServiceListPlugin(const std::vector<std::string>** list) : list_(list) {}
  std::string name() override { return "habilis_service_list"; }
  void InitServer(grpc::ServerInitializer* initializer) override { *list_ = initializer->GetServiceList(); }
  void Finish(grpc::ServerInitializer*) override {}
  void ChangeArguments(const std::string&, void*) override {}
  bool has_async_methods() const override { return false; }
  bool has_sync_methods() const override { return false; }

 private:
  const std::vector<std::string>** list_;
};

class ServiceListOption final : public grpc::ServerBuilderOption {
 public:
  explicit ServiceListOption(const std::vector<std::string>** list) : list_(list) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceListPlugin>(list_));
  }

 private:
  const std::vector<std::string>** list_;
};

}  // namespace

domain::IdentityPolicy IdentityPolicyOf(const Config& config) {
  domain::IdentityPolicy policy;
  policy.login_code_for_administrators = config.login_codes_for_administrators;
  policy.privacy_policy_version = config.privacy_policy_version;
  policy.session_last_use_step = absl::Seconds(config.session_last_use_seconds);
  policy.passwords.max_age = absl::Hours(24) * config.password_max_age_days;
  policy.link_base_url = config.link_base_url;
  return policy;
}

// Where the access index's snapshot is kept; empty for none (docs/CONFIGURATION.md).
std::string IndexSnapshotFileOf(const Config& config) {
  if (config.index_snapshot_file == "none") return "";
  if (!config.index_snapshot_file.empty()) return config.index_snapshot_file;
  return std::string(absl::StripSuffix(config.data_dir, "/")) + "/access-index.snapshot";
}

// The access index, restored from its snapshot when it can be, and a log line that says how.
absl::StatusOr<std::unique_ptr<domain::AccessIndex>> LoadAccessIndex(store::Store& store,
                                                                     const std::string& snapshot_file,
                                                                     domain::AccessIndex::Origin& origin) {
  const absl::Time loading = absl::Now();
  absl::StatusOr<std::unique_ptr<domain::AccessIndex>> index =
      domain::AccessIndex::AttachFrom(store, snapshot_file, &origin);
  if (!index.ok()) return index.status();
  const size_t accounts = (*index)->account_count(), bytes = (*index)->MemoryBytes();
  std::cerr << "habilisd: access index of " << accounts << " accounts "
            << (origin.restored ? absl::StrCat("restored from the snapshot of revision ", origin.snapshot,
                                               " and caught up to ", (*index)->revision())
                                : absl::StrCat("read from the store (snapshot: ", origin.why_not, ")"))
            << " in " << absl::FormatDuration(absl::Trunc(absl::Now() - loading, absl::Milliseconds(1))) << ", "
            << bytes / (1 << 20) << " MiB (" << (accounts > 0 ? bytes / accounts : 0) << " bytes an account)"
            << std::endl;
  return index;
}

// CSV exports and imports running at once (each holds a thread; an import spools its rows to a temporary file).
constexpr int kMaxBulkCalls = 2;

struct Server::Parts {
  Parts(const Config& config, store::Store& store, const habilis::Clock& clock,
        std::unique_ptr<domain::AccessIndex> index, std::unique_ptr<ChangeNotifier> notifier, mail::SmtpConfig smtp,
        CertificateApplications certificates)
      : policy(IdentityPolicyOf(config)),
        access_index(std::move(index)),
        change_notifier(std::move(notifier)),
        engine(authz::NewRoleEngine()),
        structures(store, clock),
        org_chart(store, clock),
        applications(store, clock),
        api_keys(store, clock),
        accounts(store, clock, policy),
        membership_states(store, clock),
        deletion_requests(store, clock),
        sessions(store, clock, policy),
        invitations(store, clock, policy),
        entitlements(store, clock),
        access(store, *access_index, clock),
        audit_trail(store),
        audit_retention(store, audit_trail, clock, absl::Hours(24) * config.audit_retention_days),
        habilitation_expiry(store, clock, absl::Milliseconds(config.expiry_sweep_ms)),
        request_id_expiry(store, clock, absl::Hours(config.request_id_retention_hours), absl::Hours(1)),
        delivery(store, clock, std::move(smtp), absl::Milliseconds(config.mail_poll_ms)),
        attempts(AttemptLimits{config.attempts_per_peer_burst, config.attempts_per_peer_per_minute,
                               config.attempts_global_burst, config.attempts_global_per_second},
                 clock),
        certificate_applications(std::move(certificates)),
        gate(api_keys, sessions, *engine, &attempts, &certificate_applications),
        executor(config.worker_threads, static_cast<size_t>(config.max_queued_calls)),
        context{gate, executor, &store, &store},
        structure_service(context, structures),
        org_chart_service(context, org_chart),
        application_service(context, applications),
        backups(store, clock,
                config.backup_dir.empty() ? std::string(absl::StripSuffix(config.data_dir, "/")) + ".backups"
                                          : config.backup_dir),
        api_key_service(context, api_keys),
        operations_service(context, backups),
        account_service(context, accounts, membership_states, deletion_requests),
        session_service(context, sessions, accounts),
        invitation_service(context, invitations),
        entitlement_service(context, entitlements, accounts, access),
        access_service(context, access),
        audit_service(context, audit_trail, *change_notifier),
        bulk_workers(kMaxBulkCalls),
        account_file_service(context, store, clock, policy, bulk_workers),
        health_service(gate, store, *access_index) {}

  const domain::IdentityPolicy policy;
  std::unique_ptr<domain::AccessIndex> access_index;
  // Destroyed once nothing else commits (the server and the background passes are gone): the last snapshot
  // holds every commit of this process.
  std::unique_ptr<domain::SnapshotSchedule> index_snapshots;
  std::unique_ptr<ChangeNotifier> change_notifier;
  std::unique_ptr<authz::Engine> engine;
  domain::Structures structures;
  domain::OrgChart org_chart;
  domain::Applications applications;
  domain::ApiKeys api_keys;
  domain::Accounts accounts;
  domain::MembershipStates membership_states;
  domain::DeletionRequests deletion_requests;
  domain::Sessions sessions;
  domain::Invitations invitations;
  domain::Entitlements entitlements;
  domain::Access access;
  domain::AuditTrail audit_trail;
  domain::AuditRetention audit_retention;
  domain::HabilitationExpiry habilitation_expiry;
  domain::RequestIdExpiry request_id_expiry;
  mail::DeliveryWorker delivery;
  AttemptLimiter attempts;
  const CertificateApplications certificate_applications;
  Gate gate;
  Executor executor;
  CallContext context;
  StructureService structure_service;
  OrgChartService org_chart_service;
  ApplicationService application_service;
  domain::Backups backups;
  ApiKeyService api_key_service;
  OperationsService operations_service;
  AccountService account_service;
  SessionService session_service;
  InvitationService invitation_service;
  EntitlementService entitlement_service;
  AccessService access_service;
  AuditService audit_service;
  // Destroyed after the server below has ended their calls, before the store.
  BulkWorkers bulk_workers;
  AccountFileService account_file_service;
  HealthService health_service;
  std::unique_ptr<grpc::Server> server;
  // Last: they read the store and the index, or call the server, so they stop before those go.
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  std::unique_ptr<HttpGateway> http_gateway;
  int port = 0;
  const std::vector<std::string>* service_list = nullptr;
  std::vector<std::string> registered_services;

  // Every gRPC service, in the order they are registered.
  std::vector<grpc::Service*> services() {
    return {&structure_service, &org_chart_service,    &application_service, &api_key_service,     &operations_service,
            &account_service,   &session_service,      &invitation_service,  &entitlement_service, &access_service,
            &audit_service,     &account_file_service, &health_service};
  }
};

namespace {

absl::StatusOr<mail::SmtpConfig> SmtpConfigOf(const Config& config) {
  mail::SmtpConfig smtp{config.smtp_url, config.mail_from, config.smtp_starttls, config.smtp_ca_file};
  if (!config.smtp_credentials_file.empty()) {
    if (absl::Status read = mail::ReadSmtpCredentials(config.smtp_credentials_file, smtp); !read.ok()) return read;
  }
  return smtp;
}

absl::StatusOr<CertificateApplications> CertificateApplicationsOf(const Config& config) {
  if (config.tls_client_applications_file.empty()) return CertificateApplications();
  return ReadCertificateApplications(config.tls_client_applications_file);
}

// Builds and starts the gRPC server of `parts`, with every service and the request interceptor.
absl::Status StartGrpc(const Config& config, const std::shared_ptr<grpc::ServerCredentials>& credentials,
                       Server::Parts& parts) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen, credentials, &parts.port);
  builder.SetMaxReceiveMessageSize(config.max_message_bytes);
  for (grpc::Service* service : parts.services()) builder.RegisterService(service);
  builder.SetOption(std::make_unique<ServiceListOption>(&parts.service_list));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(NewUndecodableRequestInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  LimitProtobufLogging();
  parts.server = builder.BuildAndStart();
  if (parts.server == nullptr || parts.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.listen));
  }
  if (parts.service_list != nullptr) parts.registered_services = *parts.service_list;
  parts.health_service.SetServices(parts.registered_services);
  return absl::OkStatus();
}

// The HTTP/JSON gateway, calling `server` through its in-process channel.
absl::StatusOr<std::unique_ptr<HttpGateway>> StartHttpGateway(const Config& config, grpc::Server& server) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  HttpGatewayOptions options{
      config.http_listen,
      {},
      config.max_message_bytes,
      {config.tls_cert_file, config.tls_key_file, config.tls_client_ca_file, config.tls_refresh_seconds}};
  for (absl::string_view origin : absl::StrSplit(config.http_cors_origins, ',', absl::SkipWhitespace())) {
    options.cors_origins.emplace_back(absl::StripAsciiWhitespace(origin));
  }
  return HttpGateway::Start(std::move(options), server.InProcessChannel(arguments));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Config& config, store::Store& store,
                                                      const habilis::Clock& clock) {
  absl::Status key = habilis::UsePageTokenKeyOf(store);
  if (!key.ok()) return key;
  // Built before anything serves: the client-application API answers from it.
  const std::string snapshot_file = IndexSnapshotFileOf(config);
  domain::AccessIndex::Origin origin;
  absl::StatusOr<std::unique_ptr<domain::AccessIndex>> index = LoadAccessIndex(store, snapshot_file, origin);
  if (!index.ok()) return index.status();
  absl::StatusOr<std::unique_ptr<ChangeNotifier>> notifier = ChangeNotifier::Attach(store);
  if (!notifier.ok()) return notifier.status();
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = ServerCredentialsFor(config);
  if (!credentials.ok()) return credentials.status();
  absl::StatusOr<mail::SmtpConfig> smtp = SmtpConfigOf(config);
  if (!smtp.ok()) return smtp.status();
  absl::StatusOr<CertificateApplications> certificates = CertificateApplicationsOf(config);
  if (!certificates.ok()) return certificates.status();
  auto parts = std::make_unique<Parts>(config, store, clock, *std::move(index), *std::move(notifier), *std::move(smtp),
                                       *std::move(certificates));
  parts->index_snapshots = std::make_unique<domain::SnapshotSchedule>(*parts->access_index, snapshot_file,
                                                                      absl::Seconds(config.index_snapshot_seconds),
                                                                      origin.restored ? origin.snapshot : 0);
  if (absl::Status started = StartGrpc(config, *credentials, *parts); !started.ok()) return started;
  if (!config.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> metrics =
        MetricsEndpoint::Start(config.metrics_listen, store, *parts->access_index);
    if (!metrics.ok()) return metrics.status();
    parts->metrics_endpoint = *std::move(metrics);
  }
  if (!config.http_listen.empty()) {
    absl::StatusOr<std::unique_ptr<HttpGateway>> gateway = StartHttpGateway(config, *parts->server);
    if (!gateway.ok()) return gateway.status();
    parts->http_gateway = *std::move(gateway);
  }
  return std::unique_ptr<Server>(new Server(std::move(parts)));
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { Shutdown(); }

int Server::port() const { return parts_->port; }

int Server::http_port() const { return parts_->http_gateway ? parts_->http_gateway->port() : 0; }

int Server::metrics_port() const { return parts_->metrics_endpoint ? parts_->metrics_endpoint->port() : 0; }

const std::vector<std::string>& Server::registered_services() const { return parts_->registered_services; }

void Server::Shutdown() {
  // HTTP requests in flight finish first: they are calls to the server below.
  parts_->http_gateway.reset();
  parts_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

void Server::Wait() { parts_->server->Wait(); }

}  // namespace habilis::api
