// The ground truth of the synthetic performance dataset (server/tools/dataset.h): its layout as pure functions
// of the parameters, and what a check, a batch or an entitlement list must answer about it.
//
// The dataset writer, the load generator and the in-process instruction count all read the layout here, so
// that what is written and what is expected cannot drift apart. The expected answers are an independent
// model of the access rules (DOMAIN.md CHECK, MEMBERSHIP-END, SUB-END) applied to these facts, written
// separately from server/domain/access on purpose: a benchmark that asked the server's own code what the
// server should answer would verify nothing.
//
// Layout: account i belongs to structure i / accounts_per_structure (the first of each is its administrator),
// holds one habilitation on each of its structure's applications AppOf(s, k), k < habilitations_per_account,
// with profile (i + k) % profiles_per_application. A fixed share of accounts cannot use anything (deactivated,
// locked, password expired, consent missing) or has its membership suspended, and every tenth structure has
// ended the subscription of its last application; see ConditionOf and Subscribed.
#ifndef HABILIS_SERVER_TOOLS_DATASET_TRUTH_H_
#define HABILIS_SERVER_TOOLS_DATASET_TRUTH_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "habilis/v1/access.pb.h"

namespace habilis::tools {

struct DatasetParams {
  int64_t structures = 100000;
  int64_t accounts = 1000000;
  int habilitations_per_account = 3;
  int applications = 50;
  int profiles_per_application = 3;
  int services_per_structure = 3;
  // Keys written per transaction.
  int batch = 20000;

  int64_t AccountsPerStructure() const { return accounts / structures; }
};

// What the dataset makes of an account.
enum class AccountCondition {
  kUsable,
  kDeactivated,          // state DEACTIVATED: ACCOUNT_INACTIVE
  kLocked,               // locked for ten years: ACCOUNT_LOCKED
  kPasswordExpired,      // password expired yesterday: PASSWORD_EXPIRED
  kConsentMissing,       // no privacy consent: CONSENT_MISSING
  kMembershipSuspended,  // usable, but its membership of its structure is suspended: MEMBERSHIP_SUSPENDED
};

// The i-th SIRET of the dataset: 14 Luhn-valid digits.
std::string DatasetSiret(int64_t i);
std::string DatasetAccountId(int64_t i);
std::string DatasetApplicationId(int a);
std::string DatasetProfileId(int p);

int64_t StructureIndexOf(const DatasetParams& params, int64_t account);
// The application of structure s's k-th subscription (distinct for k < 3 with 50 applications).
int ApplicationOf(const DatasetParams& params, int64_t structure, int k);
// The profile of account i's k-th habilitation.
int ProfileOf(const DatasetParams& params, int64_t account, int k);
// 3% deactivated, 3% locked, 3% password expired, 2% consent missing, 3% membership suspended, spread over
// the accounts by a hash of i (the administrators included).
AccountCondition ConditionOf(int64_t account);
// Whether structure s still subscribes to its k-th application: not the last one of every tenth structure.
bool Subscribed(const DatasetParams& params, int64_t structure, int k);

// One (account, profile) pair the dataset grants.
struct GrantedPair {
  std::string account;  // accounts/{id}
  std::string profile;  // applications/{app}/profiles/{profile}
};
// The k-th habilitation (k < habilitations_per_account) the dataset gives account `i`.
GrantedPair DatasetGrant(const DatasetParams& params, int64_t i, int k);
// The structure account `i` is a member of: structures/{siret}.
std::string DatasetStructureOf(const DatasetParams& params, int64_t i);

// What a CheckAccess of the dataset must answer.
struct ExpectedCheck {
  bool allowed = false;
  v1::AccessReason reason = v1::ACCESS_REASON_UNSPECIFIED;
  std::string structure;  // when allowed
  std::string profile;    // when allowed
};
// Whether `got` is the answer `expected` says: allowed or not, the reason, and for an allowed check the
// structure and the profile that grant it.
bool AnswersAsExpected(const ExpectedCheck& expected, const v1::CheckAccessResponse& got);
// Account `account` (an index at or past params.accounts names no account), profile `profile` of
// application `application`, in `structure` (an index) or in any of its structures.
ExpectedCheck ExpectCheck(const DatasetParams& params, int64_t account, int application, int profile,
                          std::optional<int64_t> structure);
// What ListEntitlements of `account` by `application` must answer; nullopt: NOT_FOUND (no such account).
std::optional<std::vector<v1::Entitlement>> ExpectEntitlements(const DatasetParams& params, int64_t account,
                                                               int application);

// Why a query was drawn, for the load generator's report.
enum class QueryKind { kHeld, kOtherProfile, kOtherApplication, kNotMember, kUnknownAccount };
const char* QueryKindName(QueryKind kind);

// One check to send, with the answer it must get.
struct Query {
  QueryKind kind;
  int64_t account;
  int application;
  int profile;
  std::optional<int64_t> structure;
  v1::CheckAccessRequest request;
  ExpectedCheck expected;
};

// Draws checks over the whole dataset: the account uniformly (or Zipf-skewed, hot accounts scattered over
// the dataset by a fixed permutation), and what to ask about it so that about half the answers are allowed:
// 60% a profile the account holds, 12% another profile of the same application, 10% an application its
// structure does not use, 10% another structure (only when the check names one), 8% an account that does
// not exist. Accounts in the write zone (IsWriteZone) are never drawn: a writer may change them under load.
class QueryDrawer {
 public:
  struct Options {
    double zipf_exponent = 0;  // 0: uniform
    uint64_t seed = 1;
  };
  QueryDrawer(const DatasetParams& params, Options options);

  // A check by `application` (its API key may ask only about its own profiles); a `structure_share` of the
  // checks name a structure.
  Query Draw(int application, double structure_share);
  int DrawApplication();

 private:
  int64_t DrawIndex(int64_t n);
  int64_t DrawHolder(int application, int k);
  int64_t DrawAnyAccount();

  DatasetParams params_;
  Options options_;
  std::mt19937_64 random_;
};

// The accounts a writer under load may change, which QueryDrawer never draws: every 64th account.
bool IsWriteZone(int64_t account);

}  // namespace habilis::tools

#endif  // HABILIS_SERVER_TOOLS_DATASET_TRUTH_H_
