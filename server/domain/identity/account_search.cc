#include "server/domain/identity/account_search.h"

#include <vector>

#include "absl/strings/match.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/identity/new_members.h"
#include "server/domain/kernel/identifiers.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

using internal::AccountRecord;

constexpr int kMaxNamePrefixChars = 100;

absl::Status ParseServiceFilter(const v1::ListAccountsRequest& request, absl::string_view siret, MemberFilter& out) {
  if (request.service().empty()) return absl::OkStatus();
  if (request.service() == "root") {
    out.service_id = "";
    return absl::OkStatus();
  }
  std::optional<ServiceName> service = ParseServiceName(request.service());
  if (!service || service->siret != siret) {
    return InvalidField("service", "NAME_FORMAT",
                        "must be a service of the parent, structures/{siret}/services/{id}, or root");
  }
  out.service_id = service->service_id;
  return absl::OkStatus();
}

// Whether `key` (SearchKey form) starts with `prefix` at the start of a word of the name as a person writes
// it: given name, family name, or the full name in either order.
bool NameMatches(const v1::Account& account, absl::string_view prefix) {
  const std::string given = SearchKey(account.given_name());
  const std::string family = SearchKey(account.family_name());
  for (const std::string& candidate : {given, family, given + " " + family, family + " " + given}) {
    if (absl::StartsWith(candidate, prefix)) return true;
  }
  return false;
}

bool MembershipMatches(const MemberFilter& filter, const std::optional<std::string>& only_service,
                       const v1::Membership& membership) {
  if (only_service && ServiceIdOf(membership) != *only_service) return false;
  if (filter.service_id && ServiceIdOf(membership) != *filter.service_id) return false;
  return filter.role == v1::ROLE_UNSPECIFIED || membership.role() == filter.role;
}

bool AccountMatches(const MemberFilter& filter, const v1::Account& account) {
  if (filter.state != v1::Account::STATE_UNSPECIFIED && account.state() != filter.state) return false;
  if (!filter.name_prefix.empty() && !NameMatches(account, filter.name_prefix)) return false;
  if (filter.password_expire_before) {
    if (!account.has_password_expire_time()) return false;
    if (FromTimestamp(account.password_expire_time()) >= *filter.password_expire_before) return false;
  }
  return true;
}

// The members to consider, in id order, as (id, membership): the one whose login the filter names, or the
// whole structure (every page: the total counts them all).
absl::StatusOr<std::vector<std::pair<std::string, v1::Membership>>> Candidates(store::Reader& reader,
                                                                               const MemberFilter& filter) {
  std::vector<std::pair<std::string, v1::Membership>> out;
  if (!filter.login_email.empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> id, MemberIdByLogin(reader, filter.siret, filter.login_email));
    if (!id) return out;
    ASSIGN_OR_RETURN(std::optional<v1::Membership> membership, MembershipIn(reader, filter.siret, *id));
    if (membership) out.emplace_back(*id, *std::move(membership));
    return out;
  }
  const std::string prefix = store::MembershipPrefix(filter.siret);
  absl::Status decoded = absl::OkStatus();
  RETURN_IF_ERROR(reader.Scan(prefix, store::PrefixEnd(prefix), [&](absl::string_view key, absl::string_view value) {
    absl::string_view rest = key.substr(prefix.size());
    std::optional<std::string> id = store::ConsumeString(&rest);
    auto& [candidate, membership] = out.emplace_back();
    if (!id || !membership.ParseFromString(std::string(value))) {
      decoded = absl::DataLossError("a membership record does not parse");
      return false;
    }
    candidate = *std::move(id);
    return true;
  }));
  RETURN_IF_ERROR(decoded);
  return out;
}

}  // namespace

bool MemberFilter::NeedsAccount() const {
  return state != v1::Account::STATE_UNSPECIFIED || !name_prefix.empty() || password_expire_before.has_value();
}

absl::StatusOr<MemberFilter> ParseMemberFilter(const v1::ListAccountsRequest& request, absl::string_view siret) {
  MemberFilter filter;
  filter.siret = std::string(siret);
  FieldViolations violations;
  if (!request.login_email().empty()) {
    if (!request.page_token().empty()) {
      violations.Add("page_token", "PAGE_TOKEN_INVALID", "a search by login_email has a single page");
    }
    if (!IsEmail(request.login_email())) {
      violations.Add("login_email", "EMAIL_FORMAT", "must be an e-mail address such as name@example.fr");
    }
    filter.login_email = request.login_email();
  }
  CheckText(violations, "name_prefix", request.name_prefix(), kMaxNamePrefixChars, false);
  if (!v1::Role_IsValid(request.role())) violations.Add("role", "ROLE_UNKNOWN", "is not a role");
  if (!v1::Account::State_IsValid(request.state())) violations.Add("state", "STATE_UNKNOWN", "is not an account state");
  RETURN_IF_ERROR(violations.ToStatus());
  RETURN_IF_ERROR(ParseServiceFilter(request, siret, filter));
  filter.name_prefix = SearchKey(request.name_prefix());
  filter.role = request.role();
  filter.state = request.state();
  if (request.has_password_expire_before()) {
    filter.password_expire_before = FromTimestamp(request.password_expire_before());
  }
  return filter;
}

absl::Status SearchMembers(store::Reader& reader, const MemberFilter& filter,
                           const std::optional<std::string>& only_service, int32_t page_size,
                           absl::string_view page_token, v1::ListAccountsResponse& response) {
  ASSIGN_OR_RETURN(const int size, PageSize(page_size));
  ASSIGN_OR_RETURN(const std::string after, DecodePageToken(page_token));
  ASSIGN_OR_RETURN(auto candidates, Candidates(reader, filter));
  int total = 0;
  bool more_after_page = false;  // a match follows the page
  std::string last_in_page;
  for (auto& [id, membership] : candidates) {
    if (!MembershipMatches(filter, only_service, membership)) continue;
    const bool in_page = (after.empty() || id > after) && response.accounts_size() < size;
    if (!in_page && !filter.NeedsAccount()) {
      ++total;
      if (response.accounts_size() == size) more_after_page = true;
      continue;
    }
    ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(reader, id));
    if (!AccountMatches(filter, record.account())) continue;
    ++total;
    if (!in_page) {
      if (response.accounts_size() == size) more_after_page = true;
      continue;
    }
    v1::Account* account = response.add_accounts();
    *account = std::move(*record.mutable_account());
    ClearPhones(*account);  // and only this structure's membership
    *account->add_memberships() = std::move(membership);
    last_in_page = id;
  }
  if (more_after_page) response.set_next_page_token(EncodePageToken(last_in_page));
  response.set_total_size(total);
  return absl::OkStatus();
}

}  // namespace habilis::domain
