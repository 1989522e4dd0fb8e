#include "server/domain/audit/audit_trail.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/timestamp.pb.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/account_files.pb.h"
#include "habilis/v1/accounts.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/org_chart.pb.h"
#include "habilis/v1/structures.pb.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/status_macros.h"
#include "server/domain/access/access.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "store/encoding.h"
#include "store/keyspace.h"
#include "store/log.h"

namespace habilis::domain {
namespace {

using google::protobuf::Message;

absl::StatusOr<v1::AuditEntry> LoadEntry(store::Reader& reader, store::Revision revision) {
  std::optional<v1::AuditEntry> found;
  absl::Status decoded = absl::OkStatus();
  RETURN_IF_ERROR(store::ScanLog(reader, store::AuditLogPrefix(), revision, [&](const store::LogEntry& logged) {
    if (logged.revision != revision) return false;
    found.emplace();
    if (!found->ParseFromArray(logged.value.data(), static_cast<int>(logged.value.size()))) {
      decoded = absl::DataLossError("an audit entry does not decode");
    }
    return false;
  }));
  RETURN_IF_ERROR(decoded);
  if (!found) return absl::DataLossError("an audit index names a missing entry");
  found->set_name(absl::StrCat("auditEntries/", revision));
  found->set_consistency_token(EncodeConsistencyToken(revision));
  return *std::move(found);
}

// The first revision whose entries are kept (retention); 0 when none was ever pruned.
absl::StatusOr<store::Revision> RetainedFrom(store::Reader& reader) {
  absl::StatusOr<std::string> value = reader.Get(store::MetaKey(store::kMetaAuditRetainedFrom));
  if (absl::IsNotFound(value.status())) return 0;
  if (!value.ok()) return value.status();
  absl::string_view in(*value);
  std::optional<uint64_t> revision = store::ConsumeUint64(&in);
  if (!revision) return absl::DataLossError("the audit retention mark does not decode");
  return *revision;
}

absl::Status TokenExpired(store::Revision retained_from) {
  return Error(
      absl::StatusCode::kFailedPrecondition, "CONSISTENCY_TOKEN_EXPIRED",
      absl::StrCat("the changes after this token are no longer kept (the trail starts at revision ", retained_from,
                   "): resynchronise (read the current state, e.g. ListEntitlements) and "
                   "watch again from the token that read returns"));
}

// Visits, in commit order, the entries named by the log keys under `prefix` from revision `first` on (each
// commit once), until `visit` returns false. Pruned entries (before the retention mark) are skipped.
absl::Status ForEachEntry(store::Reader& reader, absl::string_view prefix, store::Revision first,
                          absl::FunctionRef<bool(store::Revision, v1::AuditEntry&)> visit) {
  ASSIGN_OR_RETURN(store::Revision retained_from, RetainedFrom(reader));
  first = std::max(first, retained_from);
  store::Revision last = 0;
  absl::Status failed = absl::OkStatus();
  RETURN_IF_ERROR(store::ScanLog(reader, prefix, first, [&](const store::LogEntry& logged) {
    if (logged.revision == last) return true;
    last = logged.revision;
    absl::StatusOr<v1::AuditEntry> entry = LoadEntry(reader, logged.revision);
    if (!entry.ok()) {
      failed = entry.status();
      return false;
    }
    return visit(logged.revision, *entry);
  }));
  return failed;
}

// Whether the entry of `revision` has an index entry under `prefix` (e.g. a structure's).
absl::StatusOr<bool> IndexedUnder(store::Reader& reader, absl::string_view prefix, store::Revision revision) {
  bool found = false;
  RETURN_IF_ERROR(store::ScanLog(reader, prefix, revision, [&](const store::LogEntry& logged) {
    found = logged.revision == revision;
    return false;
  }));
  return found;
}

// The index prefix of ListAuditEntriesRequest.within_structure ("" when it is not set); only with an account
// or an actor as the scope.
absl::StatusOr<std::string> WithinStructurePrefix(const v1::ListAuditEntriesRequest& request) {
  if (request.within_structure().empty()) return std::string();
  if (request.scope_case() != v1::ListAuditEntriesRequest::kAccount &&
      request.scope_case() != v1::ListAuditEntriesRequest::kActor) {
    return InvalidField("within_structure", "WITHIN_STRUCTURE_NEEDS_SCOPE",
                        "narrows the trail of an account or an actor: set account or actor with it");
  }
  std::optional<std::string> siret = ParseStructureName(request.within_structure());
  if (!siret) return InvalidField("within_structure", "NAME_FORMAT", "must be structures/{siret}");
  return store::AuditByStructurePrefix(*siret);
}

// Whether an entry concerns `application`: one of its records is named under the application (profiles),
// names it as the last segment of a subscription or habilitation, or as the head of a delegation
// ("{application}~{profile}"); or it changes an account, whose state bears on every application.
bool ConcernsApplication(const v1::AuditEntry& entry, absl::string_view application) {
  for (const v1::RecordChange& change : entry.changes()) {
    if (change.record_type() == internal::AccountRecord::descriptor()->full_name()) return true;
    const std::string& record = change.record();
    if (absl::StartsWith(record, absl::StrCat("applications/", application, "/")) ||
        record == absl::StrCat("applications/", application) ||
        absl::EndsWith(record, absl::StrCat("/subscriptions/", application)) ||
        absl::EndsWith(record, absl::StrCat("/habilitations/", application)) ||
        absl::StrContains(record, absl::StrCat("/delegations/", application, "~"))) {
      return true;
    }
  }
  return false;
}

// Deletes the index entries of family `tag` (by structure, account or actor) whose revision is before
// `retained_from`, in commits of at most `batch` keys. Under each structure, account or actor the keys run
// by revision, so the old ones come first: one short scan per prefix.
absl::Status PruneIndex(store::Store& store, store::KeyTag tag, store::Revision retained_from, int batch) {
  const std::string family(1, static_cast<char>(tag));
  std::string after;  // the last entry deleted
  while (true) {
    std::vector<std::string> ids;
    RETURN_IF_ERROR(store
                        .Read([&](store::Reader& reader) {
                          return store::ScanLogFamilyBefore(reader, family, after, retained_from,
                                                            [&](const store::LogEntry& logged) {
                                                              ids.emplace_back(logged.id);
                                                              return static_cast<int>(ids.size()) < batch;
                                                            });
                        })
                        .status());
    if (ids.empty()) return absl::OkStatus();
    RETURN_IF_ERROR(store
                        .Update([&](store::Transaction& txn) -> absl::Status {
                          for (const std::string& id : ids) RETURN_IF_ERROR(txn.Delete(id));
                          return absl::OkStatus();
                        })
                        .status());
    after = ids.back();
  }
}

}  // namespace

namespace {

// The index a ListAuditEntriesRequest's scope reads.
absl::StatusOr<std::string> ScopePrefix(const v1::ListAuditEntriesRequest& request) {
  switch (request.scope_case()) {
    case v1::ListAuditEntriesRequest::kStructure: {
      std::optional<std::string> siret = ParseStructureName(request.structure());
      if (!siret) return InvalidField("structure", "NAME_FORMAT", "must be structures/{siret}");
      return store::AuditByStructurePrefix(*siret);
    }
    case v1::ListAuditEntriesRequest::kAccount: {
      std::optional<std::string> id = ParseAccountName(request.account());
      if (!id) return InvalidField("account", "NAME_FORMAT", "must be accounts/{account}");
      return store::AuditByAccountPrefix(*id);
    }
    case v1::ListAuditEntriesRequest::kActor:
      if (request.actor().empty() || request.actor().size() > 200) {
        return InvalidField("actor", "ACTOR_FORMAT", "name an actor as audit entries do, e.g. operators/{key}");
      }
      return store::AuditByActorPrefix(request.actor());
    case v1::ListAuditEntriesRequest::SCOPE_NOT_SET:
      break;
  }
  return store::AuditLogPrefix();
}

}  // namespace

absl::Status AuditTrail::List(const v1::ListAuditEntriesRequest& request,
                              v1::ListAuditEntriesResponse& response) const {
  ASSIGN_OR_RETURN(const std::string prefix, ScopePrefix(request));
  const std::optional<absl::Time> start =
      request.has_start_time() ? std::optional<absl::Time>(FromTimestamp(request.start_time())) : std::nullopt;
  const std::optional<absl::Time> end =
      request.has_end_time() ? std::optional<absl::Time>(FromTimestamp(request.end_time())) : std::nullopt;
  if (start && end && *end <= *start) {
    return InvalidField("end_time", "TIME_RANGE_EMPTY", "must be later than start_time");
  }
  ASSIGN_OR_RETURN(const std::string within, WithinStructurePrefix(request));
  ASSIGN_OR_RETURN(int page_size, PageSize(request.page_size()));
  ASSIGN_OR_RETURN(std::string after, DecodePageToken(request.page_token()));
  store::Revision begin_revision = 0;
  if (!after.empty() && !absl::SimpleAtoi(after, &begin_revision)) {
    return InvalidField("page_token", "PAGE_TOKEN_INVALID", "is not a token this server returned");
  }
  return store_
      .Read([&](store::Reader& reader) -> absl::Status {
        store::Revision last_returned = 0;
        absl::Status failed = absl::OkStatus();
        RETURN_IF_ERROR(
            ForEachEntry(reader, prefix, begin_revision + 1, [&](store::Revision revision, v1::AuditEntry& entry) {
              const absl::Time time = FromTimestamp(entry.time());
              if (start && time < *start) return true;
              if (end && time >= *end) return false;  // commits are in time order
              if (!within.empty()) {
                absl::StatusOr<bool> concerns = IndexedUnder(reader, within, revision);
                if (!concerns.ok()) failed = concerns.status();
                if (!concerns.ok() || !*concerns) return concerns.ok();
              }
              if (response.audit_entries_size() == page_size) {
                response.set_next_page_token(EncodePageToken(absl::StrCat(last_returned)));
                return false;
              }
              *response.add_audit_entries() = std::move(entry);
              last_returned = revision;
              return true;
            }));
        return failed;
      })
      .status();
}

absl::StatusOr<std::pair<AuditTrail::ChangeFilter, store::Revision>> AuditTrail::ParseWatch(
    const v1::WatchChangesRequest& request) const {
  ChangeFilter filter;
  switch (request.filter_case()) {
    case v1::WatchChangesRequest::kStructure: {
      std::optional<std::string> siret = ParseStructureName(request.structure());
      if (!siret) return InvalidField("structure", "NAME_FORMAT", "must be structures/{siret}");
      filter.siret = *siret;
      break;
    }
    case v1::WatchChangesRequest::kApplication: {
      std::optional<std::string> application = ParseApplicationName(request.application());
      if (!application) return InvalidField("application", "NAME_FORMAT", "must be applications/{application}");
      filter.application = *application;
      break;
    }
    case v1::WatchChangesRequest::FILTER_NOT_SET:
      return InvalidField("structure", "REQUIRED", "watch a structure or an application");
  }
  if (request.consistency_token().empty()) {
    ASSIGN_OR_RETURN(store::Revision latest, store_.LatestRevision());
    return std::make_pair(filter, latest);
  }
  ASSIGN_OR_RETURN(store::Revision after, ConsistencyTokenRevision(store_, request.consistency_token()));
  RETURN_IF_ERROR(store_
                      .Read([&](store::Reader& reader) -> absl::Status {
                        ASSIGN_OR_RETURN(store::Revision retained_from, RetainedFrom(reader));
                        if (after + 1 < retained_from) return TokenExpired(retained_from);
                        return absl::OkStatus();
                      })
                      .status());
  return std::make_pair(filter, after);
}

absl::StatusOr<store::Revision> AuditTrail::ReadChanges(const ChangeFilter& filter, store::Revision after,
                                                        store::Revision up_to, int limit,
                                                        v1::WatchChangesResponse& response) const {
  const std::string prefix =
      filter.siret.empty() ? store::AuditLogPrefix() : store::AuditByStructurePrefix(filter.siret);
  store::Revision reached = after;
  store::Revision last_sent = 0;
  bool bounded = false;  // stopped at an entry past `up_to`
  absl::StatusOr<store::Revision> read = store_.Read([&](store::Reader& reader) -> absl::Status {
    // A stream that fell behind the retention mark has missed entries: it must resynchronise.
    ASSIGN_OR_RETURN(store::Revision retained_from, RetainedFrom(reader));
    if (after + 1 < retained_from) return TokenExpired(retained_from);
    bool full = false;
    RETURN_IF_ERROR(ForEachEntry(reader, prefix, after + 1, [&](store::Revision revision, v1::AuditEntry& entry) {
      if (revision > up_to) {
        bounded = true;
        return false;
      }
      if (entry.outcome() == v1::AuditEntry::DENIED) return true;  // nothing changed
      if (!filter.application.empty() && !ConcernsApplication(entry, filter.application)) return true;
      *response.add_audit_entries() = std::move(entry);
      reached = last_sent = revision;
      full = response.audit_entries_size() >= limit;
      return !full;
    }));
    if (!full) reached = 0;  // everything up to the snapshot: set below from its revision
    return absl::OkStatus();
  });
  if (!read.ok()) return read.status();
  // The snapshot may hold commits past the revision Read reports: never resume before an entry already sent.
  if (reached == 0) reached = std::max({after, bounded ? up_to : *read, last_sent});
  response.set_consistency_token(EncodeConsistencyToken(reached));
  return reached;
}

absl::StatusOr<int64_t> AuditTrail::Prune(absl::Time cutoff, int batch) {
  int64_t removed = 0;
  store::Revision retained_from = 0;
  // 1. The entries, oldest first: each commit moves the mark past the entries it deletes.
  while (true) {
    std::vector<std::string> keys;
    store::Revision next_from = 0;
    RETURN_IF_ERROR(store_
                        .Read([&](store::Reader& reader) -> absl::Status {
                          ASSIGN_OR_RETURN(retained_from, RetainedFrom(reader));
                          absl::Status decoded = absl::OkStatus();
                          RETURN_IF_ERROR(store::ScanLog(
                              reader, store::AuditLogPrefix(), retained_from, [&](const store::LogEntry& logged) {
                                v1::AuditEntry entry;
                                if (!entry.ParseFromArray(logged.value.data(), static_cast<int>(logged.value.size()))) {
                                  decoded = absl::DataLossError("an audit entry does not decode");
                                  return false;
                                }
                                // Commit order is time order: the first entry young enough ends the pass.
                                if (FromTimestamp(entry.time()) >= cutoff) return false;
                                keys.emplace_back(logged.id);
                                next_from = logged.revision + 1;
                                return static_cast<int>(keys.size()) < batch;
                              }));
                          return decoded;
                        })
                        .status());
    if (keys.empty()) break;
    RETURN_IF_ERROR(store_
                        .Update([&](store::Transaction& txn) -> absl::Status {
                          std::string mark;
                          store::AppendUint64(&mark, next_from);
                          RETURN_IF_ERROR(txn.Put(store::MetaKey(store::kMetaAuditRetainedFrom), mark));
                          for (const std::string& key : keys) RETURN_IF_ERROR(txn.Delete(key));
                          return absl::OkStatus();
                        })
                        .status());
    removed += static_cast<int64_t>(keys.size());
    retained_from = next_from;
  }
  if (retained_from == 0) return removed;

  // 2. Their index entries.
  for (store::KeyTag tag :
       {store::KeyTag::kAuditByStructure, store::KeyTag::kAuditByAccount, store::KeyTag::kAuditByActor}) {
    RETURN_IF_ERROR(PruneIndex(store_, tag, retained_from, batch));
  }
  return removed;
}

}  // namespace habilis::domain
