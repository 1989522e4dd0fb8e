// The access index's snapshot (AccessIndex::SaveSnapshot, AttachFrom): an index restored from it and caught up
// with the commits made since, across a restart of the store, holds exactly what an index read from the store
// holds; a snapshot that cannot be trusted (damaged, of another store, ahead of the store) is set aside and the
// index is read from the store.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/structures.pb.h"
#include "server/domain/access/access_index.h"
#include "server/domain/kernel/resource_names.h"
#include "server/tools/dataset.h"
#include "store/keyspace.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/temp_dir.h"

namespace habilis::domain {
namespace {

// The lines of one description that the other lacks, both ways: empty when they are alike (a failure then
// shows the few facts that differ, not two descriptions of a thousand lines).
std::string Differences(const std::string& got, const std::string& expected) {
  std::vector<absl::string_view> a = absl::StrSplit(got, '\n'), b = absl::StrSplit(expected, '\n');
  std::vector<absl::string_view> only_got, only_expected;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_got));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_expected));
  if (only_got.empty() && only_expected.empty()) return "";
  return absl::StrCat("only in the index: ", absl::StrJoin(only_got, " | "),
                      "\nonly in the store: ", absl::StrJoin(only_expected, " | "));
}

class IndexSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    params_.structures = 20;
    params_.accounts = 400;
    params_.applications = 4;
    params_.batch = 500;
    ASSERT_TRUE(tools::GenerateDataset(*store_, params_, 0).ok());
  }
  void Open() {
    store_.reset();
    store_ = std::move(store::RocksDbStore::Open(dir_.Sub("db"))).value();
  }
  void Write(const std::string& key, const std::optional<std::string>& value) {
    ASSERT_TRUE(
        store_->Update([&](store::Transaction& txn) { return value ? txn.Put(key, *value) : txn.Delete(key); }).ok());
  }
  // Changes of every kind the index follows, after the snapshot.
  void ChangeEverything() {
    const std::string account = tools::DatasetAccountId(7), siret = tools::DatasetSiret(3);
    internal::AccountRecord record;
    record.mutable_account()->set_state(v1::Account::DEACTIVATED);
    record.mutable_account()->mutable_locked_until()->set_seconds(4102444800);
    Write(store::AccountKey(account), record.SerializeAsString());
    Write(store::LoginKey("nouvelle.personne@example.fr"), tools::DatasetAccountId(8));
    v1::Membership membership;
    membership.set_structure(StructureName(siret));
    membership.mutable_suspend_time()->set_seconds(1);
    Write(store::MembershipKey(siret, account), membership.SerializeAsString());
    Write(store::MembershipKey("99999999999999", tools::DatasetAccountId(9)), membership.SerializeAsString());
    for (int k = 0; k < 5; ++k) {  // more than fit inline
      v1::Habilitation habilitation;
      habilitation.set_profile(ProfileName(tools::DatasetApplicationId(k), tools::DatasetProfileId(k % 3)));
      habilitation.mutable_expire_time()->set_seconds(4102444800 + k);
      Write(store::HabilitationKey(siret, account, tools::DatasetApplicationId(k)), habilitation.SerializeAsString());
    }
    Write(store::HabilitationKey(tools::DatasetStructureOf(params_, 10), tools::DatasetAccountId(10),
                                 tools::DatasetApplicationId(0)),
          std::nullopt);
    v1::Profile profile;
    profile.set_state(v1::Profile::RETIRED);
    profile.add_permissions("lire");
    Write(store::ProfileKey(tools::DatasetApplicationId(1), tools::DatasetProfileId(2)), profile.SerializeAsString());
    Write(store::SubscriptionKey(siret, tools::DatasetApplicationId(3)), std::nullopt);
    Write(store::AccountKey(tools::DatasetAccountId(11)), std::nullopt);
  }
  std::string FreshDescription() { return std::move(AccessIndex::Attach(*store_)).value()->Describe(); }

  testing::TempDir dir_;
  tools::DatasetParams params_;
  std::unique_ptr<store::Store> store_;
  const std::string file_ = dir_.Sub("access-index.snapshot");
};

TEST_F(IndexSnapshotTest, ARestoredIndexCaughtUpAcrossARestartHoldsWhatTheStoreHolds) {
  AccessIndex::Origin origin;
  auto index = std::move(AccessIndex::AttachFrom(*store_, file_, &origin)).value();
  EXPECT_FALSE(origin.restored);
  EXPECT_NE(origin.why_not.find("no snapshot"), std::string::npos) << origin.why_not;
  const store::Revision saved = index->SaveSnapshot(file_).value();
  ChangeEverything();
  index.reset();
  Open();  // the commits since the snapshot are in the write-ahead log only

  auto restored = std::move(AccessIndex::AttachFrom(*store_, file_, &origin)).value();
  ASSERT_TRUE(origin.restored) << origin.why_not;
  EXPECT_EQ(origin.snapshot, saved);
  EXPECT_EQ(restored->revision(), store_->LatestRevision().value());
  const std::string expected = FreshDescription();
  EXPECT_NE(expected.find("nouvelle.personne"), std::string::npos);  // the changes are in the description
  EXPECT_EQ(Differences(restored->Describe(), expected), "");

  Write(store::LoginKey("encore.une@example.fr"), tools::DatasetAccountId(12));  // and it keeps following
  EXPECT_EQ(Differences(restored->Describe(), FreshDescription()), "");
}

