#include "store/rocksdb/rocksdb_store.h"

#include <filesystem>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/utilities/optimistic_transaction_db.h"
#include "rocksdb/utilities/transaction.h"
#include "store/encoding.h"
#include "store/keyspace.h"
#include "store/log.h"
#include "store/overlay_transaction.h"
#include "store/rocksdb/logged_commits.h"

namespace habilis::store {
namespace {

// The one place where RocksDB statuses become absl statuses.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  // A conflict: Update runs the transaction again (store.h ConflictError).
  if (s.IsBusy() || s.IsTryAgain()) return ConflictError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  if (s.IsIOError() || s.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

#define RETURN_IF_ROCKS_FAILS(expr, what)                           \
  do {                                                              \
    const rocksdb::Status rocks_status_ = (expr);                   \
    if (!rocks_status_.ok()) return FromRocks(rocks_status_, what); \
  } while (false)

bool IsRocksConflict(const rocksdb::Status& s) { return s.IsBusy() || s.IsTryAgain(); }

std::string EncodeUint64(uint64_t value) {
  std::string out;
  AppendUint64(&out, value);
  return out;
}

absl::Status ScanIterator(rocksdb::Iterator* it, absl::string_view begin, absl::string_view end, ScanVisitor visit) {
  for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    absl::string_view k(key.data(), key.size());
    if (!end.empty() && k >= end) break;
    rocksdb::Slice value = it->value();
    if (!visit(k, absl::string_view(value.data(), value.size()))) break;
  }
  return FromRocks(it->status(), "scan");
}

// The revision a snapshot holds: every commit writes it in its own batch (RocksDbStore::Update).
absl::StatusOr<Revision> RevisionAt(rocksdb::DB* db, const rocksdb::ReadOptions& options) {
  std::string value;
  rocksdb::Status s = db->Get(options, MetaKey(kMetaRevision), &value);
  if (s.IsNotFound()) return Revision{0};
  if (!s.ok()) return FromRocks(s, "read revision");
  absl::string_view in(value);
  std::optional<uint64_t> revision = ConsumeUint64(&in);
  if (!revision) return absl::DataLossError("the store's revision does not decode");
  return *revision;
}

// Reads of a snapshot, outside any transaction.
class SnapshotReader final : public Reader {
 public:
  // `fill_cache` false: a bulk read (an export, an observer's load) that must not evict the working set
  // from the block cache.
  SnapshotReader(rocksdb::DB* db, const rocksdb::Snapshot* snapshot, bool fill_cache = true) : db_(db) {
    options_.snapshot = snapshot;
    options_.fill_cache = fill_cache;
  }

  absl::StatusOr<std::string> Get(absl::string_view key) override {
    std::string value;
    rocksdb::Status s = db_->Get(options_, rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return absl::NotFoundError("no entry");
    if (!s.ok()) return FromRocks(s, "get");
    return value;
  }

  absl::Status Scan(absl::string_view begin, absl::string_view end, ScanVisitor visit) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options_));
    return ScanIterator(it.get(), begin, end, visit);
  }

  absl::StatusOr<Revision> SnapshotRevision() override { return RevisionAt(db_, options_); }

 private:
  rocksdb::DB* db_;
  rocksdb::ReadOptions options_;
};

// The snapshot a transaction reads, each key watched for conflicts and read from RocksDB once. GetForUpdate
// without a value only watches the key; the value is read beside it, straight from the snapshot: the
// transaction's own writes are in its overlay (RocksTransaction), never in RocksDB's indexed write batch,
// whose skip list cost more than the reads themselves in a large transaction (an import's batch).
class WatchedSnapshot final : public Reader {
 public:
  WatchedSnapshot(rocksdb::DB* db, rocksdb::Transaction* txn) : db_(db), txn_(txn) {
    options_.snapshot = txn->GetSnapshot();
  }

  absl::StatusOr<std::string> Get(absl::string_view key) override {
    std::optional<std::string> value;
    if (auto known = read_.find(key); known != read_.end()) {
      value = known->second;
    } else {
      const rocksdb::Slice slice(key.data(), key.size());
      RETURN_IF_ROCKS_FAILS(txn_->GetForUpdate(options_, slice, nullptr), "watch");
      value.emplace();
      rocksdb::Status s = db_->Get(options_, slice, &*value);
      if (s.IsNotFound()) {
        value.reset();
      } else if (!s.ok()) {
        return FromRocks(s, "get");
      }
      Remember(key, value);
    }
    if (!value) return absl::NotFoundError("no entry");
    return *std::move(value);
  }

