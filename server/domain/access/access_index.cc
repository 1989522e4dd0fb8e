#include "server/domain/access/access_index.h"

#include <sys/mman.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  // A chunk of ChunkedTable is a whole number of records just under 2 MiB: it counts as one huge page (it was
  // allocated small, 4 KiB pages, until the start-up profile of issue 16 showed its page faults).
  if (bytes < kHugePage - kHugePage / 64) {
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

static_assert(sizeof(AccessIndex::Account) <= 88, "an account's facts fit in 88 bytes (issue 16's memory budget)");

AccessIndex::Standing AccessIndex::Account::StandingIn(SiretId siret) const {
  for (SiretId held : memberships()) {
    if (held == siret) return Standing::kMember;
    if (held == (siret | kSuspendedBit)) return Standing::kSuspended;
  }
  return Standing::kNone;
}

AccessIndex::Account::Spill& AccessIndex::Account::spill() {
  if (spill_ == nullptr) spill_ = std::make_unique<Spill>();
  return *spill_;
}

void AccessIndex::Account::SetMembership(SiretId siret, std::optional<SiretId> held) {
  auto same = [siret](SiretId x) { return (x & ~kSuspendedBit) == siret; };
  if (spill_ == nullptr || !spill_->memberships_spilled) {
    if (membership_count_ == 1 && same(membership_)) membership_count_ = 0;
    if (!held) return;
    if (membership_count_ == 0) {
      membership_ = *held;
      membership_count_ = 1;
      return;
    }
    Spill& spilled = spill();  // a second membership: all of them move out
    spilled.memberships_spilled = true;
    spilled.memberships = {membership_};
    membership_count_ = 0;
  }
  std::vector<SiretId>& all = spill_->memberships;
  all.erase(std::remove_if(all.begin(), all.end(), same), all.end());
  if (held) all.push_back(*held);
}

void AccessIndex::Account::SetGrant(SiretId siret, ApplicationId application, std::optional<Grant> grant,
                                    absl::FunctionRef<ApplicationId(const Grant&)> application_of) {
  auto same = [&](const Grant& held) { return held.siret == siret && application_of(held) == application; };
  if (spill_ == nullptr || !spill_->grants_spilled) {
    Grant* const end = grants_ + grant_count_;
    Grant* const found = std::find_if(grants_, end, same);
    if (found != end) {
      if (grant) {
        *found = *grant;
      } else {
        std::move(found + 1, end, found);
        --grant_count_;
      }
      return;
    }
    if (!grant) return;
    if (grant_count_ < std::size(grants_)) {
      grants_[grant_count_++] = *grant;
      return;
    }
    Spill& spilled = spill();  // a fourth habilitation: all of them move out
    spilled.grants_spilled = true;
    spilled.grants.assign(grants_, end);
    grant_count_ = 0;
  }
  std::vector<Grant>& all = spill_->grants;
  auto found = std::find_if(all.begin(), all.end(), same);
  if (found == all.end()) {
    if (grant) all.push_back(*grant);
  } else if (grant) {
    *found = *grant;
  } else {
    all.erase(found);
  }
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
  account->state_ = static_cast<uint8_t>(a.state());
  account->privacy_consent = a.has_privacy_consent_time();
  account->locked_until_micros = MicrosOrNone(a.has_locked_until(), a.locked_until());
  account->password_expire_micros = MicrosOrNone(a.has_password_expire_time(), a.password_expire_time());
  return absl::OkStatus();
}

absl::Status AccessIndex::ApplyLogin(const std::vector<std::string>& parts, std::optional<absl::string_view> value) {
  if (parts.size() != 1) return Undecodable("login key");
  if (!value) {
    logins_.Erase(parts[0]);
    return absl::OkStatus();
  }
  std::optional<uint64_t> number = AccountNumber(*value);
  if (!number) return Undecodable("login");
  if (!logins_.Set(parts[0], accounts_.FindOrAdd(*number))) return Undecodable("login key");
  return absl::OkStatus();
}

absl::Status AccessIndex::ApplyMembership(const std::vector<std::string>& parts,
                                          std::optional<absl::string_view> value) {
  Account* account = parts.size() == 2 ? AccountFor(parts[1]) : nullptr;
  if (account == nullptr) return Undecodable("membership key");
  const SiretId siret = SiretFor(parts[0]);
  std::optional<SiretId> held;
  if (value) {
    v1::Membership membership;
    if (!membership.ParseFromArray(value->data(), static_cast<int>(value->size()))) return Undecodable("membership");
    held = membership.has_suspend_time() ? (siret | Account::kSuspendedBit) : siret;
  }
  const bool had_spill = account->spill_ != nullptr;
  account->SetMembership(siret, held);
  if (!had_spill && account->spill_ != nullptr) ++spilled_accounts_;
  return absl::OkStatus();
}

absl::Status AccessIndex::ApplyHabilitation(const std::vector<std::string>& parts,
                                            std::optional<absl::string_view> value) {
  Account* account = parts.size() == 3 ? AccountFor(parts[1]) : nullptr;
  if (account == nullptr) return Undecodable("habilitation key");
  const SiretId siret = SiretFor(parts[0]);
  const ApplicationId application = ApplicationFor(parts[2]);
  std::optional<Grant> grant;
  if (value) {
    v1::Habilitation habilitation;
    if (!habilitation.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
      return Undecodable("habilitation");
    }
    grant = Grant{MicrosOrNone(habilitation.has_expire_time(), habilitation.expire_time()), siret,
                  ProfileFor(habilitation.profile())};
  }
  const bool had_spill = account->spill_ != nullptr;
  account->SetGrant(siret, application, grant, [this](const Grant& held) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return profiles_[held.profile].application;
  });
  if (!had_spill && account->spill_ != nullptr) ++spilled_accounts_;
  return absl::OkStatus();
}

