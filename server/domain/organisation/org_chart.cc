#include "server/domain/organisation/org_chart.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "habilis/v1/applications.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/commands/mutation.h"
#include "server/domain/kernel/existence.h"
#include "server/domain/kernel/identifiers.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

constexpr absl::string_view kParentFormat = "must be structures/{siret} with a 14-digit SIRET";

// The services of one structure, loaded whole: org charts hold tens to hundreds of services.
class Chart {
 public:
  static absl::StatusOr<Chart> Load(store::Reader& reader, absl::string_view siret) {
    Chart chart;
    chart.siret_ = std::string(siret);
    absl::Status parse_status;
    RETURN_IF_ERROR(
        store::ScanPrefix(reader, store::ServicePrefix(siret), [&](absl::string_view key, absl::string_view value) {
          v1::Service service;
          if (!service.ParseFromString(std::string(value))) {
            parse_status = absl::DataLossError("a stored service does not parse");
            return false;
          }
          chart.services_.emplace(store::SecondComponent(key), std::move(service));
          return true;
        }));
    RETURN_IF_ERROR(parse_status);
    return chart;
  }

  const std::map<std::string, v1::Service>& services() const { return services_; }
  const v1::Service* Find(absl::string_view id) const {
    auto it = services_.find(std::string(id));
    return it == services_.end() ? nullptr : &it->second;
  }
  // Service id of the parent of `id`; "" for the root level.
  std::string ParentId(absl::string_view id) const {
    const v1::Service* service = Find(id);
    if (service == nullptr || service->parent().empty()) return "";
    std::optional<ServiceName> parent = ParseServiceName(service->parent());
    return parent ? parent->service_id : "";
  }
  bool IsDescendant(absl::string_view id, absl::string_view ancestor) const {
    for (std::string cur = ParentId(id); !cur.empty(); cur = ParentId(cur)) {
      if (cur == ancestor) return true;
    }
    return false;
  }
  std::vector<std::string> Children(absl::string_view id) const {
    std::vector<std::string> children;
    for (const auto& [child_id, service] : services_) {
      if (ParentId(child_id) == id) children.push_back(child_id);
    }
    return children;
  }

 private:
  std::string siret_;
  std::map<std::string, v1::Service> services_;
};

absl::Status ServiceNotFound(absl::string_view name) {
  return Error(absl::StatusCode::kNotFound, "SERVICE_NOT_FOUND", absl::StrCat("service ", name, " does not exist"));
}

// Identifiers that look alike are one identifier (identifiers.h): a name that looks like another service's
// is taken, as the same name is. The chart is read under the structure's guard, so two look-alikes created
// at once conflict.
absl::Status NoLookalike(const Chart& chart, absl::string_view display_name, absl::string_view except_id) {
  const std::string skeleton = ConfusableSkeleton(display_name);
  for (const auto& [id, service] : chart.services()) {
    if (id != except_id && ConfusableSkeleton(service.display_name()) == skeleton) {
      return Error(absl::StatusCode::kAlreadyExists, "SERVICE_NAME_CONFUSABLE",
                   absl::StrCat("'", display_name, "' looks like the existing service '", service.display_name(),
                                "'; choose a name that reads differently"));
    }
  }
  return absl::OkStatus();
}

// A service name as stored: NFKC without invisible characters (identifiers.h), spaces normalised.
absl::StatusOr<std::string> ServiceDisplayName(absl::string_view input, absl::string_view field) {
  ASSIGN_OR_RETURN(std::string normalized, NormalizeIdentifier(input, field));
  return NormalizeSpaces(normalized);
}

absl::Status NameTaken(absl::string_view display_name) {
  return Error(absl::StatusCode::kAlreadyExists, "SERVICE_NAME_TAKEN",
               absl::StrCat("the structure already has a service named '", display_name,
                            "' (names are compared ignoring case)"));
}

