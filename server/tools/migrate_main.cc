// habilis-migrate: moves a stopped server's data directory to this version's store format (docs/OPERATIONS.md
// "Upgrades").
//
//   habilis-migrate --data-dir DIR [--check]
#include <iostream>

#include "CLI/CLI.hpp"
#include "server/tools/migrations.h"
#include "store/rocksdb/rocksdb_store.h"

int main(int argc, char** argv) {
  std::string data_dir;
  bool check_only = false;
  CLI::App app{
      "habilis-migrate: move a data directory to this version's store format. Stop every habilisd on it "
      "and back it up first: RocksDB's lock refuses a second process."};
  app.add_option("--data-dir", data_dir, "the data directory")->required();
  app.add_flag("--check", check_only, "say what would be done, change nothing");
  CLI11_PARSE(app, argc, argv);
  auto store = habilis::store::RocksDbStore::OpenForMigration(data_dir);
  if (!store.ok()) {
    std::cerr << "habilis-migrate: " << store.status().message() << std::endl;
    return 1;
  }
  absl::Status migrated = habilis::tools::MigrateToCurrentFormat(**store, check_only, std::cout);
  if (!migrated.ok()) {
    std::cerr << "habilis-migrate: " << migrated.message() << std::endl;
    return 1;
  }
  return 0;
}
