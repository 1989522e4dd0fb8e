// AUDIT: what the trail records, what it keeps out, and how it is read.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "habilis/v1/access.pb.h"
#include "habilis/v1/account_files.pb.h"
#include "habilis/v1/api_keys.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/invitations.pb.h"
#include "habilis/v1/org_chart.pb.h"
#include "habilis/v1/sessions.pb.h"
#include "habilis/v1/structures.pb.h"
#include "server/common/clock.h"
#include "server/common/paging.h"
#include "server/common/status_macros.h"
#include "server/domain/audit/audit_trail.h"
#include "server/domain/kernel/resource_names.h"
#include "store/encoding.h"
#include "store/keyspace.h"
#include "tests/testing/domain_fixture.h"

namespace habilis::domain {
namespace {

class AuditTest : public testing::DomainTest {
 protected:
  void SetUp() override {
    DomainTest::SetUp();
    trail_ = std::make_unique<AuditTrail>(*store_);
    ASSERT_TRUE(CreateStructure().ok());
  }

  std::vector<v1::AuditEntry> List(v1::ListAuditEntriesRequest request) {
    std::vector<v1::AuditEntry> entries;
    for (;;) {
      v1::ListAuditEntriesResponse response;
      absl::Status status = trail_->List(request, response);
      EXPECT_TRUE(status.ok()) << status;
      for (const auto& entry : response.audit_entries()) entries.push_back(entry);
      if (!status.ok() || response.next_page_token().empty()) return entries;
      request.set_page_token(response.next_page_token());
    }
  }

  std::vector<v1::AuditEntry> OfAccount(const std::string& account) {
    v1::ListAuditEntriesRequest request;
    request.set_account(account);
    return List(request);
  }

  static const v1::FieldChange* FieldIn(const v1::AuditEntry& entry, const std::string& path) {
    for (const auto& change : entry.changes()) {
      for (const auto& field : change.fields()) {
        if (field.path() == path) return &field;
      }
    }
    return nullptr;
  }

  static const v1::AuditEntry* Find(const std::vector<v1::AuditEntry>& entries, const std::string& action) {
    for (const auto& entry : entries) {
      if (entry.action() == action) return &entry;
    }
    return nullptr;
  }

  absl::StatusOr<store::Revision> Rename(const std::string& account, const std::string& family_name,
                                         bool validate_only = false) {
    v1::UpdateAccountRequest request;
    request.mutable_account()->set_name(account);
    request.mutable_account()->set_family_name(family_name);
    request.mutable_update_mask()->add_paths("family_name");
    request.set_request_id("rename-1");
    request.set_validate_only(validate_only);
    v1::UpdateAccountResponse response;
    return accounts_->Update(operator_, request, response);
  }

  std::unique_ptr<AuditTrail> trail_;
};

TEST_F(AuditTest, AUDIT_aChangeRecordsActorTimeRequestIdActionAndTheFieldsThatChanged) {
  std::string a = ReadyAccount("a@example.fr", v1::COLLABORATOR);
  absl::StatusOr<store::Revision> revision = Rename(a, "Durand");
  ASSERT_TRUE(revision.ok()) << revision.status();

  const std::vector<v1::AuditEntry> entries = OfAccount(a);
  const v1::AuditEntry* entry = Find(entries, "habilis.v1.UpdateAccount");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->actor(), operator_.ResourceName());
  EXPECT_EQ(entry->request_id(), "rename-1");
  EXPECT_TRUE(entry->has_time());
  EXPECT_EQ(entry->consistency_token(), EncodeConsistencyToken(*revision)) << "the entry is in the change's commit";
  ASSERT_EQ(entry->changes_size(), 1);
  EXPECT_EQ(entry->changes(0).record(), a);
  EXPECT_EQ(entry->changes(0).record_type(), "habilis.internal.AccountRecord");
  EXPECT_EQ(entry->changes(0).kind(), v1::RecordChange::UPDATED);
  const v1::FieldChange* family = FieldIn(*entry, "account.family_name");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->before(), "\"Martin\"");
  EXPECT_EQ(family->after(), "\"Durand\"");
  for (const auto& field : entry->changes(0).fields()) {
    EXPECT_TRUE(absl::StrContains(field.path(), "family_name") || absl::StrContains(field.path(), "etag") ||
                absl::StrContains(field.path(), "update_time"))
        << "only what changed: " << field.path();
  }
}

