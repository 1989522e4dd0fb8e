// Online backups (docs/OPERATIONS.md "Backup and restore"): a consistent copy of the store under --backup-dir,
// named by the operator or by its time and revision.
#ifndef HABILIS_SERVER_DOMAIN_OPERATIONS_BACKUPS_H_
#define HABILIS_SERVER_DOMAIN_OPERATIONS_BACKUPS_H_

#include <string>

#include "absl/status/status.h"
#include "habilis/v1/operations.pb.h"
#include "server/common/clock.h"
#include "store/store.h"

namespace habilis::domain {

class Backups {
 public:
  // Backups go under `directory` (created when first needed).
  Backups(store::Store& store, const Clock& clock, std::string directory)
      : store_(store), clock_(clock), directory_(std::move(directory)) {}

  // INVALID_ARGUMENT BACKUP_ID_FORMAT for a bad name, ALREADY_EXISTS BACKUP_EXISTS for a name taken,
  // UNAVAILABLE if the copy cannot be written.
  [[nodiscard]] absl::Status Create(const v1::CreateBackupRequest& request, v1::CreateBackupResponse& response);

 private:
  store::Store& store_;
  const Clock& clock_;
  const std::string directory_;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_OPERATIONS_BACKUPS_H_
