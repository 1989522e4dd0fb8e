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
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "habilis/v1/accounts.pb.h"
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
class AccessIndex final : public store::CommitObserver {
 public:
  // Small integer ids the index gives to structures, applications and profiles.
  using SiretId = uint32_t;
  using ApplicationId = uint32_t;
  using ProfileId = uint32_t;

  static constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

  // One habilitation: in `siret`, the account holds `profile` of `application`, until `expire_micros`.
  struct Grant {
    SiretId siret;
    ApplicationId application;
    ProfileId profile;
    int64_t expire_micros = kNoTime;  // kNoTime: no end date
  };

  // An account's standing in one structure.
  enum class Standing { kNone, kMember, kSuspended };

  struct Account {
    // A suspended membership is kept as its SiretId with this bit set: no memory beyond the id itself.
    static constexpr SiretId kSuspendedBit = SiretId{1} << 31;

    Standing StandingIn(SiretId siret) const {
      for (SiretId held : memberships) {
        if (held == siret) return Standing::kMember;
        if (held == (siret | kSuspendedBit)) return Standing::kSuspended;
      }
      return Standing::kNone;
    }

    bool exists = false;  // false: named by an index entry but deleted (or not yet written in this commit)
    v1::Account::State state = v1::Account::STATE_UNSPECIFIED;
    bool privacy_consent = false;
    int64_t locked_until_micros = kNoTime;        // kNoTime: never locked
    int64_t password_expire_micros = kNoTime;     // kNoTime: no expiry
    absl::InlinedVector<SiretId, 1> memberships;  // read them through StandingIn
    absl::InlinedVector<Grant, 3> grants;
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

    const std::string& Siret(SiretId id) const;
    const Profile& ProfileOf(ProfileId id) const;
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
  // The revision of the last commit applied (for the metrics: how far the index is behind the store).
  store::Revision revision() const;

 private:
  explicit AccessIndex(store::Store& store) : store_(store) {}
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
  template <typename K, typename V>
  using BigMap =
      absl::flat_hash_map<K, V, absl::container_internal::hash_default_hash<K>,
                          absl::container_internal::hash_default_eq<K>, HugePageAllocator<std::pair<const K, V>>>;
  BigMap<uint64_t, Account> accounts_ ABSL_GUARDED_BY(mu_);
  BigMap<std::string, uint64_t> logins_ ABSL_GUARDED_BY(mu_);  // folded login -> account id
  absl::flat_hash_map<std::string, SiretId> siret_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> sirets_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ApplicationId> application_ids_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ProfileId> profile_ids_ ABSL_GUARDED_BY(mu_);
  std::vector<Profile> profiles_ ABSL_GUARDED_BY(mu_);
  // siret << 32 | application
  absl::flat_hash_set<uint64_t, absl::container_internal::hash_default_hash<uint64_t>,
                      absl::container_internal::hash_default_eq<uint64_t>, HugePageAllocator<uint64_t>>
      subscriptions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ACCESS_ACCESS_INDEX_H_
