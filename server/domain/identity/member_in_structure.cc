#include "server/domain/identity/member_in_structure.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "store/keyspace.h"

namespace habilis::domain {

absl::StatusOr<AccountInStructure> ParseAccountInStructure(absl::string_view account, absl::string_view structure,
                                                           absl::string_view account_field) {
  FieldViolations violations;
  std::optional<std::string> id = ParseAccountName(account);
  if (account.empty()) {
    violations.Add(account_field, "REQUIRED", "is required: the account, accounts/{account}");
  } else if (!id) {
    violations.Add(account_field, "NAME_FORMAT", "must be accounts/{account}");
  }
  std::optional<std::string> siret = ParseStructureName(structure);
  if (structure.empty()) {
    violations.Add("structure", "REQUIRED", "is required: the structure the call acts in, structures/{siret}");
  } else if (!siret) {
    violations.Add("structure", "NAME_FORMAT", "must be structures/{siret}");
  }
  RETURN_IF_ERROR(violations.ToStatus());
  return AccountInStructure{*id, *siret};
}

absl::Status NotAMember(absl::string_view what) {
  return Error(absl::StatusCode::kNotFound, "ACCOUNT_NOT_FOUND",
               absl::StrCat(what, " is not an account of this structure"));
}

absl::StatusOr<v1::Membership> MemberOf(store::Reader& reader, absl::string_view siret, absl::string_view account_id) {
  ASSIGN_OR_RETURN(std::optional<v1::Membership> membership, MembershipIn(reader, siret, account_id));
  if (!membership) return NotAMember(AccountName(account_id));
  return *membership;
}

absl::StatusOr<v1::Membership> GuardMembership(store::Transaction& txn, const AccountInStructure& target) {
  RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(target.siret)));
  return MemberOf(txn, target.siret, target.account_id);
}

absl::StatusOr<std::map<std::string, int>> AdministratorsAround(store::Transaction& txn, absl::string_view account_id) {
  std::map<std::string, int> counts;
  RETURN_IF_ERROR(TouchGuard(txn, store::AccountGuardKey(account_id)));
  ASSIGN_OR_RETURN(std::vector<v1::Membership> memberships, MembershipsOf(txn, account_id));
  for (const v1::Membership& m : memberships) {
    if (m.role() != v1::ADMINISTRATOR) continue;
    const std::string siret = SiretOf(m);
    RETURN_IF_ERROR(TouchGuard(txn, store::StructureGuardKey(siret)));
    ASSIGN_OR_RETURN(counts[siret], ActiveAdministrators(txn, siret));
  }
  return counts;
}

absl::Status StillAdministered(store::Transaction& txn, const std::map<std::string, int>& before) {
  for (const auto& [siret, count] : before) RETURN_IF_ERROR(KeepsAnAdministrator(txn, siret, count));
  return absl::OkStatus();
}

}  // namespace habilis::domain
