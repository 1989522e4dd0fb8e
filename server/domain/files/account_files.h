// CSV-EXPORT and CSV-IMPORT: a structure's members as a CSV file with the columns of seed 003, out and back
// in. docs/CSV.md says what each column means in each direction.
#ifndef HABILIS_SERVER_DOMAIN_FILES_ACCOUNT_FILES_H_
#define HABILIS_SERVER_DOMAIN_FILES_ACCOUNT_FILES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "authz/principal.h"
#include "habilis/v1/account_files.pb.h"
#include "server/common/clock.h"
#include "server/csv/csv.h"
#include "server/csv/record_spool.h"
#include "server/domain/commands/audit_log.h"
#include "server/domain/kernel/policy.h"
#include "store/store.h"

namespace habilis::domain {

// The header of an export: the columns of seed 003 with one agent_profil_role_<label> column per application
// the structure subscribes to, in application id order (labels: role_columns.h).
std::vector<std::string> ExportHeader(const std::vector<std::string>& role_labels);

struct ExportOptions {
  std::string siret;
  bool byte_order_mark = false;
  bool guard_formulas = true;  // CSV-EXPORT: safe by default
  // The file goes out in pieces of about this size.
  size_t piece_bytes = 64 * 1024;
};

struct ExportResult {
  int64_t rows = 0;
  store::Revision revision = 0;
};

// CSV-EXPORT: every member of the structure, in account id order, read from one snapshot. `write` receives
// each piece in order and may block (that is how the export keeps pace with a slow reader); an error from it
// stops the export and is returned. Memory does not grow with the number of members.
[[nodiscard]] absl::StatusOr<ExportResult> ExportAccounts(store::Store& store, const ExportOptions& options,
                                                          absl::FunctionRef<absl::Status(absl::string_view)> write);

// CSV-IMPORT of one file, fed in pieces.
//
// Memory does not grow with the file's size: rows that pass their own checks are spooled to an unnamed
// temporary file (csv::RecordSpool) and read back a batch at a time; what stays in memory for the whole file
// is 128 bits and a line number per row (duplicate logins and ids) and at most max_reported_errors errors.
//
// Finish checks every row against the store before anything is written: one dry run over all the rows, on
// one snapshot, running the very code that later writes (its writes kept in scratch memory). If any row is
// bad, nothing is written. Otherwise the
// rows are applied in batches of `batch_rows`, each batch one atomic commit with its audit entry. If a batch
// finds a row that the store no longer allows (someone changed it meanwhile), the import stops there with
// ABORTED; the batches before it stay, and sending the same file again finishes the job, because a row
// that already matches the store changes nothing.
struct ColumnSpec;  // a column of the file format (account_files.cc)

class AccountImport {
 public:
  struct Options {
    std::string siret;
    bool validate_only = false;
    size_t batch_rows = 250;
    // Errors kept for the report; past this, they are counted only, and the rows read so far are let go
    // (nothing will be written, and no further error would be reported), so a file full of errors costs no
    // more memory than the errors reported.
    size_t max_reported_errors = 1000;
    // Runs between the check of every row and the first commit: tests change the store there.
    std::function<void()> after_check;
  };

  AccountImport(store::Store& store, const Clock& clock, const IdentityPolicy& policy, authz::Principal caller,
                AuditContext audit, Options options);
  ~AccountImport();

  // Parses the next piece of the file. Rows are checked on their own (format, duplicates) as they arrive;
  // the store is not read until Finish.
  void Feed(absl::string_view bytes);

  // End of the file. `report` receives the bad rows, in line order, in groups. Returns the summary; or
  // INVALID_ARGUMENT IMPORT_ROWS_INVALID when some row is bad (nothing written), ABORTED IMPORT_INTERRUPTED
  // (see above), NOT_FOUND when the structure does not exist.
  [[nodiscard]] absl::StatusOr<v1::ImportSummary> Finish(
      absl::FunctionRef<void(const std::vector<v1::RowError>&)> report);

  struct Row;
  struct Header;

 private:
  void OnRecord(const csv::Record& record);
  void OnHeader(const csv::Record& record);
  void AddHeaderColumn(int64_t line, absl::string_view field);
  // The row of `record`, or nullopt after reporting why it is not one (a CSV error, a wrong field count).
  std::optional<Row> RowOf(const csv::Record& record);
  // Each check reports what is wrong with one cell on its own (format, duplicates, another structure).
  void CheckCell(const ColumnSpec& spec, absl::string_view cell, int64_t line);
  void CheckLoginCell(const ColumnSpec& spec, absl::string_view cell, int64_t line);
  void CheckAccountIdCell(const ColumnSpec& spec, absl::string_view cell, int64_t line);
  void CheckStructureCell(const ColumnSpec& spec, absl::string_view cell, int64_t line);
  void Spool(const Row& row);
  void AddError(int64_t line, absl::string_view column, absl::string_view reason, absl::string_view message);
  // Without `commit`: the dry run of every row, reporting each bad one. With it: the rows in batches, each
  // committed, stopping at the first bad row.
  [[nodiscard]] absl::Status RunBatches(bool commit, v1::ImportSummary& counts);
  // Reads batch `batch` of the spool back, row by row.
  [[nodiscard]] absl::Status ForEachSpooledRow(size_t batch, absl::FunctionRef<absl::Status(const Row&)> visit) const;

  store::Store& store_;
  const Clock& clock_;
  const IdentityPolicy& policy_;
  const authz::Principal caller_;
  const AuditContext audit_;
  const Options options_;
  csv::Reader reader_;
  std::unique_ptr<Header> header_;
  // The rows that passed their own checks, on disk (one batch at a time in memory); null once
  // max_reported_errors is reached (nothing will be written) or when no row came.
  std::unique_ptr<csv::RecordSpool> spool_;
  bool spool_dropped_ = false;
  absl::Status spool_status_;
  // 128 bits of SHA-256 of the folded login (of the id) -> line, to find duplicates: about 40 bytes a row
  // whatever the row's size.
  absl::flat_hash_map<absl::uint128, int64_t> logins_;
  absl::flat_hash_map<absl::uint128, int64_t> ids_;
  std::vector<v1::RowError> errors_;
  int64_t error_count_ = 0;
  int64_t data_rows_ = 0;
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_FILES_ACCOUNT_FILES_H_
