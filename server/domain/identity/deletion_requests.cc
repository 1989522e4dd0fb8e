#include "server/domain/identity/deletion_requests.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/random.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/commands/mutation.h"
#include "server/domain/entitlements/grant_records.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/identity/member_in_structure.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "server/mail/templates.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

using internal::AccountRecord;

// FAILED_PRECONDITION DELETION_ALREADY_REQUESTED if a request for `account` waits for an operator. Deletion
// requests are few (one per person who belongs to several structures and is to go), so they are read all;
// the caller holds the account's guard, so two requests for one person cannot both pass.
absl::Status NoPendingRequestFor(store::Reader& reader, absl::string_view account) {
  bool pending = false;
  absl::Status parsed = absl::OkStatus();
  RETURN_IF_ERROR(
      store::ScanPrefix(reader, store::DeletionRequestPrefix(), [&](absl::string_view, absl::string_view value) {
        v1::DeletionRequest deletion;
        if (!deletion.ParseFromString(std::string(value))) {
          parsed = absl::DataLossError("a deletion request does not parse");
          return false;
        }
        pending = deletion.account() == account && deletion.state() == v1::DeletionRequest::PENDING;
        return !pending;
      }));
  RETURN_IF_ERROR(parsed);
  if (!pending) return absl::OkStatus();
  return Error(absl::StatusCode::kFailedPrecondition, "DELETION_ALREADY_REQUESTED",
               "a deletion of this account already waits for an operator's decision");
}

// Deletes the account everywhere, keeping every structure it administers administered.
absl::Status DeleteEverywhere(store::Transaction& txn, absl::string_view account_id, const AccountRecord& record) {
  ASSIGN_OR_RETURN(auto before, AdministratorsAround(txn, account_id));
  RETURN_IF_ERROR(DeleteAccountEverywhere(txn, account_id, record));
  return StillAdministered(txn, before);
}

// Tells whoever asked what an operator decided, when he is an account that can still read it.
absl::Status TellRequester(store::Transaction& txn, absl::Time now, const v1::DeletionRequest& deletion) {
  std::optional<std::string> requester = ParseAccountName(deletion.requester());
  if (!requester) return absl::OkStatus();  // an operator asked: he reads the answer
  absl::StatusOr<AccountRecord> account = LoadAccount(txn, *requester);
  if (absl::IsNotFound(account.status())) return absl::OkStatus();
  RETURN_IF_ERROR(account.status());
  if (account->account().state() != v1::Account::ACTIVE) return absl::OkStatus();
  const std::string siret = ParseStructureName(deletion.structure()).value_or("");
  ASSIGN_OR_RETURN(std::string structure, StructureDisplayName(txn, siret));
  std::map<std::string, std::string> params = {
      {"login", deletion.login_email()}, {"structure", structure}, {"comment", deletion.comment()}};
  const mail::MailKind kind = deletion.state() == v1::DeletionRequest::DONE ? mail::MailKind::kDeletionApproved
                                                                            : mail::MailKind::kDeletionRefused;
  return NotifyAccount(txn, now, account->account(), kind, std::move(params));
}

absl::Status CheckListRequest(const authz::Principal& caller, const v1::ListDeletionRequestsRequest& request) {
  if (!v1::DeletionRequest::State_IsValid(request.state())) {
    return InvalidField("state", "STATE_UNKNOWN", "must be PENDING, DONE or REFUSED");
  }
  if (request.structure().empty()) {
    if (caller.kind == authz::PrincipalKind::kOperator) return absl::OkStatus();
    return InvalidField("structure", "REQUIRED", "name your structure, structures/{siret}");
  }
  if (!ParseStructureName(request.structure())) {
    return InvalidField("structure", "NAME_FORMAT", "must be structures/{siret}");
  }
  return absl::OkStatus();
}

bool Matches(const v1::ListDeletionRequestsRequest& request, const v1::DeletionRequest& deletion) {
  return (request.structure().empty() || deletion.structure() == request.structure()) &&
         (request.state() == v1::DeletionRequest::STATE_UNSPECIFIED || deletion.state() == request.state());
}

}  // namespace

