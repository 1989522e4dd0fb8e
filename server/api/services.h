// The gRPC services: thin handlers that name the target, pass the gate, and call a domain command.
#ifndef HABILIS_SERVER_API_SERVICES_H_
#define HABILIS_SERVER_API_SERVICES_H_

#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "habilis/v1/access.grpc.pb.h"
#include "habilis/v1/account_files.grpc.pb.h"
#include "habilis/v1/accounts.grpc.pb.h"
#include "habilis/v1/api_keys.grpc.pb.h"
#include "habilis/v1/applications.grpc.pb.h"
#include "habilis/v1/audit.grpc.pb.h"
#include "habilis/v1/entitlements.grpc.pb.h"
#include "habilis/v1/invitations.grpc.pb.h"
#include "habilis/v1/operations.grpc.pb.h"
#include "habilis/v1/org_chart.grpc.pb.h"
#include "habilis/v1/sessions.grpc.pb.h"
#include "habilis/v1/structures.grpc.pb.h"
#include "server/api/arena_allocator.h"
#include "server/api/bulk_calls.h"
#include "server/api/stream_call.h"
#include "server/api/unary.h"
#include "server/api/watch.h"
#include "server/common/clock.h"
#include "server/domain/access/access.h"
#include "server/domain/access/access_index.h"
#include "server/domain/audit/audit_trail.h"
#include "server/domain/entitlements/api_keys.h"
#include "server/domain/entitlements/applications.h"
#include "server/domain/entitlements/entitlements.h"
#include "server/domain/files/account_files.h"
#include "server/domain/identity/accounts.h"
#include "server/domain/identity/deletion_requests.h"
#include "server/domain/identity/invitations.h"
#include "server/domain/identity/membership_states.h"
#include "server/domain/identity/sessions.h"
#include "server/domain/operations/backups.h"
#include "server/domain/organisation/org_chart.h"
#include "server/domain/organisation/structures.h"

namespace habilis::api {

class StructureService final : public v1::StructureService::CallbackService {
 public:
  StructureService(const CallContext& context, domain::Structures& structures)
      : context_(context), structures_(structures) {}

  grpc::ServerUnaryReactor* CreateStructure(grpc::CallbackServerContext* ctx, const v1::CreateStructureRequest* req,
                                            v1::CreateStructureResponse* resp) override;
  grpc::ServerUnaryReactor* GetStructure(grpc::CallbackServerContext* ctx, const v1::GetStructureRequest* req,
                                         v1::GetStructureResponse* resp) override;
  grpc::ServerUnaryReactor* ListStructures(grpc::CallbackServerContext* ctx, const v1::ListStructuresRequest* req,
                                           v1::ListStructuresResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateStructure(grpc::CallbackServerContext* ctx, const v1::UpdateStructureRequest* req,
                                            v1::UpdateStructureResponse* resp) override;

 private:
  const CallContext& context_;
  domain::Structures& structures_;
};

class OrgChartService final : public v1::OrgChartService::CallbackService {
 public:
  OrgChartService(const CallContext& context, domain::OrgChart& org_chart) : context_(context), org_chart_(org_chart) {}

  grpc::ServerUnaryReactor* CreateService(grpc::CallbackServerContext* ctx, const v1::CreateServiceRequest* req,
                                          v1::CreateServiceResponse* resp) override;
  grpc::ServerUnaryReactor* GetService(grpc::CallbackServerContext* ctx, const v1::GetServiceRequest* req,
                                       v1::GetServiceResponse* resp) override;
  grpc::ServerUnaryReactor* ListServices(grpc::CallbackServerContext* ctx, const v1::ListServicesRequest* req,
                                         v1::ListServicesResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateService(grpc::CallbackServerContext* ctx, const v1::UpdateServiceRequest* req,
                                          v1::UpdateServiceResponse* resp) override;
  grpc::ServerUnaryReactor* MergeServices(grpc::CallbackServerContext* ctx, const v1::MergeServicesRequest* req,
                                          v1::MergeServicesResponse* resp) override;
  grpc::ServerUnaryReactor* BatchDeleteServices(grpc::CallbackServerContext* ctx,
                                                const v1::BatchDeleteServicesRequest* req,
                                                v1::BatchDeleteServicesResponse* resp) override;
  grpc::ServerUnaryReactor* GetServiceTree(grpc::CallbackServerContext* ctx, const v1::GetServiceTreeRequest* req,
                                           v1::GetServiceTreeResponse* resp) override;

 private:
  const CallContext& context_;
  domain::OrgChart& org_chart_;
};

class ApplicationService final : public v1::ApplicationService::CallbackService {
 public:
  ApplicationService(const CallContext& context, domain::Applications& applications)
      : context_(context), applications_(applications) {}

