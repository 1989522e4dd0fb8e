// The in-memory index behind the client-application API: which account holds which profile of which
// application in which structure, and the facts that decide whether that habilitation gives access now
// (the account's state, its memberships, the structure's subscriptions, the profile's state and
// permissions).
//
// Built from one snapshot of the store when attached, then kept current by the store's commit feed
// (store::CommitObserver). The store applies a commit to its observers before it acknowledges it or
// publishes its revision, so the index is never older than any revision a caller can hold: a consistency
// token needs no waiting. Reading it is a few hash lookups under a shared lock; it never touches the store.
//
// The index holds facts, not rules: server/domain/access/access.cc decides. Entries of deleted accounts stay (empty)
// until the next start, which is cheap because accounts are rarely deleted. Pointers a View returns are valid
// while the View lives.
#ifndef HABILIS_SERVER_DOMAIN_ACCESS_ACCESS_INDEX_H_
#define HABILIS_SERVER_DOMAIN_ACCESS_ACCESS_INDEX_H_

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "habilis/v1/accounts.pb.h"
#include "server/domain/access/compact_tables.h"
#include "store/store.h"

namespace habilis::domain {

// Memory from std::aligned_alloc (large blocks) or std::malloc, freed with std::free; never null (aborts as
// operator new would).
void* AllocateHugeAware(size_t bytes);

// Allocates large blocks (2 MiB and more) on transparent huge pages where the kernel allows it (madvise
// mode). The index's big hash tables are read at random, one line per check: with 4 KiB pages nearly
// every check also misses the TLB, and a page walk under virtualization costs as much as the lookup.
template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: allocators convert implicitly
  T* allocate(size_t n) { return static_cast<T*>(AllocateHugeAware(n * sizeof(T))); }
  void deallocate(T* p, size_t) { std::free(p); }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};
class SnapshotDecoder;  // index_snapshot.cc

class AccessIndex final : public store::CommitObserver {
 public:
  // Small integer ids the index gives to structures, applications and profiles.
  using SiretId = uint32_t;
  using ApplicationId = uint32_t;
  using ProfileId = uint32_t;

  static constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

  // One habilitation: in `siret`, the account holds `profile` until `expire_micros`. Its application is the
  // profile's (View::ApplicationOf): 16 bytes, three of which fit in an Account.
  struct Grant {
    int64_t expire_micros = kNoTime;  // kNoTime: no end date
    SiretId siret = 0;
    ProfileId profile = 0;
  };

  // An account's standing in one structure.
  enum class Standing { kNone, kMember, kSuspended };

  // An account's facts, in 88 bytes: the index holds a million of them per gigabyte of budget and a check
  // reads one. One membership and three habilitations live inline; an account with more keeps them all in
  // a separate allocation (rare: a person in several structures).
  class Account {
   public:
    // A suspended membership is kept as its SiretId with this bit set: no memory beyond the id itself.
    static constexpr SiretId kSuspendedBit = SiretId{1} << 31;

    explicit Account(uint64_t number) : number_(number) {}
    uint64_t key() const { return number_; }  // for ChunkedTable

    Standing StandingIn(SiretId siret) const;
    absl::Span<const Grant> grants() const {
      return spill_ != nullptr && spill_->grants_spilled ? absl::MakeConstSpan(spill_->grants)
                                                         : absl::MakeConstSpan(grants_, grant_count_);
    }

    v1::Account::State state() const { return static_cast<v1::Account::State>(state_); }

   private:
    friend class AccessIndex;
    struct Spill {
      bool memberships_spilled = false, grants_spilled = false;
      std::vector<SiretId> memberships;
      std::vector<Grant> grants;
    };
    absl::Span<const SiretId> memberships() const {
      return spill_ != nullptr && spill_->memberships_spilled ? absl::MakeConstSpan(spill_->memberships)
                                                              : absl::MakeConstSpan(&membership_, membership_count_);
    }
    // The membership of `siret` (suspended or not) replaced by `held`, or removed when nullopt.
    void SetMembership(SiretId siret, std::optional<SiretId> held);
    // The grant in (siret, application) replaced by `grant`, or removed when nullopt; `application_of` gives
    // a held grant's application.
    void SetGrant(SiretId siret, ApplicationId application, std::optional<Grant> grant,
                  absl::FunctionRef<ApplicationId(const Grant&)> application_of);
    Spill& spill();