  // Unwatched, as Transaction's contract allows (guards watch ranges).
  absl::Status Scan(absl::string_view begin, absl::string_view end, ScanVisitor visit) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options_));
    return ScanIterator(it.get(), begin, end, visit);
  }

  absl::StatusOr<Revision> SnapshotRevision() override { return RevisionAt(db_, options_); }

 private:
  rocksdb::DB* db_;
  rocksdb::Transaction* txn_;
  rocksdb::ReadOptions options_;
  // Keeps what a key read: up to kRememberedBytes of keys and values, so that a transaction reading a great
  // many keys holds no more than that. A key read again past the bound is read from the snapshot again,
  // which gives the same value.
  void Remember(absl::string_view key, const std::optional<std::string>& value) {
    const size_t bytes = key.size() + (value ? value->size() : 0);
    if (remembered_bytes_ + bytes > kRememberedBytes) return;
    remembered_bytes_ += bytes;
    read_.emplace(key, value);
  }

  static constexpr size_t kRememberedBytes = 16 << 20;
  // Every key read so far (nullopt: absent), within the bound: a transaction often reads one key several
  // times (an import's row reads a login to decide, then to audit it), and the snapshot does not change.
  absl::flat_hash_map<std::string, std::optional<std::string>> read_;
  size_t remembered_bytes_ = 0;
};

class RocksTransaction final : public Transaction {
 public:
  RocksTransaction(rocksdb::DB* db, rocksdb::Transaction* txn) : txn_(txn), snapshot_(db, txn), overlay_(snapshot_) {}

  absl::StatusOr<Revision> SnapshotRevision() override { return snapshot_.SnapshotRevision(); }
  absl::StatusOr<std::string> Get(absl::string_view key) override { return overlay_.Get(key); }
  absl::Status Scan(absl::string_view begin, absl::string_view end, ScanVisitor visit) override {
    return overlay_.Scan(begin, end, visit);
  }

  absl::Status Put(absl::string_view key, absl::string_view value) override { return overlay_.Put(key, value); }
  absl::Status Delete(absl::string_view key) override { return overlay_.Delete(key); }

  absl::Status AppendToLog(absl::string_view log, absl::string_view value) override {
    log_entries_.push_back(Change{std::string(log), std::string(value)});
    return absl::OkStatus();
  }

  absl::Status ProtectRange(absl::string_view key) override {
    // Writers bump the guards of every range they touch, often the same one many times in one transaction
    // (an import's batch): the guard is written once.
    bumped_guards_.emplace(key);
    return absl::OkStatus();
  }

  // Once the transaction is done, before the commit lock: hands its writes to RocksDB's batch, watched (a
  // written key conflicts like a read one), unindexed (nothing reads the batch), each key once and in key
  // order, so that the memtable inserts them each next to the one before. The observers get them in the
  // same order, as a replay of the write-ahead log does (logged_commits.h).
  absl::Status WriteOverlay() {
    txn_->DisableIndexing();
    for (const auto& [key, value] : overlay_.writes()) {
      RETURN_IF_ROCKS_FAILS(value ? txn_->Put(key, *value) : txn_->Delete(key), "write");
      changes_.push_back(Change{key, value});
    }
    return absl::OkStatus();
  }

  // Called under the commit lock once the revision is known: adds the log entries and the unwatched guard
  // bumps to the transaction.
  absl::Status WriteCommitEntries(Revision revision) {
    for (const std::string& guard : bumped_guards_) {
      RETURN_IF_ROCKS_FAILS(txn_->PutUntracked(guard, EncodeUint64(revision)), "guard");
      changes_.push_back(Change{guard, EncodeUint64(revision)});
    }
    bumped_guards_.clear();
    for (size_t i = 0; i < log_entries_.size(); ++i) {
      std::string key = LogEntryKey(log_entries_[i].key, revision, i);
      RETURN_IF_ROCKS_FAILS(txn_->PutUntracked(key, *log_entries_[i].value), "log entry");
      changes_.push_back(Change{std::move(key), log_entries_[i].value});
    }
    log_entries_.clear();
    return absl::OkStatus();
  }

