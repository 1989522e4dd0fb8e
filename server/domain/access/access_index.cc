#include "server/domain/access/access_index.h"

#include <sys/mman.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "server/common/clock.h"
#include "server/common/status_macros.h"
#include "server/domain/kernel/resource_names.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

using store::KeyTag;

// The tags whose records the index follows, in key order (the order a load reads them).
constexpr KeyTag kIndexedTags[] = {KeyTag::kProfile, KeyTag::kSubscription, KeyTag::kAccount,
                                   KeyTag::kLogin,   KeyTag::kMembership,   KeyTag::kHabilitation};

std::string TagPrefix(KeyTag tag) { return std::string(1, static_cast<char>(tag)); }

int64_t MicrosOrNone(bool present, const google::protobuf::Timestamp& timestamp) {
  return present ? absl::ToUnixMicros(FromTimestamp(timestamp)) : AccessIndex::kNoTime;
}

uint64_t SubscriptionSlot(AccessIndex::SiretId siret, AccessIndex::ApplicationId application) {
  return static_cast<uint64_t>(siret) << 32 | application;
}

// The value of a 16-hex-digit account id; nullopt for anything else.
std::optional<uint64_t> AccountNumber(absl::string_view account_id) {
  if (account_id.size() != 16) return std::nullopt;
  uint64_t number = 0;
  for (char c : account_id) {
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    number = number << 4 | static_cast<uint64_t>(digit);
  }
  return number;
}

absl::Status Undecodable(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("access index: undecodable ", what, " record"));
}

}  // namespace

void* AllocateHugeAware(size_t bytes) {
  constexpr size_t kHugePage = 2 << 20;
  if (bytes < kHugePage) {
    void* small = std::malloc(bytes == 0 ? 1 : bytes);
    if (small == nullptr) std::abort();
    return small;
  }
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* big = std::aligned_alloc(kHugePage, rounded);
  if (big == nullptr) std::abort();
  madvise(big, rounded, MADV_HUGEPAGE);  // advice only: without huge pages it still works, slower
  return big;
}

absl::StatusOr<std::unique_ptr<AccessIndex>> AccessIndex::Attach(store::Store& store) {
  std::unique_ptr<AccessIndex> index(new AccessIndex(store));
  AccessIndex* raw = index.get();
  RETURN_IF_ERROR(store.Observe(*raw, [raw](store::Reader& reader, store::Revision revision) -> absl::Status {
    absl::MutexLock lock(&raw->mu_);
    raw->revision_ = revision;
    for (KeyTag tag : kIndexedTags) {
      absl::Status applied = absl::OkStatus();
      RETURN_IF_ERROR(store::ScanPrefix(reader, TagPrefix(tag), [&](absl::string_view key, absl::string_view value) {
        applied = raw->Apply(key, value);
        return applied.ok();
      }));
      RETURN_IF_ERROR(applied);
    }
    return absl::OkStatus();
  }));
  return index;
}

AccessIndex::~AccessIndex() { store_.StopObserving(*this); }

void AccessIndex::OnCommit(store::Revision revision, absl::Span<const store::Change> changes) {
  absl::MutexLock lock(&mu_);
  revision_ = revision;
  for (const store::Change& change : changes) {
    absl::Status applied =
        Apply(change.key, change.value ? std::optional<absl::string_view>(*change.value) : std::nullopt);
    if (!applied.ok() && broken_.empty()) {
      // The commit is durable; the index can no longer answer truthfully. Checks fail until a restart
      // rebuilds it (and a restart with an undecodable record refuses to start, which is the alarm).
      broken_ = absl::StrCat("revision ", revision, ": ", applied.message());
      std::cerr << "habilisd: " << broken_ << std::endl;
    }
  }
}

absl::Status AccessIndex::Apply(absl::string_view key, std::optional<absl::string_view> value) {
  if (key.empty()) return absl::OkStatus();
  const KeyTag tag = static_cast<KeyTag>(key[0]);
  if (std::find(std::begin(kIndexedTags), std::end(kIndexedTags), tag) == std::end(kIndexedTags)) {
    return absl::OkStatus();
  }
  const std::vector<std::string> parts = store::ComponentsAfter(key, key.substr(0, 1));
  switch (tag) {
    case KeyTag::kAccount:
      return ApplyAccount(parts, value);
    case KeyTag::kLogin:
      return ApplyLogin(parts, value);
    case KeyTag::kMembership:
      return ApplyMembership(parts, value);
    case KeyTag::kHabilitation:
      return ApplyHabilitation(parts, value);
    case KeyTag::kSubscription:
      return ApplySubscription(parts, value);
    case KeyTag::kProfile:
      return ApplyProfile(parts, value);
    default:
      return absl::OkStatus();
  }
}