    // The fields, in the order that packs them into 88 bytes.
    uint64_t number_ = 0;  // the account id's value: the key of the index's table

   public:
    int64_t locked_until_micros = kNoTime;     // kNoTime: never locked
    int64_t password_expire_micros = kNoTime;  // kNoTime: no expiry

   private:
    SiretId membership_ = 0;
    uint8_t state_ = 0;

   public:
    bool exists : 1 = false;  // false: named by an index entry but deleted (or not yet written in this commit)
    bool privacy_consent : 1 = false;

   private:
    uint8_t membership_count_ = 0;
    uint8_t grant_count_ = 0;
    Grant grants_[3];
    std::unique_ptr<Spill> spill_;
  };

  struct Profile {
    bool exists = false;  // false: named by a habilitation but absent from the catalog
    bool retired = false;
    ApplicationId application = 0;
    std::string name;                      // applications/{application}/profiles/{profile}
    std::vector<std::string> permissions;  // sorted
  };

  // Reads the store and attaches to its commit feed. Fails (DATA_LOSS) if a record cannot be decoded.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<AccessIndex>> Attach(store::Store& store);

  // How AttachFrom built the index, for the start-up log line.
  struct Origin {
    bool restored = false;         // from the snapshot, then caught up with the store's later commits
    store::Revision snapshot = 0;  // restored: the snapshot's revision
    std::string why_not;           // read from the store: why the snapshot was not used
  };
  // Restores the index from `snapshot_file` (SaveSnapshot) when it is a snapshot of this store whose later
  // commits the store still keeps (Store::Resume), which reads a fraction of what Attach reads; else does as
  // Attach. A snapshot that is missing, damaged, of another store or too old is only a slower start.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<AccessIndex>> AttachFrom(store::Store& store,
                                                                               const std::string& snapshot_file,
                                                                               Origin* origin);
  // Writes the index, with its revision and its store's id, to `file`: a temporary file, synced, then renamed
  // over it. Commits wait while the state is written into the page cache (0.2-0.3 s a million accounts), not
  // while it is synced to disk.
  // Returns the revision written. FAILED_PRECONDITION when the index is broken (it missed a change).
  [[nodiscard]] absl::StatusOr<store::Revision> SaveSnapshot(const std::string& file) const;
  // Detaches from the store.
  ~AccessIndex() override;

  // A consistent state of the index: holds a shared lock while it lives, so keep it short (one call).
  class View {
   public:
    // INTERNAL if a commit could not be applied since the index was built (a record did not decode).
    absl::Status Healthy() const;
    const Account* FindAccount(absl::string_view account_id) const;
    // `folded_login` as FoldEmail() gives it.
    const Account* FindLogin(absl::string_view folded_login) const;
    std::optional<SiretId> FindSiret(absl::string_view siret) const;
    std::optional<ApplicationId> FindApplication(absl::string_view application_id) const;
    // By resource name, applications/{application}/profiles/{profile}.
    std::optional<ProfileId> FindProfile(absl::string_view profile_name) const;

    absl::string_view Siret(SiretId id) const;
    const Profile& ProfileOf(ProfileId id) const;
    ApplicationId ApplicationOf(const Grant& grant) const { return ProfileOf(grant.profile).application; }
    bool Subscribed(SiretId siret, ApplicationId application) const;

   private:
    friend class AccessIndex;
    const Account* FindAccountNumber(uint64_t number) const;
    explicit View(const AccessIndex& index) : index_(index), lock_(&index.mu_) {}
    const AccessIndex& index_;
    absl::ReaderMutexLock lock_;
  };
  View Read() const { return View(*this); }

  void OnCommit(store::Revision revision, absl::Span<const store::Change> changes) override;

  // For resident-memory reports.
  size_t account_count() const;
  // The bytes of the index's tables: accounts with their memberships and habilitations, logins, structures,
  // profiles and subscriptions (what they allocate, not what malloc keeps beside).
  size_t MemoryBytes() const;
  // The revision of the last commit applied (for the metrics: how far the index is behind the store).
  store::Revision revision() const;
  // Every fact the index holds, a line each, sorted, with names instead of ids, leaving out what only names
  // something absent (a deleted account with nothing left, a profile no longer in the catalog): two indexes of
  // one state of the store describe themselves alike, however they were built (a snapshot's tests).
  std::string Describe() const;

 private:
  explicit AccessIndex(store::Store& store) : store_(store) {}
  // The snapshot's encoding (index_snapshot.cc): the tables in id order, so that ids and slots survive.
  // WriteSnapshot is false when a write to `fd` failed; Restore reads the snapshot open as `fd`, `file_bytes`
  // long, into this empty index.
  bool WriteSnapshot(int fd) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status Restore(int fd, uint64_t file_bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Its parts: the header (store, format, revision); applications, profiles, structures and subscriptions; the
  // accounts; one profile; one account. DecodeLogins reads the logins from `begin` to `end` of `fd` (on another
  // thread), and sets `highest_slot` to the highest account slot they name.
  absl::Status DecodeHeader(SnapshotDecoder& d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DecodeCatalog(SnapshotDecoder& d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DecodeAccounts(SnapshotDecoder& d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DecodeLogins(int fd, uint64_t begin, uint64_t end, uint32_t& highest_slot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DecodeProfile(SnapshotDecoder& d, ProfileId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DecodeAccount(SnapshotDecoder& d, uint32_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies one record as written (value) or deleted (nullopt); records of other tags are ignored.
  absl::Status Apply(absl::string_view key, std::optional<absl::string_view> value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Apply for each kind of key; `parts` are the key's components after its tag.
  absl::Status ApplyAccount(const std::vector<std::string>& parts, std::optional<absl::string_view> value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyLogin(const std::vector<std::string>& parts, std::optional<absl::string_view> value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyMembership(const std::vector<std::string>& parts, std::optional<absl::string_view> value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyHabilitation(const std::vector<std::string>& parts, std::optional<absl::string_view> value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplySubscription(const std::vector<std::string>& parts, std::optional<absl::string_view> value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyProfile(const std::vector<std::string>& parts, std::optional<absl::string_view> value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // nullptr if `account_id` is not an account id.
  Account* AccountFor(absl::string_view account_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SiretId SiretFor(absl::string_view siret) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ApplicationId ApplicationFor(absl::string_view application_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ProfileId ProfileFor(absl::string_view profile_name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  store::Store& store_;
  mutable absl::Mutex mu_;
  std::string broken_ ABSL_GUARDED_BY(mu_);
  store::Revision revision_ ABSL_GUARDED_BY(mu_) = 0;  // why a commit could not be applied; empty when healthy
  // Account ids are 16 hex digits: keyed by their value, so that a lookup touches no string.
  ChunkedTable<Account, HugePageAllocator> accounts_ ABSL_GUARDED_BY(mu_);
  StringTable<HugePageAllocator> logins_ ABSL_GUARDED_BY(mu_);     // folded login -> account slot
  size_t spilled_accounts_ ABSL_GUARDED_BY(mu_) = 0;               // with more than inline memberships or grants
  StringTable<HugePageAllocator> siret_ids_ ABSL_GUARDED_BY(mu_);  // SIRET -> SiretId
  std::vector<uint32_t> sirets_ ABSL_GUARDED_BY(mu_);              // SiretId -> where siret_ids_ keeps its text
  absl::flat_hash_map<std::string, ApplicationId> application_ids_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ProfileId> profile_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<Profile> profiles_ ABSL_GUARDED_BY(mu_);
  PairBits subscriptions_ ABSL_GUARDED_BY(mu_);  // (SiretId, ApplicationId)
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ACCESS_ACCESS_INDEX_H_
