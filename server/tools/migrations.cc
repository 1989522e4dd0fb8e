#include "server/tools/migrations.h"

#include "absl/strings/str_cat.h"
#include "server/domain/commands/request_id_expiry.h"
#include "server/domain/identity/account_records.h"
#include "store/keyspace.h"

namespace habilis::tools {
namespace {

struct Step {
  uint64_t from;  // the step moves format `from` to `from + 1`
  const char* what;
  absl::Status (*run)(store::Store& store);
};

constexpr Step kSteps[] = {
    {1, "give every login its look-alike key", &domain::BuildLoginLookalikeIndex},
    {2, "date every request id's record, so that it expires",
     [](store::Store& store) { return domain::DateIdempotencyRecords(store, absl::Now()); }},
};

}  // namespace

absl::Status MigrateToCurrentFormat(store::RocksDbStore& store, bool check_only, std::ostream& log) {
  if (store.format_version() == store::kFormatVersion) {
    log << "the store is at format " << store::kFormatVersion << ", this version's: nothing to do\n";
    return absl::OkStatus();
  }
  while (store.format_version() < store::kFormatVersion) {
    const uint64_t from = store.format_version();
    const Step* step = nullptr;
    for (const Step& candidate : kSteps) {
      if (candidate.from == from) step = &candidate;
    }
    if (step == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("no migration from format ", from,
                                                        "; this habilis-migrate "
                                                        "starts at format ",
                                                        kSteps[0].from));
    }
    log << "format " << from << " -> " << from + 1 << ": " << step->what << (check_only ? " (not run: --check)" : "")
        << "\n";
    if (check_only) return absl::OkStatus();
    if (absl::Status done = step->run(store); !done.ok()) return done;
    if (absl::Status recorded = store.SetFormatVersion(from + 1); !recorded.ok()) return recorded;
  }
  log << "the store is at format " << store.format_version() << "\n";
  return absl::OkStatus();
}

}  // namespace habilis::tools