// Parses the repeated `field` as distinct services of structure `siret`, adding violations for bad entries.
std::set<std::string> ServiceIdsIn(FieldViolations& violations, absl::string_view field,
                                   const google::protobuf::RepeatedPtrField<std::string>& names,
                                   absl::string_view siret) {
  std::set<std::string> ids;
  for (int i = 0; i < names.size(); ++i) {
    std::string entry = absl::StrCat(field, "[", i, "]");
    if (names[i].empty()) {
      violations.Add(entry, "REQUIRED", "name a service");
      continue;
    }
    std::optional<std::string> id = ServiceOfStructure(violations, entry, names[i], siret);
    if (id && !ids.insert(*id).second) violations.Add(entry, "DUPLICATE", "names a service already listed");
  }
  return ids;
}

// Deletes service `id` and frees its name.
absl::Status Remove(store::Transaction& txn, absl::string_view siret, const Chart& chart, const std::string& id) {
  RETURN_IF_ERROR(txn.Delete(store::ServiceKey(siret, id)));
  return txn.Delete(store::ServiceNameKey(siret, FoldName(chart.Find(id)->display_name())));
}

void CheckServiceFields(FieldViolations& violations, const v1::Service& service) {
  CheckText(violations, "service.display_name", service.display_name(), 200, true);
  CheckText(violations, "service.service_type", service.service_type(), 100, false);
  if (!service.application().empty() && !ParseApplicationName(service.application())) {
    violations.Add("service.application", "NAME_FORMAT", "must be applications/{application}");
  }
}

// Seed 000 «Je sélectionne l'application cliente … le type de service concerne uniquement l'application
// FICOBA»: a service created for an application needs the structure to subscribe to it, and takes one of the
// service types the application declares (spelt as the application spells it). Without an application, or
// when the application declares none, the type is free text.
absl::Status TypeForApplication(store::Reader& reader, absl::string_view siret, v1::Service& service) {
  if (service.application().empty()) return absl::OkStatus();
  const std::string application_id = ParseApplicationName(service.application()).value_or("");
  ASSIGN_OR_RETURN(bool subscribed, Exists(reader, store::SubscriptionKey(siret, application_id)));
  if (!subscribed) {
    return Error(absl::StatusCode::kFailedPrecondition, "NOT_SUBSCRIBED",
                 absl::StrCat("the structure does not subscribe to application ", application_id));
  }
  v1::Application application;
  RETURN_IF_ERROR(LoadRecord(reader, store::ApplicationKey(application_id), application, "APPLICATION_NOT_FOUND",
                             absl::StrCat("application ", application_id, " does not exist")));
  if (application.service_types().empty()) return absl::OkStatus();
  for (const std::string& type : application.service_types()) {
    if (FoldName(type) == FoldName(service.service_type())) {
      service.set_service_type(type);
      return absl::OkStatus();
    }
  }
  return InvalidField("service.service_type", "SERVICE_TYPE_NOT_OFFERED",
                      absl::StrCat("a service for ", application.display_name(),
                                   " has one of these types: ", absl::StrJoin(application.service_types(), ", ")));
}

// Writes `service` (with fresh update time and etag) under its key.
absl::Status Save(store::Transaction& txn, absl::string_view siret, absl::string_view id, v1::Service& service,
                  absl::Time now) {
  SetTimestamp(now, service.mutable_update_time());
  service.set_etag(ComputeEtag(service));
  return StoreRecord(txn, store::ServiceKey(siret, id), service);
}

// Accounts attached to each service of the structure ("" for the root level).
absl::StatusOr<std::map<std::string, int>> AccountCounts(store::Reader& reader, absl::string_view siret,
                                                         const Chart& chart) {
  std::map<std::string, int> counts;
  for (const auto& [id, service] : chart.services()) {
    ASSIGN_OR_RETURN(std::vector<std::string> members, ServiceMembers(reader, siret, id, SIZE_MAX));
    counts[id] = static_cast<int>(members.size());
  }
  ASSIGN_OR_RETURN(std::vector<std::string> root, ServiceMembers(reader, siret, "", SIZE_MAX));
  counts[""] = static_cast<int>(root.size());
  return counts;
}

