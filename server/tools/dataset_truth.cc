#include "server/tools/dataset_truth.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace habilis::tools {
namespace {

// The resource names, written here rather than taken from server/domain/kernel/resource_names.h: the load
// generator links this file and nothing of the server.
std::string AccountName(int64_t i) { return absl::StrCat("accounts/", DatasetAccountId(i)); }
std::string StructureName(int64_t s) { return absl::StrCat("structures/", DatasetSiret(s)); }
std::string ProfileName(int application, int profile) {
  return absl::StrCat("applications/", DatasetApplicationId(application), "/profiles/", DatasetProfileId(profile));
}

// The reason an account's own condition refuses everything; GRANTED when it refuses nothing.
v1::AccessReason AccountReason(AccountCondition condition) {
  switch (condition) {
    case AccountCondition::kDeactivated:
      return v1::ACCOUNT_INACTIVE;
    case AccountCondition::kLocked:
      return v1::ACCOUNT_LOCKED;
    case AccountCondition::kPasswordExpired:
      return v1::PASSWORD_EXPIRED;
    case AccountCondition::kConsentMissing:
      return v1::CONSENT_MISSING;
    case AccountCondition::kUsable:
    case AccountCondition::kMembershipSuspended:
      break;
  }
  return v1::GRANTED;
}

// The k for which structure s uses `application`, if any.
std::optional<int> SlotOf(const DatasetParams& params, int64_t structure, int application) {
  for (int k = 0; k < params.habilitations_per_account; ++k) {
    if (ApplicationOf(params, structure, k) == application) return k;
  }
  return std::nullopt;
}

// Whether the habilitation in slot k of account i gives access, membership and subscription included.
v1::AccessReason HabilitationReason(const DatasetParams& params, int64_t account, int k) {
  if (ConditionOf(account) == AccountCondition::kMembershipSuspended) return v1::MEMBERSHIP_SUSPENDED;
  if (!Subscribed(params, StructureIndexOf(params, account), k)) return v1::NOT_SUBSCRIBED;
  return v1::GRANTED;
}

}  // namespace

