// The backends the store suites run on (store_conformance_test.cc, transaction_conformance_test.cc): each
// opens a store on a location that survives reopening. A new backend adds a factory here.
#ifndef HABILIS_TESTS_STORE_BACKEND_FACTORIES_H_
#define HABILIS_TESTS_STORE_BACKEND_FACTORIES_H_

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/postgres/postgres_store.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store.h"
#include "tests/testing/postgres_cluster.h"
#include "tests/testing/temp_dir.h"

namespace habilis::store {

// Opens a backend on a location that survives Reopen(). kShared: several stores may be open on it at once
// (several habilisd nodes on one database).
// kOverlappingCommits: transactions that overlap in time may both commit when they touch different keys
// (PostgreSQL's revision row serializes every commit: docs/SCALE-OUT.md "Writes").
struct RocksDbFactory {
  static constexpr bool kShared = false;
  static constexpr bool kOverlappingCommits = true;
  testing::TempDir dir;
  std::unique_ptr<Store> Open() {
    auto store = RocksDbStore::Open(dir.Sub("db"));
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  }
};

// One throwaway PostgreSQL cluster per test program, started by the first test that needs it; each test gets
// a database of its own.
class PostgresEnvironment final : public ::testing::Environment {
 public:
  static testing::PostgresCluster& Cluster() {
    if (cluster_ == nullptr) {
      auto started = testing::PostgresCluster::Start();
      if (!started.ok()) {
        ADD_FAILURE() << started.status();
        std::abort();
      }
      cluster_ = std::move(started).value();
    }
    return *cluster_;
  }
  void TearDown() override { cluster_.reset(); }

 private:
  static inline std::unique_ptr<testing::PostgresCluster> cluster_;
};
inline ::testing::Environment* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

struct PostgresFactory {
  static constexpr bool kShared = true;
  static constexpr bool kOverlappingCommits = false;
  std::string url;
  PostgresFactory() {
    static int databases = 0;
    absl::StatusOr<std::string> created =
        PostgresEnvironment::Cluster().CreateDatabase(absl::StrCat("conformance_", ++databases));
    EXPECT_TRUE(created.ok()) << created.status();
    url = created.value_or("");
  }
  std::unique_ptr<Store> Open() {
    auto store = PostgresStore::Open(PostgresOptions{.url = url, .poll_interval = absl::Milliseconds(2)});
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  }
};

}  // namespace habilis::store

#endif  // HABILIS_TESTS_STORE_BACKEND_FACTORIES_H_
