// habilis-migrate's steps: each moves a data directory from one store format version to the next
// (store/keyspace.h kFormatVersion). Run on a stopped server's directory, after a backup (docs/OPERATIONS.md
// "Upgrades").
#ifndef HABILIS_SERVER_TOOLS_MIGRATIONS_H_
#define HABILIS_SERVER_TOOLS_MIGRATIONS_H_

#include <ostream>

#include "absl/status/status.h"
#include "store/rocksdb/rocksdb_store.h"

namespace habilis::tools {

// Applies, in order, every step from the store's version to kFormatVersion, recording the new version after
// each; says what it does on `log`. A step is idempotent, so a migration cut short (a crash, a full disk) is
// finished by running it again. With `check_only`, says what would be done and changes nothing.
[[nodiscard]] absl::Status MigrateToCurrentFormat(store::RocksDbStore& store, bool check_only, std::ostream& log);

}  // namespace habilis::tools

#endif  // HABILIS_SERVER_TOOLS_MIGRATIONS_H_