TEST_F(IndexSnapshotTest, ASnapshotSavedAfterCatchingUpRestoresTheSameIndex) {
  AccessIndex::Origin origin;
  auto index = std::move(AccessIndex::AttachFrom(*store_, file_, &origin)).value();
  ChangeEverything();
  ASSERT_TRUE(index->SaveSnapshot(file_).ok());
  auto restored = std::move(AccessIndex::AttachFrom(*store_, file_, &origin)).value();
  ASSERT_TRUE(origin.restored) << origin.why_not;
  EXPECT_EQ(Differences(restored->Describe(), index->Describe()), "");
  EXPECT_EQ(restored->account_count(), index->account_count());
}

TEST_F(IndexSnapshotTest, ADamagedSnapshotIsSetAsideAndTheStoreRead) {
  auto index = std::move(AccessIndex::Attach(*store_)).value();
  ASSERT_TRUE(index->SaveSnapshot(file_).ok());
  {
    std::fstream file(file_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(200);
    file.put('\x7f');
  }
  AccessIndex::Origin origin;
  auto read = std::move(AccessIndex::AttachFrom(*store_, file_, &origin)).value();
  EXPECT_FALSE(origin.restored);
  EXPECT_NE(origin.why_not.find("checksum"), std::string::npos) << origin.why_not;
  EXPECT_EQ(Differences(read->Describe(), index->Describe()), "");
}

// The logins are read on another thread from where the file's end says they begin: a file cut short, or an
// offset that points elsewhere, is damage, never a partial index.
TEST_F(IndexSnapshotTest, ASnapshotCutShortOrWithItsLoginsMisplacedIsSetAside) {
  auto index = std::move(AccessIndex::Attach(*store_)).value();
  ASSERT_TRUE(index->SaveSnapshot(file_).ok());
  const auto size = std::filesystem::file_size(file_);
  std::filesystem::copy_file(file_, file_ + ".whole");
  std::filesystem::resize_file(file_, size - 20);
  AccessIndex::Origin origin;
  auto read = std::move(AccessIndex::AttachFrom(*store_, file_, &origin)).value();
  EXPECT_FALSE(origin.restored);
  EXPECT_NE(origin.why_not.find("damaged"), std::string::npos) << origin.why_not;
  EXPECT_EQ(Differences(read->Describe(), index->Describe()), "");

  for (uint64_t logins_at : {uint64_t{40}, uint64_t{size}, ~uint64_t{0}}) {
    std::filesystem::copy_file(file_ + ".whole", file_, std::filesystem::copy_options::overwrite_existing);
    {
      std::fstream file(file_, std::ios::in | std::ios::out | std::ios::binary);
      file.seekp(static_cast<std::streamoff>(size - 12));  // the offset, before the 4-byte checksum
      file.write(reinterpret_cast<const char*>(&logins_at), sizeof(logins_at));
    }
    AccessIndex::Origin moved;
    read = std::move(AccessIndex::AttachFrom(*store_, file_, &moved)).value();
    EXPECT_FALSE(moved.restored) << logins_at;
    EXPECT_NE(moved.why_not.find("damaged"), std::string::npos) << moved.why_not;
    EXPECT_EQ(Differences(read->Describe(), index->Describe()), "");
  }
}

TEST_F(IndexSnapshotTest, TheSnapshotOfAnotherStoreIsSetAside) {
  testing::TempDir other_dir;
  auto other = std::move(store::RocksDbStore::Open(other_dir.Sub("db"))).value();
  ASSERT_TRUE(std::move(AccessIndex::Attach(*other)).value()->SaveSnapshot(file_).ok());
  AccessIndex::Origin origin;
  auto read = std::move(AccessIndex::AttachFrom(*store_, file_, &origin)).value();
  EXPECT_FALSE(origin.restored);
  EXPECT_NE(origin.why_not.find("another store"), std::string::npos) << origin.why_not;
  EXPECT_EQ(Differences(read->Describe(), FreshDescription()), "");
}

// A store put back from an older copy, with the snapshot of its later state beside it.
TEST_F(IndexSnapshotTest, ASnapshotAheadOfTheStoreIsSetAside) {
  ASSERT_TRUE(store_->Checkpoint(dir_.Sub("copy")).ok());
  ChangeEverything();
  ASSERT_TRUE(std::move(AccessIndex::Attach(*store_)).value()->SaveSnapshot(file_).ok());
  store_ = std::move(store::RocksDbStore::Open(dir_.Sub("copy"))).value();
  AccessIndex::Origin origin;
  auto read = std::move(AccessIndex::AttachFrom(*store_, file_, &origin)).value();
  EXPECT_FALSE(origin.restored);
  EXPECT_NE(origin.why_not.find("ahead"), std::string::npos) << origin.why_not;
  EXPECT_EQ(Differences(read->Describe(), FreshDescription()), "");
  EXPECT_EQ(read->Describe().find("nouvelle.personne"), std::string::npos);
}

}  // namespace
}  // namespace habilis::domain
