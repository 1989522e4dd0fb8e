#include "store/postgres/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "store/encoding.h"
#include "store/keyspace.h"
#include "store/log.h"

namespace habilis::store {
namespace postgres {
namespace {

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// The one place where PostgreSQL errors become absl statuses.
absl::Status StatusOf(PGconn* conn, const PGresult* result, absl::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message(
      absl::StripTrailingAsciiWhitespace(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn)));
  message = absl::StrCat("postgresql: ", what, ": ", message);
  const absl::string_view code = state != nullptr ? state : "";
  // Serialization failure, deadlock: the transaction lost to a concurrent one and runs again.
  if (code == "40001" || code == "40P01") return ConflictError(message);
  // Connection exceptions (08), shutdowns (57P01-03), out of connections or resources (53): the database is
  // not there for now.
  if (absl::StartsWith(code, "08") || absl::StartsWith(code, "57P") || absl::StartsWith(code, "53") ||
      PQstatus(conn) != CONNECTION_OK) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

uint64_t DecodeInt8(const char* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

absl::string_view Field(const PGresult* result, int row, int column) {
  return absl::string_view(PQgetvalue(result, row, column), static_cast<size_t>(PQgetlength(result, row, column)));
}

}  // namespace

// A parameter: bytes sent as binary (bytea) or as text (a number).
struct Param {
  absl::string_view bytes;
  bool binary = true;
};

// One libpq connection with the statements it has prepared. One thread at a time.
class Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Connect(const std::string& url) {
    PGconn* conn = PQconnectdb(url.c_str());
    auto connection = std::unique_ptr<Connection>(new Connection(conn));
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      return absl::UnavailableError(
          absl::StrCat("postgresql: cannot connect: ",
                       absl::StripTrailingAsciiWhitespace(conn != nullptr ? PQerrorMessage(conn) : "out of memory")));
    }
    // The server's notices ("relation … already exists, skipping") are not habilisd's to print.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    // Explicit, whatever the server's default: a commit returns once it is on disk (docs/SCALE-OUT.md).
    if (absl::Status set = connection->Exec("SET synchronous_commit = on"); !set.ok()) return set;
    return connection;
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }

  // A statement without parameters or rows (BEGIN, COMMIT, ROLLBACK, DDL). A BEGIN forgets the last
  // transaction's failure.
  absl::Status Exec(const char* sql) {
    if (absl::StartsWith(sql, "BEGIN")) first_failure_ = absl::OkStatus();
    ResultPtr result(PQexec(conn_, sql), PQclear);
    if (result != nullptr && PQresultStatus(result.get()) == PGRES_COMMAND_OK) return absl::OkStatus();
    return StatusOf(conn_, result.get(), sql);
  }

  // The first statement of the current transaction that failed. PostgreSQL refuses every later statement
  // of that transaction ("current transaction is aborted", 25P02): Run reports a later failure as this
  // first one, so that a serialization failure stays a conflict (the transaction runs again) even when the
  // code that met it let it go. (The scale-out test met an INTERNAL error that way.)
  const absl::Status& first_failure() const { return first_failure_; }

  // Runs `sql`, prepared on this connection the first time under `name`; rows come back in binary.
  absl::StatusOr<ResultPtr> Run(const std::string& name, absl::string_view sql, absl::Span<const Param> params) {
    if (!prepared_.contains(name)) {
      ResultPtr prepared(
          PQprepare(conn_, name.c_str(), std::string(sql).c_str(), static_cast<int>(params.size()), nullptr), PQclear);
      if (prepared == nullptr || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
        return Failed(StatusOf(conn_, prepared.get(), absl::StrCat("prepare ", name)));
      }
      prepared_.insert(name);
    }
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    std::vector<std::string> texts;  // text parameters need their terminating NUL
    texts.reserve(params.size());
    for (const Param& param : params) {
      if (param.binary) {
        values.push_back(param.bytes.data());
      } else {
        values.push_back(texts.emplace_back(param.bytes).c_str());
      }
      lengths.push_back(static_cast<int>(param.bytes.size()));
      formats.push_back(param.binary ? 1 : 0);
    }
    ResultPtr result(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(), lengths.data(),
                                    formats.data(), /*resultFormat=*/1),
                     PQclear);
    const ExecStatusType status = result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
    return Failed(StatusOf(conn_, result.get(), name));
  }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  absl::Status Failed(absl::Status status) {
    if (first_failure_.ok()) first_failure_ = std::move(status);
    return first_failure_;
  }
  PGconn* conn_;
  absl::Status first_failure_;
  absl::flat_hash_set<std::string> prepared_;
};

