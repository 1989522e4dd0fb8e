// habilis-dataset: writes the synthetic performance dataset (server/tools/dataset.h) into an empty data
// directory, with an operator key and one API key per application, written to --keys-file as
// "operator KEY" and "app-N KEY" lines (mode 0600) for habilis-loadgen.
//
//   habilis-dataset --data-dir DIR [--structures N] [--accounts N] [--habilitations-per-account N]
//                   [--applications N] --keys-file FILE
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include "CLI/CLI.hpp"
#include "habilis/v1/api_keys.pb.h"
#include "server/common/clock.h"
#include "server/domain/entitlements/api_keys.h"
#include "server/tools/dataset.h"
#include "store/rocksdb/rocksdb_store.h"

namespace {

// The operator key and a key of every application, as "name key" lines.
absl::StatusOr<std::string> CreateKeys(habilis::store::Store& store, const habilis::tools::DatasetParams& params) {
  habilis::domain::ApiKeys keys(store, habilis::SystemClock());
  absl::StatusOr<std::string> operator_key = keys.CreateFirstOperatorKey("dataset");
  if (!operator_key.ok()) return operator_key.status();
  absl::StatusOr<habilis::authz::Principal> op = keys.Authenticate(*operator_key);
  if (!op.ok()) return op.status();
  std::string lines = "operator " + *operator_key + "\n";
  for (int a = 0; a < params.applications; ++a) {
    const std::string application = habilis::tools::DatasetApplicationId(a);
    habilis::v1::CreateApiKeyRequest request;
    request.mutable_api_key()->set_display_name("load generator");
    request.mutable_api_key()->set_application("applications/" + application);
    habilis::v1::CreateApiKeyResponse response;
    absl::StatusOr<habilis::store::Revision> created = keys.Create(*op, request, response);
    if (!created.ok()) return created.status();
    lines += application + " " + response.secret() + "\n";
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  habilis::tools::DatasetParams params;
  std::string data_dir, keys_file;
  CLI::App app{"habilis-dataset: the performance dataset"};
  app.add_option("--data-dir", data_dir, "an empty data directory")->required();
  app.add_option("--structures", params.structures)->capture_default_str();
  app.add_option("--accounts", params.accounts)->capture_default_str();
  app.add_option("--habilitations-per-account", params.habilitations_per_account)->capture_default_str();
  app.add_option("--applications", params.applications)->capture_default_str();
  app.add_option("--keys-file", keys_file, "where to write the operator's and the applications' API keys")->required();
  CLI11_PARSE(app, argc, argv);

  auto store = habilis::store::RocksDbStore::Open(data_dir);
  if (!store.ok()) {
    std::cerr << store.status() << std::endl;
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  auto pairs = habilis::tools::GenerateDataset(**store, params, 0);
  if (!pairs.ok()) {
    std::cerr << pairs.status() << std::endl;
    return 1;
  }
  absl::StatusOr<std::string> keys = CreateKeys(**store, params);
  if (!keys.ok()) {
    std::cerr << "cannot create the keys: " << keys.status() << std::endl;
    return 1;
  }
  std::ofstream(keys_file) << *keys;
  chmod(keys_file.c_str(), 0600);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "structures " << params.structures << ", accounts " << params.accounts << ", habilitations "
            << params.accounts * params.habilitations_per_account << ", applications " << params.applications
            << " written in " << seconds << " s; keys in " << keys_file << std::endl;
  return 0;
}