void AddNode(const Chart& chart, const std::map<std::string, int>& accounts, const std::string& id,
             v1::ServiceNode* node) {
  *node->mutable_service() = *chart.Find(id);
  node->set_account_count(accounts.at(id));
  int subtree_accounts = accounts.at(id);
  std::vector<std::string> children = chart.Children(id);
  std::sort(children.begin(), children.end(), [&](const std::string& a, const std::string& b) {
    return FoldName(chart.Find(a)->display_name()) < FoldName(chart.Find(b)->display_name());
  });
  int descendants = 0;
  for (const std::string& child : children) {
    v1::ServiceNode* child_node = node->add_children();
    AddNode(chart, accounts, child, child_node);
    descendants += 1 + child_node->descendant_count();
    subtree_accounts += child_node->subtree_account_count();
  }
  node->set_descendant_count(descendants);
  node->set_subtree_account_count(subtree_accounts);
}

// SVC-RENAME: what an UpdateService request changes, checked before the store is read.
struct ServiceUpdate {
  bool set_name = false, set_type = false, set_parent = false;
  std::string display_name;                  // normalized, when set_name
  std::optional<std::string> new_parent_id;  // when set_parent: nullopt moves the service to the root level
};

// The fields an update mask names (all with "*"); without a mask, the fields the service sets.
absl::Status ReadUpdateMask(const v1::UpdateServiceRequest& request, ServiceUpdate& update) {
  const v1::Service& in = request.service();
  if (request.update_mask().paths().empty()) {
    update.set_name = !in.display_name().empty();
    update.set_type = !in.service_type().empty();
    update.set_parent = !in.parent().empty();
    return absl::OkStatus();
  }
  for (const std::string& path : request.update_mask().paths()) {
    const bool all = path == "*";
    if (!all && path != "display_name" && path != "service_type" && path != "parent") {
      return InvalidField("update_mask", "FIELD_NOT_UPDATABLE",
                          absl::StrCat("'", path, "' cannot be updated; allowed: display_name, service_type, parent"));
    }
    update.set_name |= all || path == "display_name";
    update.set_type |= all || path == "service_type";
    update.set_parent |= all || path == "parent";
  }
  return absl::OkStatus();
}

absl::StatusOr<ServiceUpdate> ParseServiceUpdate(const v1::UpdateServiceRequest& request, const ServiceName& name) {
  const v1::Service& in = request.service();
  ServiceUpdate update;
  RETURN_IF_ERROR(ReadUpdateMask(request, update));
  FieldViolations violations;
  if (update.set_name) CheckText(violations, "service.display_name", in.display_name(), 200, true);
  if (update.set_type) CheckText(violations, "service.service_type", in.service_type(), 100, false);
  if (update.set_parent && !in.parent().empty()) {
    update.new_parent_id = ServiceOfStructure(violations, "service.parent", in.parent(), name.siret);
    if (update.new_parent_id && *update.new_parent_id == name.service_id) {
      violations.Add("service.parent", "PARENT_IS_SELF", "a service cannot be its own parent");
    }
  }
  RETURN_IF_ERROR(violations.ToStatus());
  if (update.set_name) {
    ASSIGN_OR_RETURN(update.display_name, ServiceDisplayName(in.display_name(), "service.display_name"));
  }
  return update;
}

// Renames `service` (id `id`) to `display_name`, moving its unique-name key.
absl::Status RenameService(store::Transaction& txn, const Chart& chart, absl::string_view siret, absl::string_view id,
                           const std::string& display_name, v1::Service& service) {
  const std::string old_key = store::ServiceNameKey(siret, FoldName(service.display_name()));
  const std::string new_key = store::ServiceNameKey(siret, FoldName(display_name));
  if (new_key != old_key) {
    ASSIGN_OR_RETURN(bool taken, Exists(txn, new_key));
    if (taken) return NameTaken(display_name);
    RETURN_IF_ERROR(NoLookalike(chart, display_name, id));
    RETURN_IF_ERROR(txn.Delete(old_key));
    RETURN_IF_ERROR(txn.Put(new_key, std::string(id)));
  }
  service.set_display_name(display_name);
  return absl::OkStatus();
}