absl::StatusOr<store::Revision> DeletionRequests::Request(const authz::Principal& caller,
                                                          const v1::RequestAccountDeletionRequest& request,
                                                          v1::RequestAccountDeletionResponse& response) {
  ASSIGN_OR_RETURN(AccountInStructure target, ParseAccountInStructure(request.name(), request.structure()));
  const std::string request_id = RandomHex(8);
  return RunMutation(
      store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
      [&](store::Transaction& txn) -> absl::Status {
        RETURN_IF_ERROR(GuardMembership(txn, target).status());
        ASSIGN_OR_RETURN(bool holds, HoldsHabilitations(txn, target.siret, target.account_id));  // account guard
        if (holds) {
          return Error(absl::StatusCode::kFailedPrecondition, "ACCOUNT_HOLDS_HABILITATIONS",
                       "revoke the account's habilitations in this structure before asking for its deletion");
        }
        ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(txn, target.account_id));
        RETURN_IF_ERROR(NoPendingRequestFor(txn, record.account().name()));
        ASSIGN_OR_RETURN(std::vector<v1::Membership> memberships, MembershipsOf(txn, target.account_id));
        const absl::Time now = clock_.Now();
        v1::DeletionRequest deletion;
        deletion.set_name(DeletionRequestName(request_id));
        deletion.set_account(record.account().name());
        deletion.set_login_email(record.account().login_email());
        deletion.set_structure(StructureName(target.siret));
        deletion.set_requester(caller.ResourceName());
        SetTimestamp(now, deletion.mutable_create_time());
        deletion.set_state(v1::DeletionRequest::PENDING);
        if (memberships.size() == 1) {
          RETURN_IF_ERROR(DeleteEverywhere(txn, target.account_id, record));
          deletion.set_state(v1::DeletionRequest::DONE);
          SetTimestamp(now, deletion.mutable_decide_time());
        }
        RETURN_IF_ERROR(StoreRecord(txn, store::DeletionRequestKey(request_id), deletion));
        *response.mutable_deletion_request() = deletion;
        return absl::OkStatus();
      });
}

absl::Status DeletionRequests::List(const authz::Principal& caller, const v1::ListDeletionRequestsRequest& request,
                                    v1::ListDeletionRequestsResponse& response) {
  RETURN_IF_ERROR(CheckListRequest(caller, request));
  RETURN_IF_ERROR(store_
                      .Read([&](store::Reader& reader) {
                        return ReadPage(
                            reader, store::DeletionRequestPrefix(), request.page_size(), request.page_token(),
                            [&](absl::string_view) { return response.add_deletion_requests(); },
                            response.mutable_next_page_token());
                      })
                      .status());
  auto& listed = *response.mutable_deletion_requests();
  listed.erase(std::remove_if(listed.begin(), listed.end(),
                              [&](const v1::DeletionRequest& deletion) { return !Matches(request, deletion); }),
               listed.end());
  return absl::OkStatus();
}

absl::StatusOr<store::Revision> DeletionRequests::Decide(const authz::Principal& caller,
                                                         const v1::DecideDeletionRequestRequest& request,
                                                         v1::DecideDeletionRequestResponse& response) {
  std::optional<std::string> id = ParseDeletionRequestName(request.name());
  if (!id) return InvalidField("name", "NAME_FORMAT", "must be deletionRequests/{request}");
  if (!request.approve() && NormalizeSpaces(request.comment()).empty()) {
    return InvalidField("comment", "COMMENT_REQUIRED_TO_REFUSE", "say why the deletion is refused");
  }
  FieldViolations violations;
  CheckText(violations, "comment", request.comment(), 2000, false);
  RETURN_IF_ERROR(violations.ToStatus());
  return RunMutation(
      store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
      [&](store::Transaction& txn) -> absl::Status {
        v1::DeletionRequest deletion;
        RETURN_IF_ERROR(LoadRecord(txn, store::DeletionRequestKey(*id), deletion, "DELETION_REQUEST_NOT_FOUND",
                                   absl::StrCat("deletion request ", *id, " does not exist")));
        if (deletion.state() != v1::DeletionRequest::PENDING) {
          return Error(absl::StatusCode::kFailedPrecondition, "DELETION_REQUEST_DECIDED",
                       "this deletion request was already decided");
        }
        const absl::Time now = clock_.Now();
        if (request.approve()) {
          std::optional<std::string> account_id = ParseAccountName(deletion.account());
          absl::StatusOr<AccountRecord> record = LoadAccount(txn, account_id.value_or(""));
          if (record.ok()) {
            RETURN_IF_ERROR(DeleteEverywhere(txn, *account_id, *record));
          } else if (!absl::IsNotFound(record.status())) {
            return record.status();
          }
          deletion.set_state(v1::DeletionRequest::DONE);
        } else {
          deletion.set_state(v1::DeletionRequest::REFUSED);
          deletion.set_comment(NormalizeSpaces(request.comment()));
        }
        SetTimestamp(now, deletion.mutable_decide_time());
        RETURN_IF_ERROR(StoreRecord(txn, store::DeletionRequestKey(*id), deletion));
        RETURN_IF_ERROR(TellRequester(txn, now, deletion));
        *response.mutable_deletion_request() = deletion;
        return absl::OkStatus();
      });
}

}  // namespace habilis::domain
