#include "store/lease.h"

#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::store {
namespace {

std::string RandomHolder() {
  std::random_device device;
  return absl::StrCat(absl::Hex(device(), absl::kZeroPad8), absl::Hex(device(), absl::kZeroPad8));
}

}  // namespace

JobLease::JobLease(Store& store, std::string job, absl::Duration term)
    : store_(store), key_(MetaKey(absl::StrCat("lease/", job))), term_(term), holder_(RandomHolder()) {}

absl::StatusOr<bool> JobLease::Hold(absl::Time now) {
  bool held = false;
  absl::Status written = store_
                             .Update([&](Transaction& txn) -> absl::Status {
                               held = false;
                               absl::StatusOr<std::string> value = txn.Get(key_);
                               if (value.ok()) {
                                 absl::string_view in(*value);
                                 std::optional<std::string> holder = ConsumeString(&in);
                                 std::optional<uint64_t> until = ConsumeUint64(&in);
                                 if (!holder || !until) return absl::DataLossError("a job lease does not decode");
                                 if (*holder != holder_ && absl::FromUnixMicros(static_cast<int64_t>(*until)) > now) {
                                   return absl::OkStatus();  // another process's, still running
                                 }
                               } else if (!absl::IsNotFound(value.status())) {
                                 return value.status();
                               }
                               std::string lease;
                               AppendString(&lease, holder_);
                               AppendUint64(&lease, static_cast<uint64_t>(absl::ToUnixMicros(now + term_)));
                               held = true;
                               return txn.Put(key_, lease);
                             })
                             .status();
  if (!written.ok()) return written;
  return held;
}

absl::Status JobLease::Release() {
  // Read first: a process that does not hold the lease (the usual case) gives nothing up and commits nothing.
  bool held = false;
  absl::Status read = store_
                          .Read([&](Reader& reader) -> absl::Status {
                            absl::StatusOr<std::string> value = reader.Get(key_);
                            if (absl::IsNotFound(value.status())) return absl::OkStatus();
                            if (!value.ok()) return value.status();
                            absl::string_view in(*value);
                            held = ConsumeString(&in) == holder_;
                            return absl::OkStatus();
                          })
                          .status();
  if (!read.ok() || !held) return read;
  return store_
      .Update([&](Transaction& txn) -> absl::Status {
        absl::StatusOr<std::string> value = txn.Get(key_);
        if (absl::IsNotFound(value.status())) return absl::OkStatus();
        if (!value.ok()) return value.status();
        absl::string_view in(*value);
        if (ConsumeString(&in) != holder_) return absl::OkStatus();
        return txn.Delete(key_);
      })
      .status();
}

}  // namespace habilis::store