// Moves `service` (id `id`) under `parent_id`, or to the root level; never under itself.
absl::Status MoveService(const Chart& chart, absl::string_view siret, const std::string& id,
                         const std::optional<std::string>& parent_id, absl::string_view parent_name,
                         v1::Service& service) {
  if (!parent_id) {
    service.clear_parent();
    return absl::OkStatus();
  }
  if (chart.Find(*parent_id) == nullptr) return ServiceNotFound(parent_name);
  if (chart.IsDescendant(*parent_id, id)) {
    return Error(absl::StatusCode::kFailedPrecondition, "SERVICE_CYCLE",
                 "a service cannot move under one of its own sub-services");
  }
  service.set_parent(ServiceResourceName(siret, *parent_id));
  return absl::OkStatus();
}

// SVC-MERGE, in the store. The rules come first (three services, one left out of the selection), then the
// shape of the request (two sources, a target apart from them): a request a rule forbids says so, whatever
// its shape.
absl::Status CheckMerge(const Chart& chart, absl::string_view siret, const std::set<std::string>& sources,
                        const std::string& target, absl::string_view target_name) {
  if (chart.services().size() < 3) {
    return Error(absl::StatusCode::kFailedPrecondition, "MERGE_NEEDS_THREE_SERVICES",
                 "a merge needs a structure with at least three services");
  }
  for (const std::string& id : sources) {
    if (chart.Find(id) == nullptr) return ServiceNotFound(ServiceResourceName(siret, id));
  }
  // The sources exist: as many as the services means every one, whichever the target.
  if (sources.size() >= chart.services().size()) {
    return Error(absl::StatusCode::kFailedPrecondition, "MERGE_SELECTS_EVERY_SERVICE",
                 "every service of the structure is selected; leave one out as the target");
  }
  if (sources.size() < 2) {
    return InvalidField("sources", "MERGE_NEEDS_TWO_SOURCES", "select at least two services to merge");
  }
  if (sources.contains(target)) {
    return InvalidField("target", "MERGE_TARGET_IS_SOURCE", "the target cannot be one of the merged services");
  }
  if (chart.Find(target) == nullptr) return ServiceNotFound(target_name);
  return absl::OkStatus();
}

// The sub-services of the sources hang under the target from now on.
absl::Status AdoptChildren(store::Transaction& txn, const Chart& chart, absl::string_view siret,
                           const std::set<std::string>& sources, const std::string& target, absl::Time now,
                           v1::MergeServicesResponse& response) {
  const std::string target_name = ServiceResourceName(siret, target);
  for (const auto& [id, service] : chart.services()) {
    if (sources.contains(id) || id == target || !sources.contains(chart.ParentId(id))) continue;
    v1::Service moved = service;
    moved.set_parent(target_name);
    RETURN_IF_ERROR(Save(txn, siret, id, moved, now));
    response.add_moved_services(moved.name());
  }
  return absl::OkStatus();
}

// A target below a source climbs to the nearest ancestor that survives. Returns the target as it stands.
absl::StatusOr<v1::Service> LiftTarget(store::Transaction& txn, const Chart& chart, absl::string_view siret,
                                       const std::set<std::string>& sources, const std::string& target,
                                       absl::Time now) {
  v1::Service target_service = *chart.Find(target);
  std::string ancestor = chart.ParentId(target);
  while (sources.contains(ancestor)) ancestor = chart.ParentId(ancestor);
  if (ancestor == chart.ParentId(target)) return target_service;
  if (ancestor.empty()) {
    target_service.clear_parent();
  } else {
    target_service.set_parent(ServiceResourceName(siret, ancestor));
  }
  RETURN_IF_ERROR(Save(txn, siret, target, target_service, now));
  return target_service;
}