namespace {

constexpr char kSelectRevision[] = "SELECT revision FROM habilis_revision WHERE id = 1";

absl::StatusOr<Revision> ReadRevision(Connection& connection) {
  absl::StatusOr<ResultPtr> result = connection.Run("revision", kSelectRevision, {});
  if (!result.ok()) return result.status();
  if (PQntuples(result->get()) != 1) return absl::DataLossError("postgresql: habilis_revision has no row");
  return DecodeInt8(PQgetvalue(result->get(), 0, 0));
}

// The changes of a commit as the changelog holds them: for each, the key's length and bytes, then 0 (deleted)
// or 1 and the value's length and bytes.
std::string EncodeChanges(absl::Span<const Change> changes) {
  std::string out;
  for (const Change& change : changes) {
    AppendUint64(&out, change.key.size());
    out += change.key;
    out.push_back(change.value ? 1 : 0);
    if (change.value) {
      AppendUint64(&out, change.value->size());
      out += *change.value;
    }
  }
  return out;
}

absl::StatusOr<std::vector<Change>> DecodeChanges(absl::string_view in) {
  std::vector<Change> changes;
  auto bytes = [&in](std::string* out) {
    std::optional<uint64_t> size = ConsumeUint64(&in);
    if (!size || *size > in.size()) return false;
    *out = std::string(in.substr(0, *size));
    in.remove_prefix(*size);
    return true;
  };
  while (!in.empty()) {
    Change& change = changes.emplace_back();
    if (!bytes(&change.key) || in.empty()) return absl::DataLossError("postgresql: a changelog row does not decode");
    const bool has_value = in.front() == 1;
    in.remove_prefix(1);
    if (has_value && !bytes(&change.value.emplace())) {
      return absl::DataLossError("postgresql: a changelog row does not decode");
    }
  }
  return changes;
}

// The statements that send a transaction's pending writes, `rows` at a time.
std::string UpsertStatement(int rows) {
  std::string sql = "INSERT INTO habilis_kv (k, v) VALUES ";
  for (int row = 0; row < rows; ++row) {
    absl::StrAppend(&sql, row > 0 ? ", " : "", "($", 2 * row + 1, ", $", 2 * row + 2, ")");
  }
  return absl::StrCat(sql, " ON CONFLICT (k) DO UPDATE SET v = excluded.v");
}
std::string DeleteStatement(int rows) {
  std::string sql = "DELETE FROM habilis_kv WHERE k IN (";
  for (int row = 0; row < rows; ++row) absl::StrAppend(&sql, row > 0 ? ", " : "", "$", row + 1);
  return absl::StrCat(sql, ")");
}

// Reads and writes of one transaction on one connection. As a Reader (Store::Read) it only reads.
class PgTransaction final : public Transaction {
 public:
  explicit PgTransaction(Connection& connection) : connection_(connection) {}

  absl::StatusOr<std::string> Get(absl::string_view key) override {
    if (absl::Status flushed = Flush(); !flushed.ok()) return flushed;
    absl::StatusOr<ResultPtr> result = connection_.Run("get", "SELECT v FROM habilis_kv WHERE k = $1", {Param{key}});
    if (!result.ok()) return result.status();
    if (PQntuples(result->get()) == 0) return absl::NotFoundError("no entry");
    return std::string(Field(result->get(), 0, 0));
  }