TEST_F(AuditTest, AUDIT_anEntryNamesTheResourceARequestCarries) {
  absl::StatusOr<v1::Service> service = CreateService("compta", "Comptabilité");
  ASSERT_TRUE(service.ok()) << service.status();
  v1::UpdateServiceRequest update;
  update.mutable_service()->set_name(service->name());
  update.mutable_service()->set_display_name("Comptabilité générale");
  update.mutable_update_mask()->add_paths("display_name");
  v1::UpdateServiceResponse updated;
  ASSERT_TRUE(org_chart_->UpdateService(operator_, update, updated).ok());

  v1::ListAuditEntriesRequest request;
  request.set_structure(StructureName(kSiret));
  const std::vector<v1::AuditEntry> entries = List(request);
  const v1::AuditEntry* renamed = Find(entries, "habilis.v1.UpdateService");
  ASSERT_NE(renamed, nullptr);
  EXPECT_EQ(renamed->target(), service->name()) << "the service inside the request";
  const v1::AuditEntry* created = Find(entries, "habilis.v1.CreateStructure");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->target(), StructureName(kSiret)) << "the structure, by the SIRET the request gives";
}

TEST_F(AuditTest, AUDIT_aFailedCallOrADryRunOrAReplayRecordsNothing) {
  std::string a = ReadyAccount("a@example.fr", v1::COLLABORATOR);
  const size_t before = OfAccount(a).size();
  EXPECT_TRUE(Rename(a, "Durand", /*validate_only=*/true).ok());
  EXPECT_FALSE(Rename(a, std::string(500, 'x')).ok());
  EXPECT_EQ(OfAccount(a).size(), before);
  ASSERT_TRUE(Rename(a, "Durand").ok());
  ASSERT_TRUE(Rename(a, "Durand").ok()) << "the same request_id: a replay";
  EXPECT_EQ(OfAccount(a).size(), before + 1);
}

TEST_F(AuditTest, AUDIT_secretsNeverEnterTheTrailButTheirChangeDoes) {
  std::string a = ReadyAccount("a@example.fr", v1::COLLABORATOR);  // sets a password from the e-mailed link
  bool saw_password = false;
  for (const auto& entry : OfAccount(a)) {
    for (const auto& change : entry.changes()) {
      for (const auto& field : change.fields()) {
        EXPECT_FALSE(absl::StrContains(field.before() + field.after(), "$argon2")) << field.path();
        if (absl::EndsWith(field.path(), "_hash") || absl::EndsWith(field.path(), "_sha256")) {
          EXPECT_TRUE(field.redacted()) << field.path();
          EXPECT_TRUE(field.before().empty() && field.after().empty());
          saw_password |= field.path() == "password_hash";
        }
      }
    }
  }
  EXPECT_TRUE(saw_password) << "setting the password is in the trail, as a redacted change";
}

TEST_F(AuditTest, AUDIT_aFailedLoginOfAKnownAccountIsRecorded) {
  std::string a = ReadyAccount("a@example.fr", v1::COLLABORATOR);
  EXPECT_FALSE(Login("a@example.fr", "not the password at all").ok());
  const std::vector<v1::AuditEntry> entries = OfAccount(a);
  const v1::AuditEntry* entry = Find(entries, "habilis.v1.Login");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->actor(), a);
  const v1::FieldChange* attempts = FieldIn(*entry, "account.failed_login_attempts");
  ASSERT_NE(attempts, nullptr);
  EXPECT_EQ(attempts->after(), "1");
}

