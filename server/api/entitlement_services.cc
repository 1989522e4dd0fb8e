// Handlers of EntitlementService and AccessService.
#include "server/api/login_alias.h"
#include "server/api/services.h"
#include "server/common/metrics.h"
#include "server/domain/kernel/resource_names.h"

namespace habilis::api {
namespace {

authz::Target StructureTarget(const std::string& name) { return {.structure = domain::StructureSegment(name)}; }

// The caller's application: the access API answers about it only.
absl::StatusOr<std::string> OwnApplication(const authz::Principal& caller) {
  if (caller.kind == authz::PrincipalKind::kApplication) return caller.id;
  return Error(absl::StatusCode::kPermissionDenied, "CLIENT_APPLICATIONS_ONLY",
               "the access API answers client applications, with their own API key");
}

// habilis_access_decisions_total{decision,reason}: every answer the checks gave, one counter per AccessReason.
metrics::IndexedCounters& Decisions() {
  static auto* counters = [] {
    std::vector<metrics::IndexedCounters::Labels> label_sets;
    const google::protobuf::EnumDescriptor* reasons = v1::AccessReason_descriptor();
    for (int number = 0; number <= reasons->value(reasons->value_count() - 1)->number(); ++number) {
      const google::protobuf::EnumValueDescriptor* reason = reasons->FindValueByNumber(number);
      label_sets.push_back({{"decision", number == v1::GRANTED ? "allow" : "deny"},
                            {"reason", reason != nullptr ? reason->name() : absl::StrCat(number)}});
    }
    return new metrics::IndexedCounters("habilis_access_decisions_total",
                                        "Access checks answered (CheckAccess and each check of a BatchCheck), by "
                                        "decision and reason",
                                        label_sets);
  }();
  return *counters;
}

}  // namespace

#define HABILIS_HANDLER(Service, Method)                                                                          \
  grpc::ServerUnaryReactor* Service::Method(grpc::CallbackServerContext* ctx, const v1::Method##Request* request, \
                                            v1::Method##Response* response)

HABILIS_HANDLER(EntitlementService, CreateSubscription) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->parent()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(entitlements_.CreateSubscription(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(EntitlementService, ListSubscriptions) {
  return ServeUnary(
      context_, ctx, request, response, StructureTarget(request->parent()),
      [this, request](const authz::Principal&, auto& out) { return entitlements_.ListSubscriptions(*request, out); });
}

HABILIS_HANDLER(EntitlementService, DeleteSubscription) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->name()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(entitlements_.DeleteSubscription(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(EntitlementService, GrantHabilitation) {
  auto aliased = Aliased(*request, &v1::GrantHabilitationRequest::mutable_account, request->structure());
  return ServeUnary(context_, ctx, request, response, AliasTarget(accounts_, aliased),
                    OnAliased(aliased, [this](const authz::Principal& caller,
                                              const v1::GrantHabilitationRequest& resolved, auto& out) {
                      return WithToken(entitlements_.GrantHabilitation(caller, resolved, out), out);
                    }));
}

HABILIS_HANDLER(EntitlementService, RevokeHabilitation) {
  auto aliased = Aliased(*request, &v1::RevokeHabilitationRequest::mutable_account, request->structure());
  return ServeUnary(context_, ctx, request, response, AliasTarget(accounts_, aliased),
                    OnAliased(aliased, [this](const authz::Principal& caller,
                                              const v1::RevokeHabilitationRequest& resolved, auto& out) {
                      return WithToken(entitlements_.RevokeHabilitation(caller, resolved, out), out);
                    }));
}

HABILIS_HANDLER(EntitlementService, ListAccountApplications) {
  auto aliased = Aliased(*request, &v1::ListAccountApplicationsRequest::mutable_account, request->structure());
  return ServeUnary(
      context_, ctx, request, response, AliasTarget(accounts_, aliased),
      OnAliased(aliased, [this](const authz::Principal& caller, const v1::ListAccountApplicationsRequest& resolved,
                                auto& out) { return access_.ListAccountApplications(caller, resolved, out); }));
}

HABILIS_HANDLER(EntitlementService, ListHabilitations) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->structure()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return entitlements_.ListHabilitations(caller, *request, out);
                    });
}

HABILIS_HANDLER(EntitlementService, GrantDelegations) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->structure()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(entitlements_.GrantDelegations(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(EntitlementService, RevokeDelegations) {
  return ServeUnary(context_, ctx, request, response, StructureTarget(request->structure()),
                    [this, request](const authz::Principal& caller, auto& out) {
                      return WithToken(entitlements_.RevokeDelegations(caller, *request, out), out);
                    });
}

HABILIS_HANDLER(EntitlementService, ListDelegations) {
  authz::Target target = StructureTarget(request->structure());
  target.account = domain::ParseAccountName(request->account()).value_or("");
  return ServeUnary(
      context_, ctx, request, response, std::move(target),
      [this, request](const authz::Principal&, auto& out) { return entitlements_.ListDelegations(*request, out); });
}

HABILIS_HANDLER(AccessService, CheckAccess) {
  return ServeInline(context_, ctx, request, response, authz::Target{},
                     [this, request](const authz::Principal& caller, auto& out) -> absl::Status {
                       absl::StatusOr<std::string> application = OwnApplication(caller);
                       if (!application.ok()) return application.status();
                       absl::Status checked = access_.Check(*application, *request, out);
                       if (checked.ok()) Decisions().Increment(out.reason());
                       return checked;
                     });
}

HABILIS_HANDLER(AccessService, BatchCheck) {
  return ServeInline(context_, ctx, request, response, authz::Target{},
                     [this, request](const authz::Principal& caller, auto& out) -> absl::Status {
                       absl::StatusOr<std::string> application = OwnApplication(caller);
                       if (!application.ok()) return application.status();
                       absl::Status checked = access_.BatchCheck(*application, *request, out);
                       if (checked.ok()) {
                         for (const v1::CheckAccessResponse& result : out.results()) {
                           Decisions().Increment(result.reason());
                         }
                       }
                       return checked;
                     });
}

HABILIS_HANDLER(AccessService, ListEntitlements) {
  return ServeInline(context_, ctx, request, response, authz::Target{},
                     [this, request](const authz::Principal& caller, auto& out) -> absl::Status {
                       absl::StatusOr<std::string> application = OwnApplication(caller);
                       if (!application.ok()) return application.status();
                       return access_.ListEntitlements(*application, *request, out);
                     });
}

HABILIS_HANDLER(AccessService, LookupAccounts) {
  return ServeInline(context_, ctx, request, response, authz::Target{},
                     [this, request](const authz::Principal& caller, auto& out) -> absl::Status {
                       absl::StatusOr<std::string> application = OwnApplication(caller);
                       if (!application.ok()) return application.status();
                       return access_.LookupAccounts(*application, *request, out);
                     });
}

#undef HABILIS_HANDLER

}  // namespace habilis::api