std::string DatasetSiret(int64_t i) {
  // SIREN 9 digits + NIC 4 digits, then the digit that makes the whole Luhn-valid.
  std::string digits = absl::StrFormat("%09d%04d", 100000000 + i, i % 10000);
  int sum = 0;
  for (int k = 0; k < 13; ++k) {
    int d = digits[12 - k] - '0';
    if (k % 2 == 0) {  // these positions are doubled once the check digit is appended
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  digits.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  return digits;
}

std::string DatasetAccountId(int64_t i) { return absl::StrFormat("%016x", i + 1); }
std::string DatasetApplicationId(int a) { return absl::StrCat("app-", a); }
std::string DatasetProfileId(int p) { return absl::StrCat("profil-", p); }

int64_t StructureIndexOf(const DatasetParams& params, int64_t account) {
  return std::min(account / std::max<int64_t>(1, params.AccountsPerStructure()), params.structures - 1);
}

int ApplicationOf(const DatasetParams& params, int64_t structure, int k) {
  return static_cast<int>((structure * 7 + k * 11) % params.applications);
}

int ProfileOf(const DatasetParams& params, int64_t account, int k) {
  return static_cast<int>((account + k) % params.profiles_per_application);
}

AccountCondition ConditionOf(int64_t account) {
  // A multiplicative hash: the conditions fall anywhere in a structure, administrators included.
  const uint64_t bucket = (static_cast<uint64_t>(account) * 0x9E3779B97F4A7C15ULL >> 32) % 100;
  if (bucket < 3) return AccountCondition::kDeactivated;
  if (bucket < 6) return AccountCondition::kLocked;
  if (bucket < 9) return AccountCondition::kPasswordExpired;
  if (bucket < 11) return AccountCondition::kConsentMissing;
  if (bucket < 14) return AccountCondition::kMembershipSuspended;
  return AccountCondition::kUsable;
}

bool Subscribed(const DatasetParams& params, int64_t structure, int k) {
  return !(structure % 10 == 7 && k == params.habilitations_per_account - 1 && k > 0);
}

GrantedPair DatasetGrant(const DatasetParams& params, int64_t i, int k) {
  return {AccountName(i), ProfileName(ApplicationOf(params, StructureIndexOf(params, i), k), ProfileOf(params, i, k))};
}

std::string DatasetStructureOf(const DatasetParams& params, int64_t i) {
  return StructureName(StructureIndexOf(params, i));
}

bool AnswersAsExpected(const ExpectedCheck& expected, const v1::CheckAccessResponse& got) {
  if (got.allowed() != expected.allowed || got.reason() != expected.reason) return false;
  return !expected.allowed || (got.structure() == expected.structure && got.profile() == expected.profile);
}

ExpectedCheck ExpectCheck(const DatasetParams& params, int64_t account, int application, int profile,
                          std::optional<int64_t> structure) {
  ExpectedCheck expected;
  if (account < 0 || account >= params.accounts) {
    expected.reason = v1::ACCOUNT_UNKNOWN;
    return expected;
  }
  expected.reason = AccountReason(ConditionOf(account));
  if (expected.reason != v1::GRANTED) return expected;
  const int64_t own = StructureIndexOf(params, account);
  if (structure && *structure != own) {
    expected.reason = v1::MEMBERSHIP_ENDED;
    return expected;
  }
  if (structure && ConditionOf(account) == AccountCondition::kMembershipSuspended) {
    expected.reason = v1::MEMBERSHIP_SUSPENDED;
    return expected;
  }
  const std::optional<int> k = SlotOf(params, own, application);
  if (!k || ProfileOf(params, account, *k) != profile) {
    expected.reason = v1::NO_HABILITATION;
    return expected;
  }
  expected.reason = HabilitationReason(params, account, *k);
  if (expected.reason == v1::GRANTED) {
    expected.allowed = true;
    expected.structure = StructureName(own);
    expected.profile = ProfileName(application, profile);
  }
  return expected;
}

std::optional<std::vector<v1::Entitlement>> ExpectEntitlements(const DatasetParams& params, int64_t account,
                                                               int application) {
  if (account < 0 || account >= params.accounts) return std::nullopt;
  std::vector<v1::Entitlement> entitlements;
  const int64_t own = StructureIndexOf(params, account);
  const std::optional<int> k = SlotOf(params, own, application);
  if (!k) return entitlements;
  const int profile = ProfileOf(params, account, *k);
  v1::Entitlement& entitlement = entitlements.emplace_back();
  entitlement.set_structure(StructureName(own));
  entitlement.set_profile(ProfileName(application, profile));
  entitlement.add_permissions(absl::StrCat("perm.", profile));  // sorted: digits before "read"
  entitlement.add_permissions("perm.read");
  v1::AccessReason reason = AccountReason(ConditionOf(account));
  if (reason == v1::GRANTED) reason = HabilitationReason(params, account, *k);
  entitlement.set_effective(reason == v1::GRANTED);
  entitlement.set_reason(reason);
  return entitlements;
}

const char* QueryKindName(QueryKind kind) {
  switch (kind) {
    case QueryKind::kHeld:
      return "a profile it holds";
    case QueryKind::kOtherProfile:
      return "another profile of the application";
    case QueryKind::kOtherApplication:
      return "an application of another structure";
    case QueryKind::kNotMember:
      return "in a structure it is not a member of";
    case QueryKind::kUnknownAccount:
      return "an account that does not exist";
  }
  return "?";
}

bool IsWriteZone(int64_t account) { return account % 64 == 63; }

QueryDrawer::QueryDrawer(const DatasetParams& params, Options options)
    : params_(params), options_(options), random_(options.seed) {}

int QueryDrawer::DrawApplication() {
  return static_cast<int>(std::uniform_int_distribution<int>(0, params_.applications - 1)(random_));
}

// Uniform over [0, n), or Zipf-skewed by continuous inversion of its distribution (exact enough for a load),
// the ranks then scattered over [0, n) so that the hot accounts are not the first ones written.
int64_t QueryDrawer::DrawIndex(int64_t n) {
  if (options_.zipf_exponent <= 0) return std::uniform_int_distribution<int64_t>(0, n - 1)(random_);
  const double u = std::uniform_real_distribution<double>(0, 1)(random_);
  const double s = options_.zipf_exponent;
  const double x = s == 1 ? std::exp(u * std::log(static_cast<double>(n) + 1)) - 1
                          : std::pow((std::pow(static_cast<double>(n) + 1, 1 - s) - 1) * u + 1, 1 / (1 - s)) - 1;
  const auto rank = std::clamp<int64_t>(static_cast<int64_t>(x), 0, n - 1);
  constexpr int64_t kScatter = 2654435761;  // prime: a permutation of [0, n) unless n is a multiple of it
  return static_cast<int64_t>((static_cast<unsigned __int128>(rank) * kScatter) % static_cast<uint64_t>(n));
}

// An account of a structure whose k-th application is `application`: s = 50 m + r for the one residue r.
int64_t QueryDrawer::DrawHolder(int application, int k) {
  int64_t residue = -1;
  for (int64_t r = 0; r < params_.applications; ++r) {
    if (ApplicationOf(params_, r, k) == application) residue = r;
  }
  const int64_t per = params_.AccountsPerStructure();
  const int64_t structures =
      residue < 0 ? 0 : (params_.structures - residue + params_.applications - 1) / params_.applications;
  if (structures <= 0) return DrawAnyAccount();
  for (;;) {
    const int64_t n = DrawIndex(structures * per);
    const int64_t account = (residue + (n / per) * params_.applications) * per + n % per;
    if (!IsWriteZone(account)) return account;
  }
}

int64_t QueryDrawer::DrawAnyAccount() {
  for (;;) {
    const int64_t account = DrawIndex(params_.accounts);
    if (!IsWriteZone(account)) return account;
  }
}

Query QueryDrawer::Draw(int application, double structure_share) {
  Query query{};
  query.application = application;
  const bool named = std::uniform_real_distribution<double>(0, 1)(random_) < structure_share;
  int percent = std::uniform_int_distribution<int>(0, 99)(random_);
  if (!named && percent >= 82 && percent < 92) percent = 70;  // "another structure" needs a structure
  const int k = std::uniform_int_distribution<int>(0, params_.habilitations_per_account - 1)(random_);
  if (percent < 60) {
    query.kind = QueryKind::kHeld;
    query.account = DrawHolder(application, k);
    query.profile = ProfileOf(params_, query.account, k);
  } else if (percent < 72) {
    query.kind = QueryKind::kOtherProfile;
    query.account = DrawHolder(application, k);
    query.profile = (ProfileOf(params_, query.account, k) + 1) % params_.profiles_per_application;
  } else if (percent < 92) {
    query.kind = percent < 82 ? QueryKind::kOtherApplication : QueryKind::kNotMember;
    query.account = DrawAnyAccount();
    query.profile = k % params_.profiles_per_application;
  } else {
    query.kind = QueryKind::kUnknownAccount;
    query.account = params_.accounts + DrawIndex(params_.accounts);
    query.profile = k % params_.profiles_per_application;
  }
  if (named) {
    const int64_t own = StructureIndexOf(params_, std::min(query.account, params_.accounts - 1));
    query.structure =
        query.kind == QueryKind::kNotMember ? (own + 1 + DrawIndex(params_.structures - 1)) % params_.structures : own;
  }
  query.request.set_account(AccountName(query.account));
  query.request.set_profile(ProfileName(application, query.profile));
  if (query.structure) query.request.set_structure(StructureName(*query.structure));
  query.expected = ExpectCheck(params_, query.account, application, query.profile, query.structure);
  return query;
}

}  // namespace habilis::tools