TEST_F(AuditTest, AUDIT_byStructureByActorPagedAndBoundedInTime) {
  ReadyAccount("a@example.fr", v1::COLLABORATOR);
  ReadyAccount("b@example.fr", v1::COLLABORATOR);
  v1::ListAuditEntriesRequest request;
  request.set_structure(StructureName(kSiret));
  request.set_page_size(2);
  std::vector<v1::AuditEntry> of_structure = List(request);
  ASSERT_GE(of_structure.size(), 3u) << "the structure's creation and two account creations at least";
  EXPECT_EQ(of_structure[0].action(), "habilis.v1.CreateStructure");
  for (size_t i = 1; i < of_structure.size(); ++i) {
    EXPECT_LT(of_structure[i - 1].name(), of_structure[i].name()) << "commit order, no repeats across pages";
  }

  v1::ListAuditEntriesRequest by_actor;
  by_actor.set_actor(operator_.ResourceName());
  for (const auto& entry : List(by_actor)) EXPECT_EQ(entry.actor(), operator_.ResourceName());

  v1::ListAuditEntriesRequest later;
  SetTimestamp(absl::Now() + absl::Hours(1), later.mutable_start_time());
  EXPECT_TRUE(List(later).empty());
  v1::ListAuditEntriesRequest empty_range;
  SetTimestamp(absl::Now(), empty_range.mutable_start_time());
  SetTimestamp(absl::Now() - absl::Hours(1), empty_range.mutable_end_time());
  v1::ListAuditEntriesResponse response;
  EXPECT_EQ(trail_->List(empty_range, response).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditTest, CONFIRM_aDryRunAnswersWhatWouldChangeAndChangesNothing) {
  std::string a = ReadyAccount("a@example.fr", v1::COLLABORATOR);
  v1::UpdateAccountRequest request;
  request.mutable_account()->set_name(a);
  request.mutable_account()->set_family_name("Durand");
  request.mutable_update_mask()->add_paths("family_name");
  request.set_validate_only(true);
  v1::UpdateAccountResponse response;
  ASSERT_TRUE(accounts_->Update(operator_, request, response).ok());
  ASSERT_EQ(response.change_summary().changes_size(), 1);
  const v1::RecordChange& change = response.change_summary().changes(0);
  EXPECT_EQ(change.record(), a);
  EXPECT_EQ(change.kind(), v1::RecordChange::UPDATED);
  bool family_name = false;
  for (const auto& field : change.fields()) {
    if (field.path() == "account.family_name") {
      family_name = true;
      EXPECT_EQ(field.after(), "\"Durand\"");
    }
  }
  EXPECT_TRUE(family_name);

  v1::GetAccountRequest get;
  get.set_name(a);
  v1::GetAccountResponse got;
  ASSERT_TRUE(accounts_->Get(operator_, get, got).ok());
  EXPECT_EQ(got.account().family_name(), "Martin");

  request.set_validate_only(false);
  v1::UpdateAccountResponse done;
  ASSERT_TRUE(accounts_->Update(operator_, request, done).ok());
  EXPECT_EQ(done.change_summary().changes_size(), 0) << "only a dry run carries a summary";
}

// The index keys of the trail (by structure, account and actor) whose revision is before `revision`.
int IndexKeysBefore(store::Store& store, store::Revision revision) {
  int count = 0;
  EXPECT_TRUE(store
                  .Read([&](store::Reader& reader) -> absl::Status {
                    for (store::KeyTag tag : {store::KeyTag::kAuditByStructure, store::KeyTag::kAuditByAccount,
                                              store::KeyTag::kAuditByActor}) {
                      const std::string family(1, static_cast<char>(tag));
                      RETURN_IF_ERROR(store::ScanPrefix(reader, family, [&](absl::string_view key, absl::string_view) {
                        absl::string_view tail = key.substr(key.size() - 16);
                        count += store::ConsumeUint64(&tail).value_or(0) < revision;
                        return true;
                      }));
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  return count;
}

TEST_F(AuditTest, WATCH_entriesPastTheRetentionArePrunedWithTheirIndexesAndTheirTokensAreRefused) {
  absl::StatusOr<std::string> jeanne = CreateAccount("jeanne@example.fr", v1::COLLABORATOR);
  ASSERT_TRUE(jeanne.ok()) << jeanne.status();
  const store::Revision old_revision = store_->LatestRevision().value();
  for (const char* name : {"Durand", "Dupont", "Morel"}) {
    v1::UpdateAccountRequest request;
    request.mutable_account()->set_name(*jeanne);
    request.mutable_account()->set_family_name(name);
    request.mutable_update_mask()->add_paths("family_name");
    v1::UpdateAccountResponse response;
    ASSERT_TRUE(accounts_->Update(operator_, request, response).ok());
  }
  const store::Revision pruned_up_to = store_->LatestRevision().value();
  ASSERT_GT(IndexKeysBefore(*store_, pruned_up_to + 1), 0);

  // Everything so far is past the retention; batches of 2 entries, so that the mark moves several times.
  absl::StatusOr<int64_t> removed = trail_->Prune(absl::Now() + absl::Seconds(1), /*batch=*/2);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_GE(*removed, 5);  // the structure, the account, three renames
  EXPECT_EQ(IndexKeysBefore(*store_, pruned_up_to + 1), 0);
  EXPECT_TRUE(List(v1::ListAuditEntriesRequest()).empty());
  EXPECT_TRUE(OfAccount(*jeanne).empty());

  // A watcher that stopped before the mark must resynchronise; one that has seen everything goes on.
  v1::WatchChangesRequest watch;
  watch.set_structure(StructureName(kSiret));
  watch.set_consistency_token(EncodeConsistencyToken(old_revision));
  absl::Status expired = trail_->ParseWatch(watch).status();
  EXPECT_EQ(expired.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(expired), "CONSISTENCY_TOKEN_EXPIRED");
  v1::WatchChangesResponse changes;
  EXPECT_EQ(ErrorReason(
                trail_->ReadChanges({.siret = kSiret}, old_revision, trail_->AppliedRevision(), 100, changes).status()),
            "CONSISTENCY_TOKEN_EXPIRED");
  watch.set_consistency_token(EncodeConsistencyToken(pruned_up_to));
  ASSERT_TRUE(trail_->ParseWatch(watch).ok());

  // Later changes are kept and listed as before; pruning again with the same cutoff removes nothing.
  ASSERT_TRUE(Rename(*jeanne, "Martin").ok());
  EXPECT_EQ(OfAccount(*jeanne).size(), 1u);
  ASSERT_TRUE(CreateService("rh", "RH").ok());
  changes.Clear();
  // A read bounded at a revision (what the node had applied when it judged the caller) stops there.
  absl::StatusOr<store::Revision> bounded =
      trail_->ReadChanges({.siret = kSiret}, pruned_up_to, pruned_up_to, 100, changes);
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(changes.audit_entries_size(), 0) << "nothing past the bound is read";
  EXPECT_EQ(*bounded, pruned_up_to) << "and the stream resumes from the bound";
  ASSERT_TRUE(trail_->ReadChanges({.siret = kSiret}, pruned_up_to, trail_->AppliedRevision(), 100, changes).ok());
  EXPECT_EQ(changes.audit_entries_size(), 2) << "the rename of its member and the new service";
  EXPECT_EQ(trail_->Prune(absl::Now() - absl::Hours(1)).value_or(-1), 0);
}

TEST(ConfirmTest, CONFIRM_everyRequestWithValidateOnlyHasAResponseWithAChangeSummary) {
  // Link every API file, then walk their messages.
  const google::protobuf::FileDescriptor* files[] = {
      v1::CreateStructureRequest::descriptor()->file(),   v1::CreateServiceRequest::descriptor()->file(),
      v1::CreateApplicationRequest::descriptor()->file(), v1::CreateApiKeyRequest::descriptor()->file(),
      v1::CreateAccountRequest::descriptor()->file(),     v1::SendInvitationsRequest::descriptor()->file(),
      v1::GrantHabilitationRequest::descriptor()->file(), v1::LoginRequest::descriptor()->file()};
  int checked = 0;
  for (const auto* file : files) {
    for (int i = 0; i < file->message_type_count(); ++i) {
      const auto* request = file->message_type(i);
      if (!absl::EndsWith(request->name(), "Request") || request->FindFieldByName("validate_only") == nullptr) continue;
      std::string response_name(absl::StripSuffix(request->full_name(), "Request"));
      const auto* response = file->pool()->FindMessageTypeByName(response_name + "Response");
      ASSERT_NE(response, nullptr) << request->full_name();
      const auto* summary = response->FindFieldByName("change_summary");
      ASSERT_NE(summary, nullptr) << response->full_name();
      EXPECT_EQ(summary->message_type(), v1::ChangeSummary::descriptor()) << response->full_name();
      ++checked;
    }
  }
  EXPECT_GE(checked, 33);
}

TEST(ConfirmTest, CONFIRM_everyMutatingRpcTakesValidateOnlyButThoseWhoseRequestProvesASecret) {
  // A dry run of these would be a free guess at a password or a code (or, for a reset, at whether a login
  // exists), and counting it as an attempt would make it a write: docs/DECISIONS.md.
  const std::set<std::string> proving = {"Login", "ConfirmLoginCode", "ChangePassword", "RequestPasswordReset"};
  const google::protobuf::FileDescriptor* files[] = {
      v1::CreateStructureRequest::descriptor()->file(),   v1::CreateServiceRequest::descriptor()->file(),
      v1::CreateApplicationRequest::descriptor()->file(), v1::CreateApiKeyRequest::descriptor()->file(),
      v1::CreateAccountRequest::descriptor()->file(),     v1::SendInvitationsRequest::descriptor()->file(),
      v1::GrantHabilitationRequest::descriptor()->file(), v1::LoginRequest::descriptor()->file(),
      v1::CheckAccessRequest::descriptor()->file(),       v1::ImportAccountsRequest::descriptor()->file(),
      v1::ListAuditEntriesRequest::descriptor()->file()};
  int mutating = 0;
  for (const auto* file : files) {
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        const auto* method = file->service(s)->method(m);
        const std::string& name = method->name();
        bool reads = false;
        for (const char* verb : {"List", "Get", "Check", "BatchCheck", "Lookup", "Watch", "Export", "Suggest"}) {
          reads = reads || absl::StartsWith(name, verb);
        }
        if (reads) continue;
        ++mutating;
        const bool has = method->input_type()->FindFieldByName("validate_only") != nullptr;
        EXPECT_EQ(has, !proving.contains(name)) << method->full_name();
      }
    }
  }
  EXPECT_GE(mutating, 38);
}

}  // namespace
}  // namespace habilis::domain