absl::Status AccessIndex::ApplyAccount(const std::vector<std::string>& parts, std::optional<absl::string_view> value) {
  Account* account = parts.size() == 1 ? AccountFor(parts[0]) : nullptr;
  if (account == nullptr) return Undecodable("account key");
  if (!value) {
    account->exists = false;
    return absl::OkStatus();
  }
  internal::AccountRecord record;
  if (!record.ParseFromArray(value->data(), static_cast<int>(value->size()))) return Undecodable("account");
  const v1::Account& a = record.account();
  account->exists = true;
  account->state = a.state();
  account->privacy_consent = a.has_privacy_consent_time();
  account->locked_until_micros = MicrosOrNone(a.has_locked_until(), a.locked_until());
  account->password_expire_micros = MicrosOrNone(a.has_password_expire_time(), a.password_expire_time());
  return absl::OkStatus();
}

absl::Status AccessIndex::ApplyLogin(const std::vector<std::string>& parts, std::optional<absl::string_view> value) {
  if (parts.size() != 1) return Undecodable("login key");
  if (!value) {
    logins_.erase(parts[0]);
    return absl::OkStatus();
  }
  std::optional<uint64_t> number = AccountNumber(*value);
  if (!number) return Undecodable("login");
  AccountFor(*value);
  logins_[parts[0]] = *number;
  return absl::OkStatus();
}

absl::Status AccessIndex::ApplyMembership(const std::vector<std::string>& parts,
                                          std::optional<absl::string_view> value) {
  Account* account = parts.size() == 2 ? AccountFor(parts[1]) : nullptr;
  if (account == nullptr) return Undecodable("membership key");
  const SiretId siret = SiretFor(parts[0]);
  auto& memberships = account->memberships;
  auto found = std::find_if(memberships.begin(), memberships.end(),
                            [&](SiretId held) { return (held & ~Account::kSuspendedBit) == siret; });
  if (found != memberships.end()) memberships.erase(found);
  if (!value) return absl::OkStatus();
  v1::Membership membership;
  if (!membership.ParseFromArray(value->data(), static_cast<int>(value->size()))) return Undecodable("membership");
  memberships.push_back(membership.has_suspend_time() ? (siret | Account::kSuspendedBit) : siret);
  return absl::OkStatus();
}

absl::Status AccessIndex::ApplyHabilitation(const std::vector<std::string>& parts,
                                            std::optional<absl::string_view> value) {
  Account* account = parts.size() == 3 ? AccountFor(parts[1]) : nullptr;
  if (account == nullptr) return Undecodable("habilitation key");
  const SiretId siret = SiretFor(parts[0]);
  const ApplicationId application = ApplicationFor(parts[2]);
  auto& grants = account->grants;
  auto found = std::find_if(grants.begin(), grants.end(), [&](const Grant& grant) {
    return grant.siret == siret && grant.application == application;
  });
  if (!value) {
    if (found != grants.end()) grants.erase(found);
    return absl::OkStatus();
  }
  v1::Habilitation habilitation;
  if (!habilitation.ParseFromArray(value->data(), static_cast<int>(value->size()))) return Undecodable("habilitation");
  const ProfileId profile = ProfileFor(habilitation.profile());
  const int64_t expire_micros = MicrosOrNone(habilitation.has_expire_time(), habilitation.expire_time());
  if (found != grants.end()) {
    found->profile = profile;
    found->expire_micros = expire_micros;
  } else {
    grants.push_back(Grant{siret, application, profile, expire_micros});
  }
  return absl::OkStatus();
}

absl::Status AccessIndex::ApplySubscription(const std::vector<std::string>& parts,
                                            std::optional<absl::string_view> value) {
  if (parts.size() != 2) return Undecodable("subscription key");
  const uint64_t slot = SubscriptionSlot(SiretFor(parts[0]), ApplicationFor(parts[1]));
  if (!value) {
    subscriptions_.erase(slot);
  } else {
    subscriptions_.insert(slot);
  }
  return absl::OkStatus();
}