  // Keyset pages in key order: small first (most scans stop at their first entries), larger after.
  absl::Status Scan(absl::string_view begin, absl::string_view end, ScanVisitor visit) override {
    if (absl::Status flushed = Flush(); !flushed.ok()) return flushed;
    std::string from(begin);
    bool inclusive = true;
    for (int page = 16;; page = std::min(page * 8, 1024)) {
      const std::string name = absl::StrCat("scan", inclusive ? "_from" : "_after", end.empty() ? "" : "_to", page);
      const std::string sql = absl::StrCat("SELECT k, v FROM habilis_kv WHERE k ", inclusive ? ">=" : ">", " $1",
                                           end.empty() ? "" : " AND k < $2", " ORDER BY k LIMIT ", page);
      absl::StatusOr<ResultPtr> result = end.empty() ? connection_.Run(name, sql, {Param{from}})
                                                     : connection_.Run(name, sql, {Param{from}, Param{end}});
      if (!result.ok()) return result.status();
      const int rows = PQntuples(result->get());
      for (int row = 0; row < rows; ++row) {
        if (!visit(Field(result->get(), row, 0), Field(result->get(), row, 1))) return absl::OkStatus();
      }
      if (rows < page) return absl::OkStatus();
      from = std::string(Field(result->get(), rows - 1, 0));
      inclusive = false;
    }
  }

  // The first read fixes the snapshot (PostgreSQL takes it at a transaction's first statement, not at BEGIN).
  absl::StatusOr<Revision> SnapshotRevision() override {
    if (!snapshot_revision_) {
      absl::StatusOr<Revision> revision = ReadRevision(connection_);
      if (!revision.ok()) return revision.status();
      snapshot_revision_ = *revision;
    }
    return *snapshot_revision_;
  }

  // Writes wait in `pending_` until the next read or the commit (Flush): a transaction that writes many keys
  // sends them in a few statements instead of one round trip each.
  absl::Status Put(absl::string_view key, absl::string_view value) override {
    pending_[std::string(key)] = std::string(value);
    changes_.push_back(Change{std::string(key), std::string(value)});
    return absl::OkStatus();
  }

  absl::Status Delete(absl::string_view key) override {
    pending_[std::string(key)] = std::nullopt;
    changes_.push_back(Change{std::string(key), std::nullopt});
    return absl::OkStatus();
  }

  absl::Status AppendToLog(absl::string_view log, absl::string_view value) override {
    log_entries_.push_back(Change{std::string(log), std::string(value)});
    return absl::OkStatus();
  }

  // SERIALIZABLE tracks what each transaction scanned: a writer into a range needs no guard of its own.
  absl::Status ProtectRange(absl::string_view) override { return absl::OkStatus(); }

  // Sends the pending writes: puts and deletes in chunks of 256, 128, … rows (a few prepared statements per
  // connection, whatever the count).
  absl::Status Flush() {
    std::vector<Param> puts, deletes;
    for (const auto& [key, value] : pending_) {
      if (value) {
        puts.push_back(Param{key});
        puts.push_back(Param{*value});
      } else {
        deletes.push_back(Param{key});
      }
    }
    absl::Status sent = SendInChunks(puts, 2, &UpsertStatement, "put");
    if (sent.ok()) sent = SendInChunks(deletes, 1, &DeleteStatement, "delete");
    pending_.clear();
    return sent;
  }

  // Runs `statement(rows)` on `params` (`per_row` each) in chunks whose sizes are powers of two.
  absl::Status SendInChunks(absl::Span<const Param> params, int per_row, std::string (*statement)(int rows),
                            absl::string_view name) {
    size_t rows = params.size() / per_row;
    size_t at = 0;
    for (int chunk = 256; chunk >= 1; chunk /= 2) {
      while (rows >= static_cast<size_t>(chunk)) {
        absl::StatusOr<ResultPtr> result = connection_.Run(absl::StrCat(name, "_", chunk), statement(chunk),
                                                           params.subspan(at, static_cast<size_t>(chunk) * per_row));
        if (!result.ok()) return result.status();
        at += static_cast<size_t>(chunk) * per_row;
        rows -= chunk;
      }
    }
    return absl::OkStatus();
  }

