#include "server/domain/commands/request_id_expiry.h"

#include <algorithm>
#include <string>
#include <vector>

#include "habilis/internal/records.pb.h"
#include "server/common/status_macros.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

// Records deleted per commit: a commit stays small whatever has piled up.
constexpr int kBatch = 500;

uint64_t Micros(absl::Time time) { return static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMicros(time))); }

// A by-time index entry: its own key and its record's.
struct Dated {
  std::string index_key;
  std::string record_key;
};

// Up to kBatch index entries dated before `before`, oldest first.
absl::StatusOr<std::vector<Dated>> DatedBefore(store::Store& store, absl::Time before) {
  std::vector<Dated> found;
  const std::string prefix = store::IdempotencyByTimePrefix();
  std::string end = prefix;
  store::AppendUint64(&end, Micros(before));
  RETURN_IF_ERROR(store
                      .Read([&](store::Reader& reader) {
                        return reader.Scan(prefix, end, [&](absl::string_view key, absl::string_view) {
                          absl::string_view rest = key.substr(prefix.size());
                          std::optional<uint64_t> micros = store::ConsumeUint64(&rest);
                          std::optional<std::string> principal = store::ConsumeString(&rest);
                          std::optional<std::string> request_id = store::ConsumeString(&rest);
                          if (micros && principal && request_id) {
                            found.push_back({std::string(key), store::IdempotencyKey(*principal, *request_id)});
                          }
                          return static_cast<int>(found.size()) < kBatch;
                        });
                      })
                      .status());
  return found;
}

// Deletes `dated`'s index entries and their records, in one commit; returns how many were still there.
absl::StatusOr<int64_t> DeleteDated(store::Store& store, const std::vector<Dated>& dated) {
  int64_t deleted = 0;
  RETURN_IF_ERROR(store
                      .Update([&](store::Transaction& txn) -> absl::Status {
                        deleted = 0;
                        for (const Dated& entry : dated) {
                          absl::StatusOr<std::string> indexed = txn.Get(entry.index_key);
                          if (absl::IsNotFound(indexed.status())) continue;  // another pass took it
                          RETURN_IF_ERROR(indexed.status());
                          RETURN_IF_ERROR(txn.Delete(entry.index_key));
                          RETURN_IF_ERROR(txn.Delete(entry.record_key));
                          ++deleted;
                        }
                        return absl::OkStatus();
                      })
                      .status());
  return deleted;
}

}  // namespace

RequestIdExpiry::RequestIdExpiry(store::Store& store, const Clock& clock, absl::Duration retention,
                                 absl::Duration interval)
    : store_(store),
      clock_(clock),
      retention_(retention),
      job_(store, clock, "request_id_expiry", interval, [this] { return Expire().status(); }) {}

absl::StatusOr<int64_t> RequestIdExpiry::Expire() {
  const absl::Time before = clock_.Now() - retention_;
  int64_t total = 0;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<Dated> dated, DatedBefore(store_, before));
    if (dated.empty()) return total;
    ASSIGN_OR_RETURN(int64_t deleted, DeleteDated(store_, dated));
    total += deleted;
    if (static_cast<int>(dated.size()) < kBatch) return total;
  }
}

absl::Status DateIdempotencyRecords(store::Store& store, absl::Time now) {
  const std::string prefix = store::IdempotencyPrefix();
  std::string after;  // resume point: the last record key handled
  while (true) {
    std::vector<std::pair<std::string, internal::IdempotencyRecord>> undated;
    std::string last;
    RETURN_IF_ERROR(
        store
            .Read([&](store::Reader& reader) {
              const std::string start = after.empty() ? prefix : after + std::string(1, '\0');
              return reader.Scan(start, store::PrefixEnd(prefix), [&](absl::string_view key, absl::string_view value) {
                last = std::string(key);
                internal::IdempotencyRecord record;
                if (record.ParseFromArray(value.data(), static_cast<int>(value.size())) && !record.has_create_time()) {
                  undated.emplace_back(std::string(key), std::move(record));
                }
                return static_cast<int>(undated.size()) < kBatch;
              });
            })
            .status());
    if (last.empty()) return absl::OkStatus();
    if (!undated.empty()) {
      RETURN_IF_ERROR(store
                          .Update([&](store::Transaction& txn) -> absl::Status {
                            for (auto& [key, record] : undated) {
                              std::vector<std::string> parts = store::ComponentsAfter(key, prefix);
                              if (parts.size() != 2) return absl::DataLossError("a malformed idempotency key");
                              SetTimestamp(now, record.mutable_create_time());
                              RETURN_IF_ERROR(txn.Put(key, record.SerializeAsString()));
                              RETURN_IF_ERROR(
                                  txn.Put(store::IdempotencyByTimeKey(Micros(now), parts[0], parts[1]), ""));
                            }
                            return absl::OkStatus();
                          })
                          .status());
    }
    after = last;
  }
}

}  // namespace habilis::domain