  // The writes, for the commit observers, once WriteOverlay and WriteCommitEntries made them. Always kept:
  // a transaction may begin before an observer is attached and commit after.
  const std::vector<Change>& changes() const { return changes_; }
  // The writes, handed over once the commit is published (the feed's history keeps them without a copy).
  std::vector<Change> TakeChanges() { return std::move(changes_); }

 private:
  rocksdb::Transaction* txn_;
  WatchedSnapshot snapshot_;
  OverlayTransaction overlay_;  // the writes, until WriteOverlay
  std::vector<Change> changes_;
  std::vector<Change> log_entries_;  // key: the log's prefix
  absl::flat_hash_set<std::string> bumped_guards_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const std::string& directory) {
  return OpenDirectory(directory, false);
}

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::OpenForMigration(const std::string& directory) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(directory) / "CURRENT", ec)) {
    return absl::NotFoundError(absl::StrCat(directory, " holds no store"));
  }
  return OpenDirectory(directory, true);
}

absl::Status RocksDbStore::SetFormatVersion(uint64_t version) {
  rocksdb::WriteOptions write;
  write.sync = true;
  rocksdb::Status s = db_->Put(write, MetaKey(kMetaFormatVersion), EncodeUint64(version));
  if (!s.ok()) return FromRocks(s, "write format version");
  format_version_ = version;
  return absl::OkStatus();
}

namespace {

// The options of the store's database, tuned for point reads (access checks) and optimistic transactions.
rocksdb::Options StoreOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  // Access checks are point reads: a block cache that holds the working set, and Bloom filters so that a
  // lookup of a missing key rarely touches a data block.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(512 << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Filters and indexes stay in memory with their table, outside the block cache (about 1.3 bytes per key).
  // In the cache, a large table's whole-file filter (megabytes) did not fit a cache shard: it was evicted at
  // once, read back and checksummed on every lookup, which made imports into a 1M-member store 5 times
  // slower.
  table.cache_index_and_filter_blocks = false;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Optimistic conflict checking needs the recent write history kept in memory.
  options.max_write_buffer_size_to_maintain = 64 << 20;
  // Writes look up many keys that are not there (a new login, the "before" of a new record, the conflict
  // check of each key written): a Bloom filter on the memtable answers those without a skip-list search.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.05;
  options.IncreaseParallelism(2);
  // Write-ahead log files are archived, not deleted, up to this size: the history an index snapshot catches up
  // from after a restart (logged_commits.h). At 200 commits a second of about 2 KiB that is 10 minutes; the
  // server writes its snapshot more often (docs/OPERATIONS.md "Start-up").
  options.WAL_ttl_seconds = 0;
  options.WAL_size_limit_MB = RocksDbStore::kWalArchiveMegabytes;
  return options;
}

// What the store's meta keys say: its format and its latest revision.
struct StoreMeta {
  uint64_t format_version = kFormatVersion;
  Revision revision = 0;
  std::string id;
};

// The store's id, drawn now if the store has none (a new store, or one written before ids).
absl::StatusOr<std::string> ReadOrDrawStoreId(rocksdb::OptimisticTransactionDB& db) {
  std::string id;
  rocksdb::Status s = db.Get(rocksdb::ReadOptions(), MetaKey(kMetaStoreId), &id);
  if (s.ok()) return id;
  if (!s.IsNotFound()) return FromRocks(s, "read the store id");
  id = NewStoreId();
  rocksdb::WriteOptions write;
  write.sync = true;
  RETURN_IF_ROCKS_FAILS(db.Put(write, MetaKey(kMetaStoreId), id), "write the store id");
  return id;
}