  grpc::ServerUnaryReactor* CreateApplication(grpc::CallbackServerContext* ctx, const v1::CreateApplicationRequest* req,
                                              v1::CreateApplicationResponse* resp) override;
  grpc::ServerUnaryReactor* GetApplication(grpc::CallbackServerContext* ctx, const v1::GetApplicationRequest* req,
                                           v1::GetApplicationResponse* resp) override;
  grpc::ServerUnaryReactor* ListApplications(grpc::CallbackServerContext* ctx, const v1::ListApplicationsRequest* req,
                                             v1::ListApplicationsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateProfile(grpc::CallbackServerContext* ctx, const v1::CreateProfileRequest* req,
                                          v1::CreateProfileResponse* resp) override;
  grpc::ServerUnaryReactor* ListProfiles(grpc::CallbackServerContext* ctx, const v1::ListProfilesRequest* req,
                                         v1::ListProfilesResponse* resp) override;
  grpc::ServerUnaryReactor* RetireProfile(grpc::CallbackServerContext* ctx, const v1::RetireProfileRequest* req,
                                          v1::RetireProfileResponse* resp) override;

 private:
  const CallContext& context_;
  domain::Applications& applications_;
};

class ApiKeyService final : public v1::ApiKeyService::CallbackService {
 public:
  ApiKeyService(const CallContext& context, domain::ApiKeys& api_keys) : context_(context), api_keys_(api_keys) {}

  grpc::ServerUnaryReactor* CreateApiKey(grpc::CallbackServerContext* ctx, const v1::CreateApiKeyRequest* req,
                                         v1::CreateApiKeyResponse* resp) override;
  grpc::ServerUnaryReactor* ListApiKeys(grpc::CallbackServerContext* ctx, const v1::ListApiKeysRequest* req,
                                        v1::ListApiKeysResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeApiKey(grpc::CallbackServerContext* ctx, const v1::RevokeApiKeyRequest* req,
                                         v1::RevokeApiKeyResponse* resp) override;

 private:
  const CallContext& context_;
  domain::ApiKeys& api_keys_;
};

#define HABILIS_UNARY(Method)                                                                            \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const v1::Method##Request* request, \
                                   v1::Method##Response* response) override

class OperationsService final : public v1::OperationsService::CallbackService {
 public:
  OperationsService(const CallContext& context, domain::Backups& backups) : context_(context), backups_(backups) {}

  HABILIS_UNARY(CreateBackup);

 private:
  const CallContext& context_;
  domain::Backups& backups_;
};

class AccountService final : public v1::AccountService::CallbackService {
 public:
  AccountService(const CallContext& context, domain::Accounts& accounts, domain::MembershipStates& membership_states,
                 domain::DeletionRequests& deletion_requests)
      : context_(context),
        accounts_(accounts),
        membership_states_(membership_states),
        deletion_requests_(deletion_requests) {}

  HABILIS_UNARY(CreateAccount);
  HABILIS_UNARY(GetAccount);
  HABILIS_UNARY(ListAccounts);
  HABILIS_UNARY(UpdateAccount);
  HABILIS_UNARY(ActivateAccount);
  HABILIS_UNARY(DeactivateAccount);
  HABILIS_UNARY(ResendIdentifier);
  HABILIS_UNARY(UpdateMembership);
  HABILIS_UNARY(SuspendMembership);
  HABILIS_UNARY(ResumeMembership);
  HABILIS_UNARY(RemoveMembership);
  HABILIS_UNARY(TransferAccounts);
  HABILIS_UNARY(RequestAccountDeletion);
  HABILIS_UNARY(ListDeletionRequests);
  HABILIS_UNARY(DecideDeletionRequest);
  HABILIS_UNARY(ConfirmNotificationEmail);
  HABILIS_UNARY(ConfirmLoginEmail);
  HABILIS_UNARY(AcceptJoin);
  HABILIS_UNARY(UnlockAccount);
  HABILIS_UNARY(SendPasswordReset);