// The accounts of the sources join the target.
absl::Status MoveMembers(store::Transaction& txn, absl::string_view siret, const std::set<std::string>& sources,
                         const std::string& target, v1::MergeServicesResponse& response) {
  const std::string target_name = ServiceResourceName(siret, target);
  for (const std::string& id : sources) {
    ASSIGN_OR_RETURN(std::vector<std::string> members, ServiceMembers(txn, siret, id, SIZE_MAX));
    for (const std::string& account_id : members) {
      ASSIGN_OR_RETURN(std::optional<v1::Membership> membership, MembershipIn(txn, siret, account_id));
      if (!membership) return absl::DataLossError("a service member index points to no membership");
      v1::Membership moved = *membership;
      moved.set_service(target_name);
      RETURN_IF_ERROR(PutMembership(txn, account_id, moved, &*membership));
      response.add_moved_accounts(AccountName(account_id));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<store::Revision> OrgChart::CreateService(const authz::Principal& caller,
                                                        const v1::CreateServiceRequest& request,
                                                        v1::CreateServiceResponse& response) {
  FieldViolations violations;
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) violations.Add("parent", "NAME_FORMAT", kParentFormat);
  CheckServiceFields(violations, request.service());
  std::optional<std::string> parent_id;
  if (siret && !request.service().parent().empty()) {
    parent_id = ServiceOfStructure(violations, "service.parent", request.service().parent(), *siret);
  }
  if (!request.service_id().empty() && !IsValidResourceId(request.service_id())) {
    violations.Add("service_id", "ID_FORMAT", "must be 1 to 63 of [a-z0-9-], starting with a letter");
  }
  RETURN_IF_ERROR(violations.ToStatus());
  ASSIGN_OR_RETURN(std::string display_name,
                   ServiceDisplayName(request.service().display_name(), "service.display_name"));

  const std::string id = request.service_id().empty() ? absl::StrCat("s", RandomHex(6)) : request.service_id();
  v1::Service service;
  service.set_name(ServiceResourceName(*siret, id));
  service.set_display_name(display_name);
  service.set_service_type(NormalizeSpaces(request.service().service_type()));
  service.set_application(request.service().application());
  if (parent_id) service.set_parent(ServiceResourceName(*siret, *parent_id));
  absl::Time now = clock_.Now();
  SetTimestamp(now, service.mutable_create_time());

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(StructureMustExist(txn, *siret));
                       RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(*siret)));
                       if (parent_id) {
                         ASSIGN_OR_RETURN(bool parent_exists, Exists(txn, store::ServiceKey(*siret, *parent_id)));
                         if (!parent_exists) return ServiceNotFound(service.parent());
                       }
                       ASSIGN_OR_RETURN(bool id_taken, Exists(txn, store::ServiceKey(*siret, id)));
                       if (id_taken) {
                         return Error(absl::StatusCode::kAlreadyExists, "SERVICE_ID_TAKEN",
                                      absl::StrCat("service ", service.name(), " already exists"));
                       }
                       const std::string name_key = store::ServiceNameKey(*siret, FoldName(service.display_name()));
                       ASSIGN_OR_RETURN(bool name_taken, Exists(txn, name_key));
                       if (name_taken) return NameTaken(service.display_name());
                       ASSIGN_OR_RETURN(Chart chart, Chart::Load(txn, *siret));
                       RETURN_IF_ERROR(NoLookalike(chart, service.display_name(), id));
                       RETURN_IF_ERROR(txn.Put(name_key, id));
                       v1::Service saved = service;
                       RETURN_IF_ERROR(TypeForApplication(txn, *siret, saved));
                       RETURN_IF_ERROR(Save(txn, *siret, id, saved, now));
                       *response.mutable_service() = saved;
                       return absl::OkStatus();
                     });
}

