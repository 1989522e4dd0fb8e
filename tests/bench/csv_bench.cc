// CSV-EXPORT and CSV-IMPORT throughput, in process, on a RocksDB store (docs/PERFORMANCE.md).
//
//   build/tests/habilis-csv-bench --data-dir DIR [--accounts 1000000] [--import-rows 100000] [--only-check true]
//                                 [--memory-check false]
//
// On an empty DIR it first writes one structure with --accounts members (3 habilitations each). Then it
//   1. exports that structure to nowhere, and prints rows/s and the process's memory before and at peak;
//   2. imports --import-rows new members, with 2 role columns, into a new structure, and prints rows/s;
//   3. imports the same file again (every row unchanged) and prints rows/s;
//   4. checks (validate_only) files of --import-rows, 2x and 4x as many new rows, fed in 64 KiB pieces made on the
//      fly, and prints the process's peak memory above its level before each: the import's memory bound. Every
//      check must find every row good (a row error fails the run). With --only-check, only this step runs, in
//      a process that has done nothing else (its memory before is the opened store's); with --memory-check false
//      it is left out (a 1M-row import would go on to check 4M rows).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "habilis/internal/records.pb.h"
#include "server/common/clock.h"
#include "server/domain/entitlements/api_keys.h"
#include "server/domain/entitlements/entitlements.h"
#include "server/domain/files/account_files.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/structures.h"
#include "server/tools/dataset.h"
#include "store/keyspace.h"
#include "store/rocksdb/rocksdb_store.h"

namespace habilis {
namespace {

// The operator the benchmark acts as: the store's operator key, made on a fresh store. Commands check in their
// transaction that their caller's key exists, so a made-up principal would be refused.
absl::StatusOr<authz::Principal> BenchOperator(store::Store& store, const habilis::Clock& clock) {
  domain::ApiKeys keys(store, clock);
  absl::StatusOr<std::string> created = keys.CreateFirstOperatorKey("habilis-csv-bench");
  if (created.ok()) return keys.Authenticate(*created);
  std::string key_id;
  absl::StatusOr<store::Revision> read = store.Read([&](store::Reader& reader) {
    return store::ScanPrefix(reader, store::ApiKeyPrefix(), [&](absl::string_view, absl::string_view value) {
      internal::ApiKeyRecord record;
      if (record.ParseFromString(std::string(value)) && record.api_key().operator_() &&
          !record.api_key().has_revoke_time()) {
        key_id = domain::ParseApiKeyName(record.api_key().name()).value_or("");
        return false;
      }
      return true;
    });
  });
  if (!read.ok()) return read.status();
  if (key_id.empty()) return absl::FailedPreconditionError("the store has no active operator key");
  return authz::Principal::Operator(key_id);
}

// Resident memory now and at its peak since the last reset, in MiB (Linux /proc).
std::pair<double, double> MemoryMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  double rss = 0, hwm = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stod(line.substr(6)) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::stod(line.substr(6)) / 1024;
  }
  return {rss, hwm};
}

void ResetPeakMemory() { std::ofstream("/proc/self/clear_refs") << "5"; }

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Fail(const absl::Status& status) {
  std::cerr << "habilis-csv-bench: " << status << std::endl;
  return 1;
}

constexpr char kImportHeader[] =
    "user_civility,user_firstname,user_lastname,user_username,profil_postalAddress,profil_postalCode,profil_city,"
    "profil_cellPhone,agent_profil_role_app-0,agent_profil_role_app-11\r\n";

// Row `i` of an import file; logins start with `login_prefix`, so that each run imports new people.
void AppendRow(std::string& file, int64_t i, absl::string_view login_prefix) {
  absl::StrAppend(&file, i % 2 ? "M.," : "Mme,", "Prénom", i, ",Nom", i, ",", login_prefix, i,
                  "@example.fr,\"12 rue de la Paix, bât. B\",29200,Brest,+33 6 00 00 00 00,profil-", i % 3, ",",
                  i % 2 ? "profil-1" : "", "\r\n");
}

struct BenchArgs {
  std::string dir;
  int64_t accounts = 1000000;
  int64_t import_rows = 100000;
  bool only_check = false;
  bool memory_check = true;
};

std::optional<BenchArgs> ParseArgs(int argc, char** argv) {
  BenchArgs args;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--data-dir") args.dir = argv[i + 1];
    if (flag == "--accounts") args.accounts = std::atol(argv[i + 1]);
    if (flag == "--import-rows") args.import_rows = std::atol(argv[i + 1]);
    if (flag == "--only-check") args.only_check = std::string(argv[i + 1]) == "true";
    if (flag == "--memory-check") args.memory_check = std::string(argv[i + 1]) != "false";
  }
  if (args.dir.empty()) return std::nullopt;
  return args;
}

