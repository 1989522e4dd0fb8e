// Handlers of StructureService and OrgChartService.
#include "server/api/services.h"
#include "server/domain/kernel/resource_names.h"

namespace habilis::api {
namespace {

authz::Target StructureTarget(absl::string_view name) { return {.structure = domain::StructureSegment(name)}; }

}  // namespace

grpc::ServerUnaryReactor* StructureService::CreateStructure(grpc::CallbackServerContext* ctx,
                                                            const v1::CreateStructureRequest* req,
                                                            v1::CreateStructureResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, authz::Target{}, [this, req](const authz::Principal& caller, auto& out) {
    return WithToken(structures_.Create(caller, *req, out), out);
  });
}

grpc::ServerUnaryReactor* StructureService::GetStructure(grpc::CallbackServerContext* ctx,
                                                         const v1::GetStructureRequest* req,
                                                         v1::GetStructureResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, StructureTarget(req->name()),
                    [this, req](const authz::Principal&, auto& out) { return structures_.Get(*req, out); });
}

grpc::ServerUnaryReactor* StructureService::ListStructures(grpc::CallbackServerContext* ctx,
                                                           const v1::ListStructuresRequest* req,
                                                           v1::ListStructuresResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, authz::Target{},
                    [this, req](const authz::Principal&, auto& out) { return structures_.List(*req, out); });
}

grpc::ServerUnaryReactor* StructureService::UpdateStructure(grpc::CallbackServerContext* ctx,
                                                            const v1::UpdateStructureRequest* req,
                                                            v1::UpdateStructureResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, StructureTarget(req->structure().name()),
                    [this, req](const authz::Principal& caller, auto& out) {
                      return WithToken(structures_.Update(caller, *req, out), out);
                    });
}

grpc::ServerUnaryReactor* OrgChartService::CreateService(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateServiceRequest* req,
                                                         v1::CreateServiceResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, StructureTarget(req->parent()),
                    [this, req](const authz::Principal& caller, auto& out) {
                      return WithToken(org_chart_.CreateService(caller, *req, out), out);
                    });
}

grpc::ServerUnaryReactor* OrgChartService::GetService(grpc::CallbackServerContext* ctx,
                                                      const v1::GetServiceRequest* req, v1::GetServiceResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, StructureTarget(req->name()),
                    [this, req](const authz::Principal&, auto& out) { return org_chart_.GetService(*req, out); });
}

grpc::ServerUnaryReactor* OrgChartService::ListServices(grpc::CallbackServerContext* ctx,
                                                        const v1::ListServicesRequest* req,
                                                        v1::ListServicesResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, StructureTarget(req->parent()),
                    [this, req](const authz::Principal&, auto& out) { return org_chart_.ListServices(*req, out); });
}

grpc::ServerUnaryReactor* OrgChartService::UpdateService(grpc::CallbackServerContext* ctx,
                                                         const v1::UpdateServiceRequest* req,
                                                         v1::UpdateServiceResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, StructureTarget(req->service().name()),
                    [this, req](const authz::Principal& caller, auto& out) {
                      return WithToken(org_chart_.UpdateService(caller, *req, out), out);
                    });
}

grpc::ServerUnaryReactor* OrgChartService::MergeServices(grpc::CallbackServerContext* ctx,
                                                         const v1::MergeServicesRequest* req,
                                                         v1::MergeServicesResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, StructureTarget(req->parent()),
                    [this, req](const authz::Principal& caller, auto& out) {
                      return WithToken(org_chart_.MergeServices(caller, *req, out), out);
                    });
}

grpc::ServerUnaryReactor* OrgChartService::BatchDeleteServices(grpc::CallbackServerContext* ctx,
                                                               const v1::BatchDeleteServicesRequest* req,
                                                               v1::BatchDeleteServicesResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, StructureTarget(req->parent()),
                    [this, req](const authz::Principal& caller, auto& out) {
                      return WithToken(org_chart_.BatchDeleteServices(caller, *req, out), out);
                    });
}

grpc::ServerUnaryReactor* OrgChartService::GetServiceTree(grpc::CallbackServerContext* ctx,
                                                          const v1::GetServiceTreeRequest* req,
                                                          v1::GetServiceTreeResponse* resp) {
  return ServeUnary(context_, ctx, req, resp, StructureTarget(req->structure()),
                    [this, req](const authz::Principal&, auto& out) { return org_chart_.GetServiceTree(*req, out); });
}

}  // namespace habilis::api