  // The end of the transaction: sends the pending writes, then takes the next revision (after them, so that
  // the revision row stays locked only for the commit), writes the log entries and the changelog row.
  absl::StatusOr<Revision> WriteCommit() {
    if (absl::Status flushed = Flush(); !flushed.ok()) return flushed;
    absl::StatusOr<ResultPtr> bumped = connection_.Run(
        "bump", "UPDATE habilis_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision", {});
    if (!bumped.ok()) return bumped.status();
    if (PQntuples(bumped->get()) != 1) return absl::DataLossError("postgresql: habilis_revision has no row");
    const Revision revision = DecodeInt8(PQgetvalue(bumped->get(), 0, 0));
    for (size_t i = 0; i < log_entries_.size(); ++i) {
      std::string key = LogEntryKey(log_entries_[i].key, revision, i);
      pending_[key] = log_entries_[i].value;
      changes_.push_back(Change{std::move(key), log_entries_[i].value});
    }
    if (absl::Status flushed = Flush(); !flushed.ok()) return flushed;
    const std::string text_revision = absl::StrCat(revision);
    absl::StatusOr<ResultPtr> fed =
        connection_.Run("changelog", "INSERT INTO habilis_changelog (revision, changes) VALUES ($1, $2)",
                        {Param{text_revision, /*binary=*/false}, Param{EncodeChanges(changes_)}});
    if (!fed.ok()) return fed.status();
    return revision;
  }

 private:
  Connection& connection_;
  std::optional<Revision> snapshot_revision_;
  std::vector<Change> changes_;                                       // every write, in order, for the changelog
  absl::btree_map<std::string, std::optional<std::string>> pending_;  // the last write of each key, not sent yet
  std::vector<Change> log_entries_;                                   // key: the log
};

// Whether this thread holds PostgresStore::write_mu_ (a transaction that updates the store from inside
// another must not wait for itself).
thread_local bool writing_here = false;

}  // namespace
}  // namespace postgres

using postgres::Connection;
using postgres::ResultPtr;