absl::Status AccessIndex::ApplyProfile(const std::vector<std::string>& parts, std::optional<absl::string_view> value) {
  if (parts.size() != 2) return Undecodable("profile key");
  Profile& profile = profiles_[ProfileFor(ProfileName(parts[0], parts[1]))];
  if (!value) {
    profile.exists = false;
    return absl::OkStatus();
  }
  v1::Profile record;
  if (!record.ParseFromArray(value->data(), static_cast<int>(value->size()))) return Undecodable("profile");
  profile.exists = true;
  profile.retired = record.state() == v1::Profile::RETIRED;
  profile.permissions.assign(record.permissions().begin(), record.permissions().end());
  std::sort(profile.permissions.begin(), profile.permissions.end());
  return absl::OkStatus();
}

AccessIndex::Account* AccessIndex::AccountFor(absl::string_view account_id) {
  std::optional<uint64_t> number = AccountNumber(account_id);
  if (!number) return nullptr;
  return &accounts_[*number];
}

AccessIndex::SiretId AccessIndex::SiretFor(absl::string_view siret) {
  auto [it, inserted] = siret_ids_.try_emplace(siret, static_cast<SiretId>(sirets_.size()));
  if (inserted) sirets_.emplace_back(siret);
  return it->second;
}

AccessIndex::ApplicationId AccessIndex::ApplicationFor(absl::string_view application_id) {
  return application_ids_.try_emplace(application_id, static_cast<ApplicationId>(application_ids_.size()))
      .first->second;
}

AccessIndex::ProfileId AccessIndex::ProfileFor(absl::string_view profile_name) {
  auto [it, inserted] = profile_ids_.try_emplace(profile_name, static_cast<ProfileId>(profiles_.size()));
  if (inserted) {
    Profile& profile = profiles_.emplace_back();
    profile.name = std::string(profile_name);
    std::optional<ProfileNameParts> parts = ParseProfileName(profile_name);
    // A malformed name gets an application of its own, so that it never matches any caller's.
    profile.application = ApplicationFor(parts ? parts->application_id : absl::StrCat("\x01", profile_name));
  }
  return it->second;
}

size_t AccessIndex::account_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return accounts_.size();
}

store::Revision AccessIndex::revision() const {
  absl::ReaderMutexLock lock(&mu_);
  return revision_;
}

absl::Status AccessIndex::View::Healthy() const {
  if (index_.broken_.empty()) return absl::OkStatus();
  return absl::InternalError("the access index missed a change; habilisd must be restarted");
}

const AccessIndex::Account* AccessIndex::View::FindAccount(absl::string_view account_id) const {
  std::optional<uint64_t> number = AccountNumber(account_id);
  return number ? FindAccountNumber(*number) : nullptr;
}

const AccessIndex::Account* AccessIndex::View::FindAccountNumber(uint64_t number) const {
  auto it = index_.accounts_.find(number);
  if (it == index_.accounts_.end() || !it->second.exists) return nullptr;
  return &it->second;
}

const AccessIndex::Account* AccessIndex::View::FindLogin(absl::string_view folded_login) const {
  auto it = index_.logins_.find(folded_login);
  return it == index_.logins_.end() ? nullptr : FindAccountNumber(it->second);
}

std::optional<AccessIndex::SiretId> AccessIndex::View::FindSiret(absl::string_view siret) const {
  auto it = index_.siret_ids_.find(siret);
  if (it == index_.siret_ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<AccessIndex::ApplicationId> AccessIndex::View::FindApplication(absl::string_view application_id) const {
  auto it = index_.application_ids_.find(application_id);
  if (it == index_.application_ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<AccessIndex::ProfileId> AccessIndex::View::FindProfile(absl::string_view profile_name) const {
  auto it = index_.profile_ids_.find(profile_name);
  if (it == index_.profile_ids_.end()) return std::nullopt;
  return it->second;
}

const std::string& AccessIndex::View::Siret(SiretId id) const { return index_.sirets_[id]; }

const AccessIndex::Profile& AccessIndex::View::ProfileOf(ProfileId id) const { return index_.profiles_[id]; }

bool AccessIndex::View::Subscribed(SiretId siret, ApplicationId application) const {
  return index_.subscriptions_.contains(SubscriptionSlot(siret, application));
}

}  // namespace habilis::domain