// A new store gets one structure of `accounts` members.
absl::Status EnsureDataset(store::Store& store, int64_t accounts) {
  if (store.LatestRevision().value_or(0) != 0) return absl::OkStatus();
  tools::DatasetParams params;
  params.structures = 1;
  params.accounts = accounts;
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<tools::GrantedPair>> written = tools::GenerateDataset(store, params, 1);
  if (!written.ok()) return written.status();
  std::printf("dataset: 1 structure, %ld members, written in %.1f s\n", static_cast<long>(accounts),
              SecondsSince(start));
  return absl::OkStatus();
}

// 1. The export of the dataset's structure, every member a row.
absl::Status BenchExport(store::Store& store, int64_t accounts) {
  auto [rss_before, ignored] = MemoryMiB();
  ResetPeakMemory();
  size_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<domain::ExportResult> exported =
      domain::ExportAccounts(store, {.siret = tools::DatasetSiret(0)}, [&](absl::string_view piece) {
        bytes += piece.size();
        return absl::OkStatus();
      });
  double seconds = SecondsSince(start);
  if (!exported.ok()) return exported.status();
  if (exported->rows != accounts) {
    return absl::InternalError(absl::StrCat("the export wrote ", exported->rows, " rows of ", accounts,
                                            " members (is --accounts the size of the data directory's dataset?)"));
  }
  auto [rss_after, peak] = MemoryMiB();
  std::printf(
      "export: %ld rows, %.1f MiB of CSV in %.2f s = %.0f rows/s; RSS %.0f MiB before, peak %.0f MiB, "
      "%.0f MiB after\n",
      static_cast<long>(exported->rows), bytes / 1048576.0, seconds, exported->rows / seconds, rss_before, peak,
      rss_after);
  return absl::OkStatus();
}

// The structure imports go to, subscribed to the applications of the file's role columns.
absl::Status PrepareImportStructure(store::Store& store, const habilis::Clock& clock, const authz::Principal& op,
                                    const std::string& siret) {
  domain::Structures structures(store, clock);
  v1::CreateStructureRequest request;
  request.mutable_structure()->set_siret(siret);
  request.mutable_structure()->set_category("Commune");
  request.mutable_structure()->set_display_name("Import");
  request.mutable_structure()->set_address("1 place");
  request.mutable_structure()->set_postal_code("29200");
  request.mutable_structure()->set_city("Brest");
  v1::CreateStructureResponse response;
  absl::StatusOr<store::Revision> created = structures.Create(op, request, response);
  if (!created.ok() && !absl::IsAlreadyExists(created.status())) return created.status();
  domain::Entitlements entitlements(store, clock);
  for (const char* application : {"app-0", "app-11"}) {
    v1::CreateSubscriptionRequest subscribe;
    subscribe.set_parent(absl::StrCat("structures/", siret));
    subscribe.set_application(absl::StrCat("applications/", application));
    v1::CreateSubscriptionResponse subscribed;
    absl::StatusOr<store::Revision> done = entitlements.CreateSubscription(op, subscribe, subscribed);
    if (!done.ok() && !absl::IsAlreadyExists(done.status())) return done.status();
  }
  return absl::OkStatus();
}

// 2. and 3. One file of new people imported, then the same file again (every row unchanged).
absl::Status BenchImports(store::Store& store, const habilis::Clock& clock, const authz::Principal& op,
                          const std::string& siret, int64_t rows) {
  std::string file = kImportHeader;
  const std::string prefix = absl::StrCat("import", store.LatestRevision().value_or(0), "-");
  for (int64_t i = 0; i < rows; ++i) AppendRow(file, i, prefix);
  for (const bool again : {false, true}) {
    // The two phases apart: reading and checking every row, then the commits.
    std::chrono::steady_clock::time_point checked;
    domain::AccountImport import(store, clock, domain::IdentityPolicy(), op,
                                 {"operators/bench", "habilis.v1.ImportAccounts", ""},
                                 {.siret = siret, .after_check = [&] { checked = std::chrono::steady_clock::now(); }});
    auto start = std::chrono::steady_clock::now();
    for (size_t offset = 0; offset < file.size(); offset += 64 * 1024) {
      import.Feed(absl::string_view(file).substr(offset, 64 * 1024));
    }
    absl::StatusOr<v1::ImportSummary> summary = import.Finish([](const std::vector<v1::RowError>& errors) {
      for (const v1::RowError& e : errors) std::cerr << e.ShortDebugString() << std::endl;
    });
    double seconds = SecondsSince(start);
    if (!summary.ok()) return summary.status();
    if ((again ? summary->accounts_unchanged() : summary->accounts_created()) != rows) {
      return absl::InternalError(absl::StrCat("an import of ", rows, " rows said ", summary->ShortDebugString()));
    }
    const double check_seconds = std::chrono::duration<double>(checked - start).count();
    std::printf(
        "%s: %ld rows (%ld created, %ld unchanged, %ld habilitations) in %.2f s = %.0f rows/s, %ld commits "
        "(the file read and checked in %.2f s, the commits %.2f s)\n",
        again ? "import (same file again)" : "import (new rows)", static_cast<long>(summary->rows()),
        static_cast<long>(summary->accounts_created()), static_cast<long>(summary->accounts_unchanged()),
        static_cast<long>(summary->habilitations_granted()), seconds, summary->rows() / seconds,
        static_cast<long>(summary->batches_committed()), check_seconds, seconds - check_seconds);
  }
  return absl::OkStatus();
}

