// A synthetic dataset for performance work: structures with services, accounts (one administrator per
// structure, the others collaborators), applications with profiles, subscriptions and habilitations, written
// straight through the store in large transactions with the real key layout and records.
//
// Everything is a function of the parameters: account i belongs to structure i / accounts_per_structure,
// and holds habilitations on the applications (i + k * 7) % applications, k < habilitations_per_account.
#ifndef HABILIS_SERVER_TOOLS_DATASET_H_
#define HABILIS_SERVER_TOOLS_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/store.h"

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
};

// One (account, profile) pair the dataset grants, for load generators to check.
struct GrantedPair {
  std::string account;  // accounts/{id}
  std::string profile;  // applications/{app}/profiles/{profile}
};

// The i-th SIRET of the dataset: 14 Luhn-valid digits.
std::string DatasetSiret(int64_t i);
std::string DatasetAccountId(int64_t i);
std::string DatasetApplicationId(int a);

// The ground truth: the k-th habilitation (k < habilitations_per_account) the dataset gives account `i`.
GrantedPair DatasetGrant(const DatasetParams& params, int64_t i, int k);
// The structure account `i` is a member of: structures/{siret}.
std::string DatasetStructureOf(const DatasetParams& params, int64_t i);

// Writes the dataset into an empty store. Returns `sample` pairs spread over the accounts.
[[nodiscard]] absl::StatusOr<std::vector<GrantedPair>> GenerateDataset(store::Store& store, const DatasetParams& params,
                                                                       int sample);

}  // namespace habilis::tools

#endif  // HABILIS_SERVER_TOOLS_DATASET_H_
