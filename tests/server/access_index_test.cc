// The access index's compact account layout: one membership and three habilitations inline, more moved to
// a separate allocation, and every change (added, replaced, removed) seen through the View either way.
#include "server/domain/access/access_index.h"

#include "gtest/gtest.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/structures.pb.h"
#include "server/domain/kernel/resource_names.h"
#include "store/keyspace.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/temp_dir.h"

namespace habilis::domain {
namespace {

constexpr char kAccount[] = "00000000000000a1";

class AccessIndexLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::RocksDbStore::Open(dir_.Sub("db"))).value();
    index_ = std::move(AccessIndex::Attach(*store_)).value();
  }

  void Write(const std::string& key, const std::optional<std::string>& value) {
    ASSERT_TRUE(
        store_->Update([&](store::Transaction& txn) { return value ? txn.Put(key, *value) : txn.Delete(key); }).ok());
  }
  void Member(const std::string& siret, bool suspended) {
    v1::Membership membership;
    membership.set_structure(StructureName(siret));
    if (suspended) membership.mutable_suspend_time()->set_seconds(1);
    Write(store::MembershipKey(siret, kAccount), membership.SerializeAsString());
  }
  void Grant(const std::string& siret, const std::string& app, const std::string& profile) {
    v1::Habilitation habilitation;
    habilitation.set_profile(ProfileName(app, profile));
    Write(store::HabilitationKey(siret, kAccount, app), habilitation.SerializeAsString());
  }
  // (siret, profile name) of every grant the index holds for the account.
  std::vector<std::pair<std::string, std::string>> Grants() {
    AccessIndex::View view = index_->Read();
    std::vector<std::pair<std::string, std::string>> grants;
    const AccessIndex::Account* account = view.FindAccount(kAccount);
    if (account == nullptr) return grants;
    for (const AccessIndex::Grant& grant : account->grants()) {
      grants.emplace_back(view.Siret(grant.siret), view.ProfileOf(grant.profile).name);
    }
    std::sort(grants.begin(), grants.end());
    return grants;
  }
  AccessIndex::Standing StandingIn(const std::string& siret) {
    AccessIndex::View view = index_->Read();
    const AccessIndex::Account* account = view.FindAccount(kAccount);
    std::optional<AccessIndex::SiretId> id = view.FindSiret(siret);
    return account == nullptr || !id ? AccessIndex::Standing::kNone : account->StandingIn(*id);
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AccessIndex> index_;
};

TEST_F(AccessIndexLayoutTest, AnAccountFitsTheMemoryBudget) { EXPECT_LE(sizeof(AccessIndex::Account), 88u); }

TEST_F(AccessIndexLayoutTest, MembershipsBeyondTheFirstAreKeptAndRemoved) {
  internal::AccountRecord record;
  record.mutable_account()->set_state(v1::Account::ACTIVE);
  Write(store::AccountKey(kAccount), record.SerializeAsString());
  Member("11111111111111", false);
  Member("22222222222222", true);
  Member("33333333333333", false);
  EXPECT_EQ(StandingIn("11111111111111"), AccessIndex::Standing::kMember);
  EXPECT_EQ(StandingIn("22222222222222"), AccessIndex::Standing::kSuspended);
  EXPECT_EQ(StandingIn("33333333333333"), AccessIndex::Standing::kMember);
  Write(store::MembershipKey("11111111111111", kAccount), std::nullopt);
  Member("22222222222222", false);  // resumed: replaced, not added
  EXPECT_EQ(StandingIn("11111111111111"), AccessIndex::Standing::kNone);
  EXPECT_EQ(StandingIn("22222222222222"), AccessIndex::Standing::kMember);
  EXPECT_EQ(StandingIn("33333333333333"), AccessIndex::Standing::kMember);
}

TEST_F(AccessIndexLayoutTest, HabilitationsBeyondThreeAreKeptReplacedAndRemoved) {
  internal::AccountRecord record;
  record.mutable_account()->set_state(v1::Account::ACTIVE);
  Write(store::AccountKey(kAccount), record.SerializeAsString());
  Grant("11111111111111", "a", "p1");
  Grant("11111111111111", "b", "p1");
  Grant("11111111111111", "a", "p2");  // replaces (structure, application a)
  EXPECT_EQ(Grants().size(), 2u);
  Grant("22222222222222", "a", "p1");
  Grant("22222222222222", "c", "p1");  // a fourth: all move out of line
  Grant("33333333333333", "c", "p3");
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(Grants(), (std::vector<P>{{"11111111111111", "applications/a/profiles/p2"},
                                      {"11111111111111", "applications/b/profiles/p1"},
                                      {"22222222222222", "applications/a/profiles/p1"},
                                      {"22222222222222", "applications/c/profiles/p1"},
                                      {"33333333333333", "applications/c/profiles/p3"}}));
  Write(store::HabilitationKey("11111111111111", kAccount, "a"), std::nullopt);
  Grant("33333333333333", "c", "p2");
  EXPECT_EQ(Grants(), (std::vector<P>{{"11111111111111", "applications/b/profiles/p1"},
                                      {"22222222222222", "applications/a/profiles/p1"},
                                      {"22222222222222", "applications/c/profiles/p1"},
                                      {"33333333333333", "applications/c/profiles/p2"}}));
  // The same facts after a restart, loaded from the store rather than followed commit by commit.
  index_.reset();
  index_ = std::move(AccessIndex::Attach(*store_)).value();
  EXPECT_EQ(Grants().size(), 4u);
}

TEST_F(AccessIndexLayoutTest, ALoginFollowsItsAccountAndIsForgottenWhenDeleted) {
  internal::AccountRecord record;
  record.mutable_account()->set_state(v1::Account::ACTIVE);
  Write(store::AccountKey(kAccount), record.SerializeAsString());
  Write(store::LoginKey("lea@example.fr"), std::string(kAccount));
  {
    AccessIndex::View view = index_->Read();
    EXPECT_EQ(view.FindLogin("lea@example.fr"), view.FindAccount(kAccount));
    EXPECT_EQ(view.FindLogin("leo@example.fr"), nullptr);
  }
  Write(store::LoginKey("lea@example.fr"), std::nullopt);
  EXPECT_EQ(index_->Read().FindLogin("lea@example.fr"), nullptr);
  EXPECT_GT(index_->MemoryBytes(), 0u);
}

}  // namespace
}  // namespace habilis::domain
