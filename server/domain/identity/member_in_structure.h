// One account in one structure: how the commands about a member's place there (activation, deactivation,
// role and service, suspension, removal, deletion requests) name him, find him and keep the structure
// administered.
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_MEMBER_IN_STRUCTURE_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_MEMBER_IN_STRUCTURE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "habilis/v1/accounts.pb.h"
#include "store/store.h"

namespace habilis::domain {

struct AccountInStructure {
  std::string account_id;
  std::string siret;
};

// Parses the account name (field `account_field`) and structure name of a request about one account in one
// structure: INVALID_ARGUMENT REQUIRED or NAME_FORMAT for each field that is wrong.
[[nodiscard]] absl::StatusOr<AccountInStructure> ParseAccountInStructure(absl::string_view account,
                                                                         absl::string_view structure,
                                                                         absl::string_view account_field = "name");

// NOT_FOUND ACCOUNT_NOT_FOUND naming `what`: the same answer whether the account exists elsewhere or not.
absl::Status NotAMember(absl::string_view what);
// The membership of `account_id` in `siret`, or NOT_FOUND ACCOUNT_NOT_FOUND.
[[nodiscard]] absl::StatusOr<v1::Membership> MemberOf(store::Reader& reader, absl::string_view siret,
                                                      absl::string_view account_id);
// Takes the structure's guard (store/keyspace.h) and returns the account's membership there (MemberOf): how
// every change to one member's place in a structure begins.
[[nodiscard]] absl::StatusOr<v1::Membership> GuardMembership(store::Transaction& txn, const AccountInStructure& target);

// Active administrators of every structure where `account_id` is an administrator, before a change to it.
[[nodiscard]] absl::StatusOr<std::map<std::string, int>> AdministratorsAround(store::Transaction& txn,
                                                                              absl::string_view account_id);
// FAILED_PRECONDITION LAST_ADMINISTRATOR if a structure counted by AdministratorsAround is left without one.
[[nodiscard]] absl::Status StillAdministered(store::Transaction& txn, const std::map<std::string, int>& before);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_MEMBER_IN_STRUCTURE_H_
