// A throwaway PostgreSQL 15 cluster started by a test: its own data directory under $TMPDIR, listening only
// on a Unix socket in that directory (no port to collide with), run by the unprivileged `postgres` user when
// the test runs as root (CI does; PostgreSQL refuses to run as root). Stopped and removed with the object.
#ifndef HABILIS_TESTS_TESTING_POSTGRES_CLUSTER_H_
#define HABILIS_TESTS_TESTING_POSTGRES_CLUSTER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace habilis::testing {

class PostgresCluster {
 public:
  // initdb, then start. The binaries are Debian's postgresql-15 (deploy/setup.sh installs it).
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> Start();
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // Creates an empty database and returns its libpq URI.
  absl::StatusOr<std::string> CreateDatabase(const std::string& name);
  // The URI of database `name`.
  std::string Url(const std::string& name) const;

  // Stops the server as a crash would (every connection cut, no checkpoint), or cleanly; and starts it again
  // on the same data.
  absl::Status Stop(bool immediate = true);
  absl::Status Restart();

 private:
  explicit PostgresCluster(std::string directory) : directory_(std::move(directory)) {}
  // Runs a PostgreSQL program as the cluster's owner; its output goes to the cluster's log.
  absl::Status RunAsOwner(const std::string& command) const;

  std::string directory_;  // holds data/, the socket and log
  bool running_ = false;
};

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_TESTING_POSTGRES_CLUSTER_H_
