#include "server/domain/organisation/memberships.h"

#include "habilis/internal/records.pb.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "store/keyspace.h"

namespace habilis::domain {

std::string ServiceIdOf(const v1::Membership& membership) {
  if (membership.service().empty()) return "";
  std::optional<ServiceName> name = ParseServiceName(membership.service());
  return name ? name->service_id : "";
}

std::string SiretOf(const v1::Membership& membership) {
  return ParseStructureName(membership.structure()).value_or("");
}

bool Suspended(const v1::Membership& membership) { return membership.has_suspend_time(); }

void KeepSuspension(const v1::Membership& previous, v1::Membership& changed) {
  if (Suspended(previous)) *changed.mutable_suspend_time() = previous.suspend_time();
}

namespace {

// A membership is in two ranges that rules decide on: the structure's members (nothing attached to a deleted
// service, the last administrator) and the account's structures (deletion). Every writer of a membership
// bumps both guards, so no caller can forget; unwatched, since the writer's own decision rests on the keys it
// reads. Whoever decides on one of the ranges touches its guard (store/KEYSPACE.md, "Rules on ranges").
absl::Status BumpMembershipGuards(store::Transaction& txn, absl::string_view siret, absl::string_view account_id) {
  RETURN_IF_ERROR(txn.ProtectRange(store::StructureGuardKey(siret)));
  return txn.ProtectRange(store::AccountGuardKey(account_id));
}

}  // namespace

absl::Status PutMembership(store::Transaction& txn, absl::string_view account_id, const v1::Membership& membership,
                           const v1::Membership* previous) {
  const std::string siret = SiretOf(membership);
  if (previous != nullptr) RETURN_IF_ERROR(DeleteMembership(txn, account_id, *previous));
  RETURN_IF_ERROR(BumpMembershipGuards(txn, siret, account_id));
  RETURN_IF_ERROR(StoreRecord(txn, store::MembershipKey(siret, account_id), membership));
  RETURN_IF_ERROR(txn.Put(store::AccountMembershipKey(account_id, siret), ""));
  RETURN_IF_ERROR(txn.Put(store::ServiceMemberKey(siret, ServiceIdOf(membership), account_id), ""));
  if (membership.role() == v1::ADMINISTRATOR) RETURN_IF_ERROR(txn.Put(store::StructureAdminKey(siret, account_id), ""));
  return absl::OkStatus();
}

absl::Status DeleteMembership(store::Transaction& txn, absl::string_view account_id, const v1::Membership& membership) {
  const std::string siret = SiretOf(membership);
  RETURN_IF_ERROR(BumpMembershipGuards(txn, siret, account_id));
  RETURN_IF_ERROR(txn.Delete(store::MembershipKey(siret, account_id)));
  RETURN_IF_ERROR(txn.Delete(store::AccountMembershipKey(account_id, siret)));
  RETURN_IF_ERROR(txn.Delete(store::ServiceMemberKey(siret, ServiceIdOf(membership), account_id)));
  return txn.Delete(store::StructureAdminKey(siret, account_id));
}

absl::StatusOr<std::vector<v1::Membership>> MembershipsOf(store::Reader& reader, absl::string_view account_id) {
  std::vector<std::string> sirets;
  const std::string prefix = store::AccountMembershipPrefix(account_id);
  RETURN_IF_ERROR(store::ScanPrefix(reader, prefix, [&](absl::string_view key, absl::string_view) {
    sirets.push_back(store::LastComponent(key, prefix));
    return true;
  }));
  std::vector<v1::Membership> memberships;
  for (const std::string& siret : sirets) {
    RETURN_IF_ERROR(LoadRecord(reader, store::MembershipKey(siret, account_id), memberships.emplace_back(),
                               "MEMBERSHIP_NOT_FOUND", "a membership index points nowhere"));
  }
  return memberships;
}

absl::StatusOr<std::optional<v1::Membership>> MembershipIn(store::Reader& reader, absl::string_view siret,
                                                           absl::string_view account_id) {
  v1::Membership membership;
  absl::Status loaded = LoadRecord(reader, store::MembershipKey(siret, account_id), membership, "", "");
  if (absl::IsNotFound(loaded)) return std::nullopt;
  RETURN_IF_ERROR(loaded);
  return membership;
}

absl::StatusOr<std::vector<std::string>> ServiceMembers(store::Reader& reader, absl::string_view siret,
                                                        absl::string_view service_id, size_t limit) {
  std::vector<std::string> ids;
  const std::string prefix = store::ServiceMemberPrefix(siret, service_id);
  RETURN_IF_ERROR(store::ScanPrefix(reader, prefix, [&](absl::string_view key, absl::string_view) {
    ids.push_back(store::LastComponent(key, prefix));
    return ids.size() < limit;
  }));
  return ids;
}

absl::StatusOr<int> ActiveAdministrators(store::Reader& reader, absl::string_view siret) {
  std::vector<std::string> ids;
  const std::string prefix = store::StructureAdminPrefix(siret);
  RETURN_IF_ERROR(store::ScanPrefix(reader, prefix, [&](absl::string_view key, absl::string_view) {
    ids.push_back(store::LastComponent(key, prefix));
    return true;
  }));
  int active = 0;
  for (const std::string& id : ids) {
    internal::AccountRecord record;
    absl::Status loaded = LoadRecord(reader, store::AccountKey(id), record, "", "");
    if (absl::IsNotFound(loaded)) continue;
    RETURN_IF_ERROR(loaded);
    if (record.account().state() != v1::Account::ACTIVE) continue;
    ASSIGN_OR_RETURN(std::optional<v1::Membership> membership, MembershipIn(reader, siret, id));
    if (membership && !Suspended(*membership)) ++active;
  }
  return active;
}

absl::Status KeepsAnAdministrator(store::Transaction& txn, absl::string_view siret, int before) {
  if (before == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(int after, ActiveAdministrators(txn, siret));
  if (after > 0) return absl::OkStatus();
  return Error(absl::StatusCode::kFailedPrecondition, "LAST_ADMINISTRATOR",
               "this change would leave the structure without an active administrator; name another first");
}

authz::Membership ToAuthz(const v1::Membership& membership) {
  authz::Role role = membership.role() == v1::ADMINISTRATOR ? authz::Role::kAdministrator
                     : membership.role() == v1::RESPONSABLE ? authz::Role::kResponsable
                                                            : authz::Role::kCollaborator;
  return {SiretOf(membership), role, ServiceIdOf(membership)};
}

std::vector<authz::Membership> ToAuthz(const std::vector<v1::Membership>& memberships) {
  std::vector<authz::Membership> out;
  for (const v1::Membership& m : memberships) out.push_back(ToAuthz(m));
  return out;
}

std::vector<authz::Membership> ActingMemberships(const std::vector<v1::Membership>& memberships) {
  std::vector<authz::Membership> out;
  for (const v1::Membership& m : memberships) {
    if (!Suspended(m)) out.push_back(ToAuthz(m));
  }
  return out;
}

}  // namespace habilis::domain
