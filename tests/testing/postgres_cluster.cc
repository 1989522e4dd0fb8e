#include "tests/testing/postgres_cluster.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace habilis::testing {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin";
constexpr int kPort = 5432;  // only names the socket file, in the cluster's own directory

bool RunningAsRoot() { return geteuid() == 0; }

}  // namespace

absl::Status PostgresCluster::RunAsOwner(const std::string& command) const {
  // runuser keeps no terminal and needs no password: the way to drop root for one command.
  const std::string line = RunningAsRoot() ? absl::StrCat("runuser -u postgres -- ", command) : command;
  const int status = std::system(absl::StrCat(line, " >>", directory_, "/log 2>&1").c_str());
  if (status != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` failed (", status, "); see ", directory_, "/log"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Start() {
  if (!std::filesystem::exists(absl::StrCat(kBin, "/initdb"))) {
    return absl::FailedPreconditionError("PostgreSQL 15 is not installed (run deploy/setup.sh as root)");
  }
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/habilis-pg-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  std::unique_ptr<PostgresCluster> cluster(new PostgresCluster(pattern));
  if (RunningAsRoot()) {
    const passwd* owner = getpwnam("postgres");
    if (owner == nullptr) return absl::FailedPreconditionError("no `postgres` user to run the cluster as");
    if (chown(pattern.c_str(), owner->pw_uid, owner->pw_gid) != 0) return absl::InternalError("chown failed");
    chmod(pattern.c_str(), 0755);
  }
  // --no-sync: the files initdb writes need not survive a crash of this machine; the cluster's own commits
  // are synced as in production (fsync and synchronous_commit stay on).
  absl::Status made = cluster->RunAsOwner(
      absl::StrCat(kBin, "/initdb --no-sync -A trust -U habilis -E UTF8 --locale=C -D ", pattern, "/data"));
  if (!made.ok()) return made;
  if (absl::Status started = cluster->Restart(); !started.ok()) return started;
  return cluster;
}

absl::Status PostgresCluster::Restart() {
  const std::string options =
      absl::StrCat("-c listen_addresses='' -c unix_socket_directories='", directory_, "' -c port=", kPort,
                   " -c fsync=on -c synchronous_commit=on", " -c max_connections=200 -c shared_buffers=64MB");
  absl::Status started = RunAsOwner(absl::StrCat(kBin, "/pg_ctl -w -t 60 -D ", directory_, "/data -l ", directory_,
                                                 "/server.log -o \"", options, "\" start"));
  if (started.ok()) running_ = true;
  return started;
}

absl::Status PostgresCluster::Stop(bool immediate) {
  if (!running_) return absl::OkStatus();
  running_ = false;
  return RunAsOwner(
      absl::StrCat(kBin, "/pg_ctl -w -D ", directory_, "/data -m ", immediate ? "immediate" : "fast", " stop"));
}

std::string PostgresCluster::Url(const std::string& name) const {
  return absl::StrCat("postgresql:///", name, "?host=", directory_, "&port=", kPort, "&user=habilis");
}

absl::StatusOr<std::string> PostgresCluster::CreateDatabase(const std::string& name) {
  absl::Status created =
      RunAsOwner(absl::StrCat(kBin, "/createdb -h ", directory_, " -p ", kPort, " -U habilis ", name));
  if (!created.ok()) return created;
  return Url(name);
}

PostgresCluster::~PostgresCluster() {
  (void)Stop(/*immediate=*/true);
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

}  // namespace habilis::testing
