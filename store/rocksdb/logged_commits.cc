#include "store/rocksdb/logged_commits.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/transaction_log.h"
#include "rocksdb/write_batch.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::store {
namespace {

// One write batch of the log, as a commit: every commit writes its revision (RocksDbStore::Update); a batch
// without one is the store's own bookkeeping (its format version, its id), which touches meta keys only.
class BatchReader final : public rocksdb::WriteBatch::Handler {
 public:
  std::optional<Revision> revision;
  std::vector<Change> changes;
  bool only_meta = true;

  rocksdb::Status PutCF(uint32_t family, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    if (family != 0) return rocksdb::Status::NotSupported("a column family habilis does not write");
    if (key == rocksdb::Slice(revision_key_)) {
      absl::string_view in(value.data(), value.size());
      revision = ConsumeUint64(&in);
      if (!revision) return rocksdb::Status::Corruption("a revision that does not decode");
      return rocksdb::Status::OK();
    }
    Add(key, value.ToString());
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t family, const rocksdb::Slice& key) override {
    if (family != 0) return rocksdb::Status::NotSupported("a column family habilis does not write");
    Add(key, std::nullopt);
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t family, const rocksdb::Slice& key) override { return DeleteCF(family, key); }
  // Range deletions, merges and two-phase commits are none of habilis's writes: the default handlers refuse them.

 private:
  void Add(const rocksdb::Slice& key, std::optional<std::string> value) {
    if (key.empty() || key[0] != static_cast<char>(KeyTag::kMeta)) only_meta = false;
    changes.push_back(Change{key.ToString(), std::move(value)});
  }
  const std::string revision_key_ = MetaKey(kMetaRevision);
};

// The revision of the first commit in the log file starting at `sequence`; nullopt if it holds none.
std::optional<Revision> FirstRevisionFrom(rocksdb::DB& db, rocksdb::SequenceNumber sequence) {
  std::unique_ptr<rocksdb::TransactionLogIterator> it;
  if (!db.GetUpdatesSince(sequence, &it).ok()) return std::nullopt;
  for (int batches = 0; it->Valid() && batches < 4; it->Next(), ++batches) {
    BatchReader batch;
    if (!it->GetBatch().writeBatchPtr->Iterate(&batch).ok()) return std::nullopt;
    if (batch.revision) return batch.revision;
  }
  return std::nullopt;
}

absl::Status Missing(Revision after, absl::string_view why) {
  return absl::OutOfRangeError(absl::StrCat("the write-ahead log does not hold the commits after ", after, ": ", why));
}

// Where to read the log from for the commits after `after`: the start of the newest file that begins at or
// before the first of them (sequences and revisions grow together).
absl::StatusOr<rocksdb::SequenceNumber> StartOfCommitAfter(rocksdb::DB& db, Revision after) {
  rocksdb::VectorLogPtr files;
  rocksdb::Status listed = db.GetSortedWalFiles(files);
  if (!listed.ok()) return Missing(after, listed.ToString());
  for (auto file = files.rbegin(); file != files.rend(); ++file) {
    std::optional<Revision> first = FirstRevisionFrom(db, (*file)->StartSequence());
    if (first && *first <= after + 1) return (*file)->StartSequence();
  }
  return Missing(after, "its oldest file starts later");
}

}  // namespace

absl::StatusOr<Revision> ReadLoggedCommits(rocksdb::DB& db, Revision after, Revision up_to, CommitVisitor visit) {
  if (after >= up_to) return after;
  absl::StatusOr<rocksdb::SequenceNumber> start = StartOfCommitAfter(db, after);
  if (!start.ok()) return start.status();

  std::unique_ptr<rocksdb::TransactionLogIterator> it;
  rocksdb::Status opened = db.GetUpdatesSince(*start, &it);
  if (!opened.ok()) return Missing(after, opened.ToString());
  // Kept until the whole range is known to be there: a caller that cannot have it all reloads instead.
  std::vector<std::pair<Revision, std::vector<Change>>> commits;
  Revision reached = after;
  for (; it->Valid() && reached < up_to; it->Next()) {
    BatchReader batch;
    rocksdb::Status read = it->GetBatch().writeBatchPtr->Iterate(&batch);
    if (!read.ok()) return Missing(after, read.ToString());
    if (!batch.revision) {
      if (!batch.only_meta) return Missing(after, "a write outside a commit");
      continue;
    }
    if (*batch.revision <= reached) continue;
    // RocksDbStore's revisions are dense: one missing is a gap in the log.
    if (*batch.revision != reached + 1) return Missing(after, absl::StrCat("revision ", reached + 1, " is missing"));
    reached = *batch.revision;
    commits.emplace_back(reached, std::move(batch.changes));
  }
  if (reached < up_to) {
    return Missing(after, absl::StrCat("it ends at revision ", reached, " (", it->status().ToString(), ")"));
  }
  Revision visited = after;
  for (const auto& [revision, changes] : commits) {
    if (!visit(revision, changes)) break;
    visited = revision;
  }
  return visited;
}

}  // namespace habilis::store