absl::Status OrgChart::GetService(const v1::GetServiceRequest& request, v1::GetServiceResponse& response) {
  std::optional<ServiceName> name = ParseServiceName(request.name());
  if (!name) return InvalidField("name", "NAME_FORMAT", "must be structures/{siret}/services/{service}");
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        RETURN_IF_ERROR(StructureMustExist(reader, name->siret));
        absl::Status loaded = LoadRecord(reader, store::ServiceKey(name->siret, name->service_id),
                                         *response.mutable_service(), "SERVICE_NOT_FOUND", "");
        if (absl::IsNotFound(loaded)) return ServiceNotFound(request.name());
        return loaded;
      })
      .status();
}

absl::Status OrgChart::ListServices(const v1::ListServicesRequest& request, v1::ListServicesResponse& response) {
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", kParentFormat);
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        RETURN_IF_ERROR(StructureMustExist(reader, *siret));
        return ReadPage(
            reader, store::ServicePrefix(*siret), request.page_size(), request.page_token(),
            [&](absl::string_view) { return response.add_services(); }, response.mutable_next_page_token());
      })
      .status();
}

absl::StatusOr<store::Revision> OrgChart::UpdateService(const authz::Principal& caller,
                                                        const v1::UpdateServiceRequest& request,
                                                        v1::UpdateServiceResponse& response) {
  const v1::Service& in = request.service();
  std::optional<ServiceName> name = ParseServiceName(in.name());
  if (!name) return InvalidField("service.name", "NAME_FORMAT", "must be structures/{siret}/services/{service}");
  ASSIGN_OR_RETURN(const ServiceUpdate update, ParseServiceUpdate(request, *name));
  const std::string& siret = name->siret;
  const std::string& id = name->service_id;
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(StructureMustExist(txn, siret));
                       RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(siret)));
                       ASSIGN_OR_RETURN(Chart chart, Chart::Load(txn, siret));
                       const v1::Service* current = chart.Find(id);
                       if (current == nullptr) return ServiceNotFound(in.name());
                       if (!in.etag().empty() && in.etag() != current->etag()) {
                         return Error(absl::StatusCode::kAborted, "ETAG_MISMATCH",
                                      "the service changed since it was read; read it again and retry");
                       }
                       v1::Service service = *current;
                       if (update.set_name) {
                         RETURN_IF_ERROR(RenameService(txn, chart, siret, id, update.display_name, service));
                       }
                       if (update.set_type) {
                         service.set_service_type(NormalizeSpaces(in.service_type()));
                         RETURN_IF_ERROR(TypeForApplication(txn, siret, service));
                       }
                       if (update.set_parent) {
                         RETURN_IF_ERROR(MoveService(chart, siret, id, update.new_parent_id, in.parent(), service));
                       }
                       RETURN_IF_ERROR(Save(txn, siret, id, service, clock_.Now()));
                       *response.mutable_service() = service;
                       return absl::OkStatus();
                     });
}

absl::StatusOr<store::Revision> OrgChart::MergeServices(const authz::Principal& caller,
                                                        const v1::MergeServicesRequest& request,
                                                        v1::MergeServicesResponse& response) {
  FieldViolations violations;
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", kParentFormat);
  std::set<std::string> sources = ServiceIdsIn(violations, "sources", request.sources(), *siret);
  if (request.sources().empty()) violations.Add("sources", "REQUIRED", "select the services to merge");
  std::optional<std::string> target;
  if (request.target().empty()) {
    violations.Add("target", "REQUIRED", "name the service that receives the merged services");
  } else {
    target = ServiceOfStructure(violations, "target", request.target(), *siret);
  }
  RETURN_IF_ERROR(violations.ToStatus());
  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(StructureMustExist(txn, *siret));
                       RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(*siret)));
                       ASSIGN_OR_RETURN(Chart chart, Chart::Load(txn, *siret));
                       RETURN_IF_ERROR(CheckMerge(chart, *siret, sources, *target, request.target()));
                       const absl::Time now = clock_.Now();
                       RETURN_IF_ERROR(AdoptChildren(txn, chart, *siret, sources, *target, now, response));
                       ASSIGN_OR_RETURN(*response.mutable_target(),
                                        LiftTarget(txn, chart, *siret, sources, *target, now));
                       RETURN_IF_ERROR(MoveMembers(txn, *siret, sources, *target, response));
                       for (const std::string& id : sources) {
                         RETURN_IF_ERROR(Remove(txn, *siret, chart, id));
                         response.add_removed_services(ServiceResourceName(*siret, id));
                       }
                       return absl::OkStatus();
                     });
}

