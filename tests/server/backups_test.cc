// Online backups (docs/OPERATIONS.md "Backup and restore"): a name is taken once, even by two backups at once,
// and a backup is a store of its own.
#include "server/domain/operations/backups.h"

#include <thread>

#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/domain_fixture.h"

namespace habilis::domain {
namespace {

using testing::DomainTest;

class BackupsTest : public DomainTest {
 protected:
  absl::Status Backup(const std::string& id, v1::CreateBackupResponse* response = nullptr) {
    v1::CreateBackupRequest request;
    request.set_backup_id(id);
    v1::CreateBackupResponse ignored;
    return backups_->Create(request, response != nullptr ? *response : ignored);
  }
  void SetUp() override {
    DomainTest::SetUp();
    backups_ = std::make_unique<Backups>(*store_, clock_, dir_.Sub("backups"));
  }
  std::unique_ptr<Backups> backups_;
};

TEST_F(BackupsTest, TwoBackupsOfOneNameAtOnceMakeOne) {
  ASSERT_TRUE(CreateStructure().ok());
  for (int round = 0; round < 10; ++round) {
    const std::string id = "nightly-" + std::to_string(round);
    absl::Status first, second;
    std::thread racer([&] { first = Backup(id); });
    second = Backup(id);
    racer.join();
    EXPECT_NE(first.ok(), second.ok()) << first << " / " << second;
    EXPECT_EQ(ErrorReason(first.ok() ? second : first), "BACKUP_EXISTS");
  }
}

TEST_F(BackupsTest, ABackupOpensAsAStoreHoldingWhatWasCommitted) {
  ASSERT_TRUE(CreateStructure().ok());
  v1::CreateBackupResponse response;
  ASSERT_TRUE(Backup("", &response).ok());
  EXPECT_NE(response.directory().find("/backups/backup-"), std::string::npos) << response.directory();
  auto copy = store::RocksDbStore::Open(response.directory());
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)->LatestRevision().value(), store_->LatestRevision().value());
  EXPECT_EQ(ErrorReason(Backup("../outside")), "BACKUP_ID_FORMAT");
  EXPECT_EQ(ErrorReason(Backup(".hidden")), "BACKUP_ID_FORMAT");
}

}  // namespace
}  // namespace habilis::domain