 private:
  const CallContext& context_;
  domain::Accounts& accounts_;
  domain::MembershipStates& membership_states_;
  domain::DeletionRequests& deletion_requests_;
};

class SessionService final : public v1::SessionService::CallbackService {
 public:
  SessionService(const CallContext& context, domain::Sessions& sessions, domain::Accounts& accounts)
      : context_(context), sessions_(sessions), accounts_(accounts) {}

  HABILIS_UNARY(Login);
  HABILIS_UNARY(ConfirmLoginCode);
  HABILIS_UNARY(Logout);
  HABILIS_UNARY(ListSessions);
  HABILIS_UNARY(EndSession);
  HABILIS_UNARY(AcceptPrivacyPolicy);
  HABILIS_UNARY(ChangePassword);
  HABILIS_UNARY(RequestPasswordReset);
  HABILIS_UNARY(SetPasswordWithLink);
  HABILIS_UNARY(UnlockWithLink);
  HABILIS_UNARY(SuggestPassword);

 private:
  const CallContext& context_;
  domain::Sessions& sessions_;
  domain::Accounts& accounts_;
};

class InvitationService final : public v1::InvitationService::CallbackService {
 public:
  InvitationService(const CallContext& context, domain::Invitations& invitations)
      : context_(context), invitations_(invitations) {}

  HABILIS_UNARY(SendInvitations);
  HABILIS_UNARY(FillInvitation);
  HABILIS_UNARY(GetInvitationByLink);
  HABILIS_UNARY(ResendInvitations);
  HABILIS_UNARY(ListInvitations);
  HABILIS_UNARY(DecideInvitations);

 private:
  const CallContext& context_;
  domain::Invitations& invitations_;
};

class EntitlementService final : public v1::EntitlementService::CallbackService {
 public:
  EntitlementService(const CallContext& context, domain::Entitlements& entitlements, domain::Accounts& accounts,
                     const domain::Access& access)
      : context_(context), entitlements_(entitlements), accounts_(accounts), access_(access) {}

  HABILIS_UNARY(ListAccountApplications);
  HABILIS_UNARY(CreateSubscription);
  HABILIS_UNARY(ListSubscriptions);
  HABILIS_UNARY(DeleteSubscription);
  HABILIS_UNARY(GrantHabilitation);
  HABILIS_UNARY(RevokeHabilitation);
  HABILIS_UNARY(ListHabilitations);
  HABILIS_UNARY(GrantDelegations);
  HABILIS_UNARY(RevokeDelegations);
  HABILIS_UNARY(ListDelegations);

 private:
  const CallContext& context_;
  domain::Entitlements& entitlements_;
  domain::Accounts& accounts_;
  const domain::Access& access_;
};

// The client-application API, served inline (see ServeInline).
class AccessService final : public v1::AccessService::CallbackService {
 public:
  AccessService(const CallContext& context, const domain::Access& access) : context_(context), access_(access) {
    SetMessageAllocatorFor_CheckAccess(&check_messages_);
    SetMessageAllocatorFor_BatchCheck(&batch_messages_);
  }

  HABILIS_UNARY(CheckAccess);
  HABILIS_UNARY(BatchCheck);
  HABILIS_UNARY(ListEntitlements);
  HABILIS_UNARY(LookupAccounts);

 private:
  const CallContext& context_;
  const domain::Access& access_;
  ArenaMessageAllocator<v1::CheckAccessRequest, v1::CheckAccessResponse> check_messages_;
  ArenaMessageAllocator<v1::BatchCheckRequest, v1::BatchCheckResponse> batch_messages_;
};

// AUDIT: the trail, read-only (nothing in the API edits or deletes it).
class AuditService final : public v1::AuditService::CallbackService {
 public:
  AuditService(const CallContext& context, const domain::AuditTrail& trail, ChangeNotifier& notifier)
      : context_(context), trail_(trail), notifier_(notifier) {}