absl::Status AccessIndex::ApplySubscription(const std::vector<std::string>& parts,
                                            std::optional<absl::string_view> value) {
  if (parts.size() != 2) return Undecodable("subscription key");
  subscriptions_.Set(SiretFor(parts[0]), ApplicationFor(parts[1]), value.has_value());
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
  return &accounts_.At(accounts_.FindOrAdd(*number));
}

AccessIndex::SiretId AccessIndex::SiretFor(absl::string_view siret) {
  if (std::optional<uint32_t> known = siret_ids_.Find(siret)) return *known;
  const auto id = static_cast<SiretId>(sirets_.size());
  // A key component longer than 65,535 bytes is not a SIRET any record can hold; it is kept truncated.
  sirets_.push_back(siret_ids_.Set(siret.substr(0, 0xffff), id).value_or(0));
  return id;
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

size_t AccessIndex::MemoryBytes() const {
  absl::ReaderMutexLock lock(&mu_);
  // A spilled account: its Spill and two small vectors (an estimate; they are rare).
  constexpr size_t kSpill = sizeof(Account::Spill) + 64;
  size_t bytes = accounts_.MemoryBytes() + logins_.MemoryBytes() + spilled_accounts_ * kSpill;
  bytes += sirets_.capacity() * sizeof(uint32_t) + siret_ids_.MemoryBytes();
  bytes += subscriptions_.MemoryBytes();
  for (const Profile& profile : profiles_) bytes += sizeof(profile) + profile.permissions.size() * 40;
  return bytes;
}

store::Revision AccessIndex::revision() const {
  absl::ReaderMutexLock lock(&mu_);
  return revision_;
}

std::string AccessIndex::Describe() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<absl::string_view> applications(application_ids_.size());
  for (const auto& [name, id] : application_ids_) applications[id] = name;
  auto siret = [this](SiretId id) ABSL_NO_THREAD_SAFETY_ANALYSIS { return siret_ids_.TextAt(sirets_[id]); };
  std::vector<std::string> lines;
  for (const Profile& profile : profiles_) {
    if (!profile.exists) continue;
    lines.push_back(absl::StrCat("profile ", profile.name, " of ", applications[profile.application],
                                 profile.retired ? " retired" : "", " permits ",
                                 absl::StrJoin(profile.permissions, ",")));
  }
  subscriptions_.ForEach([&](SiretId structure, ApplicationId application) {
    lines.push_back(absl::StrCat("subscription ", siret(structure), " to ", applications[application]));
  });
  for (uint32_t slot = 0; slot < accounts_.size(); ++slot) {
    const Account& account = accounts_.At(slot);
    if (!account.exists && account.memberships().empty() && account.grants().empty()) continue;
    const std::string name = absl::StrCat("account ", absl::Hex(account.number_, absl::kZeroPad16));
    // An absent account's facts are never read (View::FindAccount): only its memberships and grants count.
    lines.push_back(account.exists
                        ? absl::StrCat(name, " exists, state ", static_cast<int>(account.state_), ", locked until ",
                                       account.locked_until_micros, ", password until ", account.password_expire_micros,
                                       account.privacy_consent ? ", consented" : "")
                        : absl::StrCat(name, " absent"));
    for (SiretId held : account.memberships()) {
      lines.push_back(absl::StrCat(name, " member of ", siret(held & ~Account::kSuspendedBit),
                                   held & Account::kSuspendedBit ? " suspended" : ""));
    }
    for (const Grant& grant : account.grants()) {
      lines.push_back(absl::StrCat(name, " holds ", profiles_[grant.profile].name, " in ", siret(grant.siret),
                                   " until ", grant.expire_micros));
    }
  }
  logins_.ForEach([&](absl::string_view login, uint32_t slot) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    lines.push_back(absl::StrCat("login ", login, " of ", absl::Hex(accounts_.At(slot).number_, absl::kZeroPad16)));
  });
  std::sort(lines.begin(), lines.end());
  return absl::StrJoin(lines, "\n");
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
  const Account* account = index_.accounts_.Find(number);
  return account != nullptr && account->exists ? account : nullptr;
}

const AccessIndex::Account* AccessIndex::View::FindLogin(absl::string_view folded_login) const {
  std::optional<uint32_t> slot = index_.logins_.Find(folded_login);
  if (!slot) return nullptr;
  const Account& account = index_.accounts_.At(*slot);
  return account.exists ? &account : nullptr;
}

std::optional<AccessIndex::SiretId> AccessIndex::View::FindSiret(absl::string_view siret) const {
  return index_.siret_ids_.Find(siret);
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

absl::string_view AccessIndex::View::Siret(SiretId id) const { return index_.siret_ids_.TextAt(index_.sirets_[id]); }

const AccessIndex::Profile& AccessIndex::View::ProfileOf(ProfileId id) const { return index_.profiles_[id]; }

bool AccessIndex::View::Subscribed(SiretId siret, ApplicationId application) const {
  return index_.subscriptions_.Contains(siret, application);
}

}  // namespace habilis::domain