// Reads the format version and the revision of the store at `directory` (a new store gets this version's
// format); a store of another format is refused, unless `migrating` and it is older.
absl::StatusOr<StoreMeta> ReadStoreMeta(rocksdb::OptimisticTransactionDB& db, const std::string& directory,
                                        bool migrating) {
  StoreMeta meta;
  rocksdb::ReadOptions read;
  std::string value;
  rocksdb::Status s = db.Get(read, MetaKey(kMetaFormatVersion), &value);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions write;
    write.sync = true;
    s = db.Put(write, MetaKey(kMetaFormatVersion), EncodeUint64(kFormatVersion));
    if (!s.ok()) return FromRocks(s, "write format version");
  } else if (!s.ok()) {
    return FromRocks(s, "read format version");
  } else {
    absl::string_view in(value);
    std::optional<uint64_t> version = ConsumeUint64(&in);
    if (!version) return absl::DataLossError(absl::StrCat(directory, ": the format version does not decode"));
    meta.format_version = *version;
    if (!migrating && *version < kFormatVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat(directory, " holds store format ", *version, "; this habilisd reads format ", kFormatVersion,
                       ": stop every server on it, back it up, then run habilis-migrate --data-dir ", directory,
                       " (docs/OPERATIONS.md \"Upgrades\")"));
    }
    if (*version > kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(directory, " holds store format ", *version,
                                                        ", written by a newer habilis; this one reads format ",
                                                        kFormatVersion));
    }
    s = db.Get(read, MetaKey(kMetaRevision), &value);
    if (s.ok()) {
      absl::string_view rev(value);
      meta.revision = ConsumeUint64(&rev).value_or(0);
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "read revision");
    }
  }
  absl::StatusOr<std::string> id = ReadOrDrawStoreId(db);
  if (!id.ok()) return id.status();
  meta.id = *std::move(id);
  return meta;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::OpenDirectory(const std::string& directory,
                                                                          bool migrating) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot create ", directory, ": ", ec.message()));
  rocksdb::OptimisticTransactionDB* raw = nullptr;
  rocksdb::Status s = rocksdb::OptimisticTransactionDB::Open(StoreOptions(), directory, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("open ", directory));
  std::unique_ptr<rocksdb::OptimisticTransactionDB> db(raw);
  absl::StatusOr<StoreMeta> meta = ReadStoreMeta(*db, directory, migrating);
  if (!meta.ok()) return meta.status();
  return std::unique_ptr<RocksDbStore>(new RocksDbStore(std::move(db), meta->revision, meta->format_version, meta->id));
}

RocksDbStore::RocksDbStore(std::unique_ptr<rocksdb::OptimisticTransactionDB> db, Revision revision,
                           uint64_t format_version, std::string id)
    : db_(std::move(db)),
      format_version_(format_version),
      id_(std::move(id)),
      revision_(revision),
      published_revision_(revision),
      history_after_(revision),
      feed_(*this, revision) {}

RocksDbStore::~RocksDbStore() = default;

absl::StatusOr<Revision> RocksDbStore::Update(absl::FunctionRef<absl::Status(Transaction&)> fn,
                                              const UpdateOptions& options) {
  rocksdb::WriteOptions write;
  write.sync = true;
  rocksdb::OptimisticTransactionOptions txn_options;
  txn_options.set_snapshot = true;
  for (int attempt = 0; attempt < options.max_attempts; ++attempt) {
    std::unique_ptr<rocksdb::Transaction> txn(db_->BeginTransaction(write, txn_options));
    RocksTransaction transaction(db_.get(), txn.get());
    absl::Status status = fn(transaction);
    if (IsConflict(status)) continue;
    if (!status.ok()) return status;
    if (options.dry_run) return transaction.SnapshotRevision();
    if (absl::Status written = transaction.WriteOverlay(); !written.ok()) return written;

    absl::MutexLock lock(&commit_mu_);
    Revision next = revision_ + 1;
    // Untracked: every commit writes the revision, and it must not make every pair of commits conflict.
    rocksdb::Status s = txn->PutUntracked(MetaKey(kMetaRevision), EncodeUint64(next));
    if (!s.ok()) return FromRocks(s, "write revision");
    absl::Status logged = transaction.WriteCommitEntries(next);
    if (!logged.ok()) return logged;
    s = txn->Commit();
    if (IsRocksConflict(s)) continue;
    if (!s.ok()) return FromRocks(s, "commit");
    revision_ = next;
    feed_.Publish(next, transaction.changes());
    Remember(next, transaction.TakeChanges());
    absl::MutexLock publish(&revision_read_mu_);
    published_revision_ = next;
    return next;
  }
  return absl::UnavailableError(absl::StrCat("the transaction conflicted with concurrent changes ",
                                             options.max_attempts, " times; the store is busy, retry"));
}

