// habilis-dataset: writes the synthetic performance dataset (server/tools/dataset.h) into an empty data
// directory, with an API key for the application app-0, and a file of (account, profile) pairs to check.
//
//   habilis-dataset --data-dir DIR [--structures N] [--accounts N] [--habilitations-per-account N]
//                   [--applications N] --pairs-file FILE --key-file FILE
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

int main(int argc, char** argv) {
  habilis::tools::DatasetParams params;
  std::string data_dir, pairs_file, key_file;
  int sample = 100000;
  CLI::App app{"habilis-dataset: the performance dataset"};
  app.add_option("--data-dir", data_dir, "an empty data directory")->required();
  app.add_option("--structures", params.structures)->capture_default_str();
  app.add_option("--accounts", params.accounts)->capture_default_str();
  app.add_option("--habilitations-per-account", params.habilitations_per_account)->capture_default_str();
  app.add_option("--applications", params.applications)->capture_default_str();
  app.add_option("--sample", sample, "pairs written to --pairs-file")->capture_default_str();
  app.add_option("--pairs-file", pairs_file, "where to write 'account profile' lines")->required();
  app.add_option("--key-file", key_file, "where to write the API key of app-0 (mode 0600)")->required();
  CLI11_PARSE(app, argc, argv);

  auto store = habilis::store::RocksDbStore::Open(data_dir);
  if (!store.ok()) {
    std::cerr << store.status() << std::endl;
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  auto pairs = habilis::tools::GenerateDataset(**store, params, sample);
  if (!pairs.ok()) {
    std::cerr << pairs.status() << std::endl;
    return 1;
  }
  const habilis::Clock& clock = habilis::SystemClock();
  habilis::domain::ApiKeys keys(**store, clock);
  auto op_key = keys.CreateFirstOperatorKey("dataset");
  auto op = keys.Authenticate(*op_key);
  habilis::v1::CreateApiKeyRequest request;
  request.mutable_api_key()->set_display_name("load generator");
  request.mutable_api_key()->set_application("applications/app-0");
  habilis::v1::CreateApiKeyResponse response;
  if (!op.ok() || !keys.Create(*op, request, response).ok()) {
    std::cerr << "cannot create the application key" << std::endl;
    return 1;
  }
  std::ofstream(key_file) << response.secret() << "\n";
  chmod(key_file.c_str(), 0600);
  std::ofstream out(pairs_file);
  int written = 0;
  for (const auto& pair : *pairs) {
    if (pair.profile.rfind("applications/app-0/", 0) != 0) continue;  // the key's application only
    out << pair.account << " " << pair.profile << "\n";
    ++written;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "structures " << params.structures << ", accounts " << params.accounts << ", habilitations "
            << params.accounts * params.habilitations_per_account << ", applications " << params.applications
            << " written in " << seconds << " s; " << written << " pairs of app-0 in " << pairs_file << std::endl;
  return 0;
}