  HABILIS_UNARY(ListAuditEntries);
  grpc::ServerWriteReactor<v1::WatchChangesResponse>* WatchChanges(grpc::CallbackServerContext* ctx,
                                                                   const v1::WatchChangesRequest* request) override;

 private:
  const CallContext& context_;
  const domain::AuditTrail& trail_;
  ChangeNotifier& notifier_;
};

class ImportStream;  // account_file_services.cc

// CSV-EXPORT and CSV-IMPORT: long streams, each on a thread of its own (bulk_calls.h).
// ImportAccounts takes its messages as bytes and parses them itself (undecodable_requests.h).
class AccountFileService final
    : public v1::AccountFileService::WithRawCallbackMethod_ImportAccounts<
          v1::AccountFileService::WithCallbackMethod_ExportAccounts<v1::AccountFileService::Service>> {
 public:
  AccountFileService(const CallContext& context, store::Store& store, const habilis::Clock& clock,
                     const domain::IdentityPolicy& policy, BulkWorkers& workers)
      : context_(context), store_(store), clock_(clock), policy_(policy), workers_(workers) {}

  grpc::ServerWriteReactor<v1::ExportAccountsResponse>* ExportAccounts(
      grpc::CallbackServerContext* ctx, const v1::ExportAccountsRequest* request) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ImportAccounts(
      grpc::CallbackServerContext* ctx) override;

 private:
  // One import, from its first message to its summary; returns how the stream ends.
  grpc::Status Import(ImportStream& stream, grpc::CallbackServerContext* ctx, StreamCall& call);
  const CallContext& context_;
  store::Store& store_;
  const habilis::Clock& clock_;
  const domain::IdentityPolicy& policy_;
  BulkWorkers& workers_;
};

#undef HABILIS_UNARY

// grpc.health.v1.Health, by service name: "" (the whole server) and every service the server registered.
// NOT_SERVING while the store cannot be read (every name), or while the access index has failed to apply a
// commit ("" and habilis.v1.AccessService, whose answers come from the index); SERVING otherwise.
class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  HealthService(const Gate& gate, store::Store& store, const domain::AccessIndex& index)
      : gate_(gate), store_(store), index_(index) {}
  // After the server: every Watch stream has ended.
  ~HealthService();

  // The services it answers for besides "": set once, after the server is built and before it serves.
  void SetServices(std::vector<std::string> services) { services_ = std::move(services); }

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                                  grpc::health::v1::HealthCheckResponse* resp) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req) override;

 private:
  class WatchStream;

  // The status of `service`, or nullopt for a name this server does not have.
  std::optional<grpc::health::v1::HealthCheckResponse::ServingStatus> StatusOf(absl::string_view service) const;
  // Each Watch stream is offered its service's status every kWatchPollInterval, on one thread started by the
  // first Watch; a stream writes only changes.
  void PollWatches();
  void Forget(WatchStream* stream);

  static constexpr absl::Duration kWatchPollInterval = absl::Seconds(1);

  // Whether the store answers a read, probed at most once per kStoreProbeInterval: load balancers probe every
  // node often, and on a shared database each probe would be a round trip, on a gRPC thread, for every call.
  bool StoreReadable() const;
  static constexpr absl::Duration kStoreProbeInterval = absl::Seconds(1);

  const Gate& gate_;
  store::Store& store_;
  const domain::AccessIndex& index_;
  std::vector<std::string> services_;
  mutable absl::Mutex probe_mu_;
  mutable absl::Time probed_at_ ABSL_GUARDED_BY(probe_mu_) = absl::InfinitePast();
  mutable bool probing_ ABSL_GUARDED_BY(probe_mu_) = false;
  mutable bool store_readable_ ABSL_GUARDED_BY(probe_mu_) = true;  // it was opened before the server started
  absl::Mutex watches_mu_;
  absl::flat_hash_set<WatchStream*> watches_ ABSL_GUARDED_BY(watches_mu_);
  bool stopping_ ABSL_GUARDED_BY(watches_mu_) = false;
  std::thread poller_;
};

}  // namespace habilis::api

#endif  // HABILIS_SERVER_API_SERVICES_H_