void RocksDbStore::Remember(Revision revision, std::vector<Change> changes) {
  size_t bytes = sizeof(Commit);
  for (const Change& change : changes) bytes += change.key.size() + (change.value ? change.value->size() : 0);
  absl::MutexLock lock(&history_mu_);
  history_.push_back(Commit{revision, std::move(changes), bytes});
  history_bytes_ += bytes;
  while (history_bytes_ > kFeedHistoryBytes && history_.size() > 1) {
    history_bytes_ -= history_.front().bytes;
    history_after_ = history_.front().revision;
    history_.pop_front();
  }
}

absl::StatusOr<Revision> RocksDbStore::ReadChanges(Revision after, CommitVisitor visit) {
  absl::MutexLock lock(&history_mu_);
  Revision reached = after;
  if (after < history_after_) {
    // Commits from before the store was opened, or that memory let go: the write-ahead log may hold them.
    bool stopped = false;
    absl::StatusOr<Revision> logged =
        ReadLoggedCommits(*db_, after, history_after_, [&](Revision revision, absl::Span<const Change> changes) {
          stopped = !visit(revision, changes);
          return !stopped;
        });
    if (!logged.ok()) return logged.status();
    reached = *logged;
    if (stopped) return reached;
  }
  for (const Commit& commit : history_) {
    if (commit.revision <= reached) continue;
    if (!visit(commit.revision, commit.changes)) break;
    reached = commit.revision;
  }
  return reached;
}

absl::StatusOr<Revision> RocksDbStore::Read(absl::FunctionRef<absl::Status(Reader&)> fn, const ReadOptions& options) {
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  SnapshotReader reader(db_.get(), snapshot, /*fill_cache=*/!options.bulk);
  absl::Status status = fn(reader);
  absl::StatusOr<Revision> revision = status.ok() ? reader.SnapshotRevision() : status;
  db_->ReleaseSnapshot(snapshot);
  return revision;
}

absl::Status RocksDbStore::Observe(CommitObserver& observer, absl::FunctionRef<absl::Status(Reader&, Revision)> load) {
  return feed_.Observe(observer, load);
}

absl::Status RocksDbStore::Resume(CommitObserver& observer, Revision held) { return feed_.Resume(observer, held); }

void RocksDbStore::StopObserving(CommitObserver& observer) { feed_.StopObserving(observer); }

absl::Status RocksDbStore::WaitObserved(Revision revision, absl::Time deadline) {
  return feed_.WaitObserved(revision, deadline);
}

absl::StatusOr<Revision> RocksDbStore::LatestRevision() const {
  absl::MutexLock lock(&revision_read_mu_);
  return published_revision_;
}

absl::StatusOr<Revision> RocksDbStore::Checkpoint(const std::string& directory) {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return FromRocks(s, "start a checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // Commits wait, so that the revision returned is the one the copy holds.
  absl::MutexLock lock(&commit_mu_);
  s = checkpoint->CreateCheckpoint(directory, /*log_size_for_flush=*/0);
  if (!s.ok()) return FromRocks(s, absl::StrCat("checkpoint into ", directory));
  return revision_;
}

StoreStatistics RocksDbStore::Statistics() const {
  auto property = [this](const std::string& name) {
    uint64_t value = 0;
    return db_->GetIntProperty(name, &value) ? value : 0;
  };
  StoreStatistics statistics;
  // Write-ahead log files are not counted by RocksDB's properties; the data directory is what the disk holds.
  statistics.disk_bytes =
      property(rocksdb::DB::Properties::kTotalSstFilesSize) + property(rocksdb::DB::Properties::kCurSizeAllMemTables);
  statistics.live_data_bytes = property(rocksdb::DB::Properties::kEstimateLiveDataSize);
  statistics.pending_compaction_bytes = property(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  statistics.running_compactions = property(rocksdb::DB::Properties::kNumRunningCompactions);
  return statistics;
}

}  // namespace habilis::store
