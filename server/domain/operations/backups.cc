#include "server/domain/operations/backups.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"

namespace habilis::domain {
namespace {

bool IsBackupId(absl::string_view id) {
  if (id.empty() || id.size() > 100 || id[0] == '.') return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

absl::Status Backups::Create(const v1::CreateBackupRequest& request, v1::CreateBackupResponse& response) {
  const absl::Time now = clock_.Now();
  std::string id = request.backup_id();
  if (id.empty()) {
    id = absl::StrCat("backup-", absl::FormatTime("%Y%m%dT%H%M%E3SZ", now, absl::UTCTimeZone()), "-r",
                      store_.LatestRevision().value_or(0));
  } else if (!IsBackupId(id)) {
    return InvalidField("backup_id", "BACKUP_ID_FORMAT",
                        "1 to 100 letters, digits, '.', '_' or '-', not starting with '.'");
  }
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error) {
    return Error(absl::StatusCode::kUnavailable, "BACKUP_DIR_UNAVAILABLE",
                 absl::StrCat("cannot create the backup directory ", directory_, ": ", error.message()));
  }
  const std::string target = (std::filesystem::path(directory_) / id).string();
  if (std::filesystem::exists(target, error)) {
    return Error(absl::StatusCode::kAlreadyExists, "BACKUP_EXISTS", absl::StrCat("a backup ", id, " exists"));
  }
  absl::StatusOr<store::Revision> revision = store_.Checkpoint(target);
  if (absl::IsUnimplemented(revision.status())) {
    return Error(absl::StatusCode::kUnimplemented, "BACKUP_NOT_SUPPORTED",
                 "this store is backed up with its database's own tools (docs/SCALE-OUT.md)");
  }
  if (!revision.ok() && std::filesystem::exists(target, error)) {
    // Checkpoints are taken one at a time: a backup of the same name that won the race made it.
    return Error(absl::StatusCode::kAlreadyExists, "BACKUP_EXISTS", absl::StrCat("a backup ", id, " exists"));
  }
  if (!revision.ok()) {
    return Error(absl::StatusCode::kUnavailable, "BACKUP_FAILED", revision.status().message());
  }
  response.set_directory(target);
  response.set_consistency_token(EncodeConsistencyToken(*revision));
  SetTimestamp(now, response.mutable_create_time());
  return absl::OkStatus();
}

}  // namespace habilis::domain