absl::StatusOr<store::Revision> OrgChart::BatchDeleteServices(const authz::Principal& caller,
                                                              const v1::BatchDeleteServicesRequest& request,
                                                              v1::BatchDeleteServicesResponse& response) {
  FieldViolations violations;
  std::optional<std::string> siret = ParseStructureName(request.parent());
  if (!siret) return InvalidField("parent", "NAME_FORMAT", kParentFormat);
  std::set<std::string> doomed = ServiceIdsIn(violations, "names", request.names(), *siret);
  if (request.names().empty()) violations.Add("names", "REQUIRED", "name at least one service to delete");
  RETURN_IF_ERROR(violations.ToStatus());

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       RETURN_IF_ERROR(StructureMustExist(txn, *siret));
                       RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(*siret)));
                       ASSIGN_OR_RETURN(Chart chart, Chart::Load(txn, *siret));
                       for (const std::string& id : doomed) {
                         if (chart.Find(id) == nullptr) return ServiceNotFound(ServiceResourceName(*siret, id));
                       }
                       for (const std::string& id : doomed) {
                         for (const std::string& child : chart.Children(id)) {
                           if (doomed.contains(child)) continue;  // deleted in the same request
                           return Error(absl::StatusCode::kFailedPrecondition, "SERVICE_HAS_CHILDREN",
                                        absl::StrCat("service ", ServiceResourceName(*siret, id),
                                                     " still has the sub-service ", ServiceResourceName(*siret, child),
                                                     "; move or delete it first, or delete both together"));
                         }
                       }
                       for (const std::string& id : doomed) {
                         ASSIGN_OR_RETURN(std::vector<std::string> members, ServiceMembers(txn, *siret, id, 1));
                         if (!members.empty()) {
                           return Error(absl::StatusCode::kFailedPrecondition, "SERVICE_HAS_ACCOUNTS",
                                        absl::StrCat("service ", ServiceResourceName(*siret, id),
                                                     " still has accounts; transfer them to another service first"));
                         }
                       }
                       for (const std::string& id : doomed) {
                         RETURN_IF_ERROR(Remove(txn, *siret, chart, id));
                         response.add_deleted_services(ServiceResourceName(*siret, id));
                       }
                       return absl::OkStatus();
                     });
}

absl::Status OrgChart::GetServiceTree(const v1::GetServiceTreeRequest& request, v1::GetServiceTreeResponse& response) {
  std::optional<std::string> siret = ParseStructureName(request.structure());
  if (!siret) return InvalidField("structure", "NAME_FORMAT", kParentFormat);
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        RETURN_IF_ERROR(StructureMustExist(reader, *siret));
        ASSIGN_OR_RETURN(Chart chart, Chart::Load(reader, *siret));
        ASSIGN_OR_RETURN(auto accounts, AccountCounts(reader, *siret, chart));
        v1::ServiceNode root;
        int total = accounts[""];
        for (const std::string& id : chart.Children("")) {
          v1::ServiceNode* node = root.add_children();
          AddNode(chart, accounts, id, node);
          total += node->subtree_account_count();
        }
        response.set_root_account_count(accounts[""]);
        response.set_account_count(total);
        std::sort(root.mutable_children()->begin(), root.mutable_children()->end(),
                  [](const v1::ServiceNode& a, const v1::ServiceNode& b) {
                    return FoldName(a.service().display_name()) < FoldName(b.service().display_name());
                  });
        response.mutable_roots()->Swap(root.mutable_children());
        response.set_service_count(static_cast<int>(chart.services().size()));
        return absl::OkStatus();
      })
      .status();
}

}  // namespace habilis::domain