// A pooled connection, returned to the pool (or dropped if broken) when the lease goes.
class PostgresStore::Lease {
 public:
  Lease(const PostgresStore* store, std::unique_ptr<Connection> connection)
      : store_(store), connection_(std::move(connection)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  ~Lease() {
    if (connection_ != nullptr) store_->Release(std::move(connection_));
  }
  Connection& operator*() const { return *connection_; }
  Connection* operator->() const { return connection_.get(); }

 private:
  const PostgresStore* store_;
  std::unique_ptr<Connection> connection_;
};

absl::StatusOr<PostgresStore::Lease> PostgresStore::Acquire() const {
  {
    absl::MutexLock lock(&pool_mu_);
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (idle_.empty() && open_ >= options_.max_connections) {
      if (pool_cv_.WaitWithDeadline(&pool_mu_, deadline)) {
        return absl::UnavailableError(
            absl::StrCat("postgresql: all ", options_.max_connections, " connections stayed busy for 5 s"));
      }
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
    ++open_;
  }
  absl::StatusOr<std::unique_ptr<Connection>> connected = Connection::Connect(options_.url);
  if (!connected.ok()) {
    absl::MutexLock lock(&pool_mu_);
    --open_;
    return connected.status();
  }
  return Lease(this, *std::move(connected));
}

void PostgresStore::Release(std::unique_ptr<Connection> connection) const {
  absl::MutexLock lock(&pool_mu_);
  pool_cv_.Signal();
  if (connection->broken()) {
    --open_;  // dropped: the next call connects anew (the database may have restarted)
    return;
  }
  idle_.push_back(std::move(connection));
}

namespace {

constexpr absl::Duration kPruneEvery = absl::Minutes(1);

// The schema, created by the first node on a new database. Every statement is accepted by PostgreSQL,
// CockroachDB and YugabyteDB as written (docs/SCALE-OUT.md).
constexpr const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS habilis_kv (k BYTEA PRIMARY KEY, v BYTEA NOT NULL)",
    "CREATE TABLE IF NOT EXISTS habilis_revision (id INT PRIMARY KEY, revision BIGINT NOT NULL)",
    "INSERT INTO habilis_revision (id, revision) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS habilis_changelog (revision BIGINT PRIMARY KEY, changes BYTEA NOT NULL)",
};

absl::Status CreateSchema(Connection& connection) {
  for (const char* statement : kSchema) {
    absl::Status created = connection.Exec(statement);
    // Two nodes creating the same table at once: one fails on PostgreSQL's catalog; the table is there.
    if (!created.ok()) created = connection.Exec(statement);
    if (!created.ok()) return created;
  }
  return absl::OkStatus();
}

// A new store gets this build's format version; another version is refused (there is no migration of a
// PostgreSQL store yet: docs/SCALE-OUT.md).
absl::Status CheckFormatVersion(Connection& connection) {
  std::string version;
  AppendUint64(&version, kFormatVersion);
  const std::string key = MetaKey(kMetaFormatVersion);
  absl::StatusOr<ResultPtr> written =
      connection.Run("format_init", "INSERT INTO habilis_kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING",
                     {postgres::Param{key}, postgres::Param{version}});
  if (!written.ok()) return written.status();
  absl::StatusOr<ResultPtr> read =
      connection.Run("format_read", "SELECT v FROM habilis_kv WHERE k = $1", {postgres::Param{key}});
  if (!read.ok()) return read.status();
  if (PQntuples(read->get()) != 1) return absl::DataLossError("postgresql: the format version is missing");
  absl::string_view stored(PQgetvalue(read->get(), 0, 0), static_cast<size_t>(PQgetlength(read->get(), 0, 0)));
  std::optional<uint64_t> found = ConsumeUint64(&stored);
  if (!found || *found != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("the database holds store format ", found.value_or(0),
                                                      "; this habilisd reads format ", kFormatVersion));
  }
  return absl::OkStatus();
}

// The store's id, drawn by the first node on a new database.
absl::StatusOr<std::string> ReadStoreId(Connection& connection) {
  const std::string key = MetaKey(kMetaStoreId);
  absl::StatusOr<ResultPtr> written =
      connection.Run("id_init", "INSERT INTO habilis_kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING",
                     {postgres::Param{key}, postgres::Param{NewStoreId()}});
  if (!written.ok()) return written.status();
  absl::StatusOr<ResultPtr> read =
      connection.Run("id_read", "SELECT v FROM habilis_kv WHERE k = $1", {postgres::Param{key}});
  if (!read.ok()) return read.status();
  if (PQntuples(read->get()) != 1) return absl::DataLossError("postgresql: the store id is missing");
  return std::string(PQgetvalue(read->get(), 0, 0), static_cast<size_t>(PQgetlength(read->get(), 0, 0)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresOptions& options) {
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connection::Connect(options.url);
  if (!connection.ok()) return connection.status();
  if (absl::Status created = CreateSchema(**connection); !created.ok()) return created;
  if (absl::Status format = CheckFormatVersion(**connection); !format.ok()) return format;
  absl::StatusOr<Revision> revision = postgres::ReadRevision(**connection);
  if (!revision.ok()) return revision.status();
  absl::StatusOr<std::string> id = ReadStoreId(**connection);
  if (!id.ok()) return id.status();
  std::unique_ptr<PostgresStore> store(new PostgresStore(options, *revision, *std::move(id)));
  {
    absl::MutexLock lock(&store->pool_mu_);
    ++store->open_;
  }
  store->Release(*std::move(connection));
  return store;
}

PostgresStore::PostgresStore(const PostgresOptions& options, Revision revision, std::string id)
    : options_(options),
      id_(std::move(id)),
      feed_(*this, revision),
      pruning_lease_(*this, "feed_pruning", JobLease::TermFor(kPruneEvery)),
      follower_([this] { Follow(); }) {}

PostgresStore::~PostgresStore() {
  stopping_.Notify();
  follower_.join();
  // Observers that outlived their welcome (the contract lets them be destroyed with the store) must not see
  // the commit that gives the lease up.
  feed_.StopObservingAll();
  (void)pruning_lease_.Release();  // if the database is unreachable, the lease lapses by itself
}

void PostgresStore::Follow() {
  std::string last_error;
  absl::Time next_pruning = absl::Now() + kPruneEvery;
  while (!stopping_.WaitForNotificationWithTimeout(options_.poll_interval)) {
    OnCatchUp(feed_.CatchUp(std::numeric_limits<Revision>::max()), last_error);
    if (absl::Now() < next_pruning) continue;
    next_pruning = absl::Now() + kPruneEvery;
    absl::StatusOr<bool> held = pruning_lease_.Hold(absl::Now());
    absl::Status pruned = !held.ok() ? held.status() : *held ? PruneFeed() : absl::OkStatus();
    if (!pruned.ok()) std::cerr << "habilisd: pruning the change feed failed: " << pruned << std::endl;
  }
}

void PostgresStore::OnCatchUp(const absl::Status& caught_up, std::string& last_error) {
  if (absl::IsOutOfRange(caught_up)) {
    // The commits this node has not applied are gone: its in-memory state cannot be brought up to date. A
    // restart reloads it from the store (the supervisor restarts habilisd: docs/SCALE-OUT.md).
    std::cerr << "habilisd: this node fell behind the change feed's history (" << caught_up.message()
              << "); exiting so that a restart reloads it" << std::endl;
    std::_Exit(75);
  }
  // One line per change of state, not one per poll while the database is away.
  std::string error = caught_up.ok() ? "" : caught_up.ToString();
  if (error == last_error) return;
  if (!error.empty()) std::cerr << "habilisd: the change feed cannot be read: " << error << std::endl;
  if (error.empty()) std::cerr << "habilisd: the change feed is read again" << std::endl;
  last_error = std::move(error);
}

absl::Status PostgresStore::PruneFeed() {
  absl::StatusOr<Revision> latest = LatestRevision();
  if (!latest.ok()) return latest.status();
  if (*latest <= static_cast<Revision>(options_.feed_history)) return absl::OkStatus();
  const std::string horizon = absl::StrCat(*latest - static_cast<Revision>(options_.feed_history));
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  return (*lease)
      ->Run("prune_feed", "DELETE FROM habilis_changelog WHERE revision <= $1", {postgres::Param{horizon, false}})
      .status();
}

absl::StatusOr<Revision> PostgresStore::Attempt(absl::FunctionRef<absl::Status(Transaction&)> fn, bool dry_run) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  Connection& connection = **lease;
  if (absl::Status begun = connection.Exec("BEGIN ISOLATION LEVEL SERIALIZABLE"); !begun.ok()) return begun;
  postgres::PgTransaction transaction(connection);
  absl::StatusOr<Revision> outcome = [&]() -> absl::StatusOr<Revision> {
    if (absl::Status status = fn(transaction); !status.ok()) return status;
    if (!connection.first_failure().ok()) return connection.first_failure();  // a failure `fn` let go
    if (dry_run) return transaction.SnapshotRevision();
    return transaction.WriteCommit();
  }();
  if (!outcome.ok() || dry_run) {
    (void)connection.Exec("ROLLBACK");  // a broken connection is dropped on release
    return outcome;
  }
  absl::Status committed = connection.Exec("COMMIT");
  if (committed.ok() || IsConflict(committed)) return committed.ok() ? outcome : committed;
  return absl::UnavailableError(
      absl::StrCat("the outcome of the commit is unknown (", committed.message(), "): read before retrying"));
}

absl::StatusOr<Revision> PostgresStore::Update(absl::FunctionRef<absl::Status(Transaction&)> fn,
                                               const UpdateOptions& options) {
  thread_local std::minstd_rand jitter(std::random_device{}());
  for (int attempt = 0; attempt < options.max_attempts; ++attempt) {
    if (attempt > 0) {
      // Another node's commit won: wait a little, differently on each node, before the next round.
      const int64_t cap = std::min<int64_t>(int64_t{200} << std::min(attempt, 6), 10000);
      absl::SleepFor(absl::Microseconds(std::uniform_int_distribution<int64_t>(0, cap)(jitter)));
    }
    std::optional<absl::MutexLock> serial;
    if (!options.dry_run && !postgres::writing_here) serial.emplace(&write_mu_);
    const bool was_writing = postgres::writing_here;
    postgres::writing_here = !options.dry_run || was_writing;
    absl::StatusOr<Revision> revision = Attempt(fn, options.dry_run);
    postgres::writing_here = was_writing;
    serial.reset();
    if (IsConflict(revision.status())) continue;
    if (!revision.ok() || options.dry_run) return revision;
    // This process's observers apply the commit (and any before it) before the caller hears of it. If the
    // feed cannot be read now, the commit stands; the follower applies it when the database answers again.
    (void)feed_.CatchUp(*revision);
    return revision;
  }
  return absl::UnavailableError(absl::StrCat("the transaction conflicted with concurrent changes ",
                                             options.max_attempts, " times; the store is busy, retry"));
}

absl::StatusOr<Revision> PostgresStore::Read(absl::FunctionRef<absl::Status(Reader&)> fn, const ReadOptions&) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  Connection& connection = **lease;
  if (absl::Status begun = connection.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !begun.ok()) {
    return begun;
  }
  postgres::PgTransaction reader(connection);
  // Read's snapshot is the store's state when Read is called: taken now, by reading its revision.
  absl::StatusOr<Revision> revision = reader.SnapshotRevision();
  absl::Status status = revision.ok() ? fn(reader) : revision.status();
  if (!status.ok()) revision = status;
  absl::Status ended = connection.Exec(revision.ok() ? "COMMIT" : "ROLLBACK");
  if (revision.ok() && !ended.ok()) return ended;
  return revision;
}

absl::StatusOr<Revision> PostgresStore::LatestRevision() const {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  return postgres::ReadRevision(**lease);
}

absl::StatusOr<Revision> PostgresStore::ReadChanges(Revision after, CommitVisitor visit) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  constexpr int kPage = 256;
  Revision reached = after;
  while (true) {
    const std::string from = absl::StrCat(reached);
    absl::StatusOr<ResultPtr> result = (*lease)->Run(
        "changes",
        absl::StrCat("SELECT revision, changes FROM habilis_changelog WHERE revision > $1 ORDER BY revision LIMIT ",
                     kPage),
        {postgres::Param{from, /*binary=*/false}});
    if (!result.ok()) return result.status();
    const int rows = PQntuples(result->get());
    for (int row = 0; row < rows; ++row) {
      const Revision revision = postgres::DecodeInt8(PQgetvalue(result->get(), row, 0));
      // Revisions here are dense (one revision row, incremented by each commit): a hole after `after` is
      // history that was pruned.
      if (revision != reached + 1) {
        return absl::OutOfRangeError(
            absl::StrCat("the change feed no longer holds the commits after revision ", reached, ": read a snapshot"));
      }
      absl::StatusOr<std::vector<Change>> changes = postgres::DecodeChanges(postgres::Field(result->get(), row, 1));
      if (!changes.ok()) return changes.status();
      if (!visit(revision, *changes)) return reached;
      reached = revision;
    }
    if (rows < kPage) return reached;
  }
}

absl::Status PostgresStore::Observe(CommitObserver& observer, absl::FunctionRef<absl::Status(Reader&, Revision)> load) {
  return feed_.Observe(observer, load);
}

absl::Status PostgresStore::Resume(CommitObserver& observer, Revision held) { return feed_.Resume(observer, held); }

void PostgresStore::StopObserving(CommitObserver& observer) { feed_.StopObserving(observer); }

absl::Status PostgresStore::WaitObserved(Revision revision, absl::Time deadline) {
  return feed_.WaitObserved(revision, deadline);
}

}  // namespace habilis::store
