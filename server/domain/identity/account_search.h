// SEARCH and SVC-LIST: the members of a structure a caller may see, filtered, paged, and counted.
#ifndef HABILIS_SERVER_DOMAIN_IDENTITY_ACCOUNT_SEARCH_H_
#define HABILIS_SERVER_DOMAIN_IDENTITY_ACCOUNT_SEARCH_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "habilis/v1/accounts.pb.h"
#include "store/store.h"

namespace habilis::domain {

// SVC-LIST: an account as other members see it omits phone numbers.

// What a ListAccountsRequest asks for, validated.
struct MemberFilter {
  std::string siret;
  std::optional<std::string> service_id;  // "" for the root level
  v1::Role role = v1::ROLE_UNSPECIFIED;
  v1::Account::State state = v1::Account::STATE_UNSPECIFIED;
  std::string name_prefix;  // SearchKey form
  std::optional<absl::Time> password_expire_before;
  std::string login_email;

  // Whether a filter needs the account record, not only the membership.
  bool NeedsAccount() const;
};

// Validates the request's filters (INVALID_ARGUMENT naming the field); `siret` is the parent's. A
// responsable's `only_service` (his own service) narrows the filter: asking for another service finds
// nobody, as it would for a service he cannot see.
[[nodiscard]] absl::StatusOr<MemberFilter> ParseMemberFilter(const v1::ListAccountsRequest& request,
                                                             absl::string_view siret);

// One page of the members matching `filter` (in account-id order) into `response`, with its next page token
// and the total count over every page. Accounts are read only for the page, unless a filter needs them.
[[nodiscard]] absl::Status SearchMembers(store::Reader& reader, const MemberFilter& filter,
                                         const std::optional<std::string>& only_service, int32_t page_size,
                                         absl::string_view page_token, v1::ListAccountsResponse& response);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_IDENTITY_ACCOUNT_SEARCH_H_