// 4. The memory of a check of `rows` good rows, fed in pieces as they are made (the file is never whole).
absl::Status BenchCheckMemory(store::Store& store, const habilis::Clock& clock, const authz::Principal& op,
                              const std::string& siret, int64_t rows) {
  auto [rss_before, ignored] = MemoryMiB();
  ResetPeakMemory();
  domain::AccountImport import(store, clock, domain::IdentityPolicy(), op,
                               {"operators/bench", "habilis.v1.ImportAccounts", ""},
                               {.siret = siret, .validate_only = true});
  std::string piece = kImportHeader;
  const std::string prefix = absl::StrCat("check", store.LatestRevision().value_or(0), "-", rows, "-");
  size_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < rows; ++i) {
    AppendRow(piece, i, prefix);
    if (piece.size() >= 64 * 1024 || i + 1 == rows) {
      import.Feed(piece);
      bytes += piece.size();
      piece.clear();
    }
  }
  int64_t bad_rows = 0;
  absl::StatusOr<v1::ImportSummary> summary =
      import.Finish([&](const std::vector<v1::RowError>& errors) { bad_rows += errors.size(); });
  double seconds = SecondsSince(start);
  if (!summary.ok()) return summary.status();
  if (bad_rows != 0 || summary->rows() != rows || summary->accounts_created() != rows) {
    return absl::InternalError(absl::StrCat("the check of ", rows, " good rows said ", summary->rows(), " rows, ",
                                            summary->accounts_created(), " new"));
  }
  auto [rss_after, peak] = MemoryMiB();
  std::printf(
      "check (validate_only): %ld rows, %.1f MiB of CSV in %.2f s; RSS %.0f MiB before, peak %.0f MiB "
      "(+%.0f MiB, %.0f bytes a row)\n",
      static_cast<long>(rows), bytes / 1048576.0, seconds, rss_before, peak, peak - rss_before,
      (peak - rss_before) * 1048576.0 / static_cast<double>(rows));
  return absl::OkStatus();
}

int Run(int argc, char** argv) {
  std::optional<BenchArgs> args = ParseArgs(argc, argv);
  if (!args) {
    std::cerr << "usage: habilis-csv-bench --data-dir DIR [--accounts N] [--import-rows N] [--only-check true] "
                 "[--memory-check false]"
              << std::endl;
    return 2;
  }
  absl::StatusOr<std::unique_ptr<store::RocksDbStore>> opened = store::RocksDbStore::Open(args->dir);
  if (!opened.ok()) return Fail(opened.status());
  store::Store& store = **opened;
  const habilis::Clock& clock = habilis::SystemClock();
  if (absl::Status made = EnsureDataset(store, args->accounts); !made.ok()) return Fail(made);
  absl::StatusOr<authz::Principal> bench_operator = BenchOperator(store, clock);
  if (!bench_operator.ok()) return Fail(bench_operator.status());
  const authz::Principal op = *bench_operator;
  const std::string siret = "73282932000074";
  if (absl::Status prepared = PrepareImportStructure(store, clock, op, siret); !prepared.ok()) return Fail(prepared);
  if (!args->only_check) {
    if (absl::Status exported = BenchExport(store, args->accounts); !exported.ok()) return Fail(exported);
    if (absl::Status imported = BenchImports(store, clock, op, siret, args->import_rows); !imported.ok()) {
      return Fail(imported);
    }
  }
  if (!args->memory_check) return 0;
  for (int64_t rows : {args->import_rows, 2 * args->import_rows, 4 * args->import_rows}) {
    if (absl::Status checked = BenchCheckMemory(store, clock, op, siret, rows); !checked.ok()) return Fail(checked);
  }
  return 0;
}

}  // namespace
}  // namespace habilis

int main(int argc, char** argv) { return habilis::Run(argc, argv); }
