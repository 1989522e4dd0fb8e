// A synthetic dataset for performance work: structures with services, accounts (one administrator per
// structure, the others collaborators), applications with profiles, subscriptions and habilitations, written
// straight through the store in large transactions with the real key layout and records.
//
// Everything is a function of the parameters, and server/tools/dataset_truth.h says which: the layout, the
// accounts' conditions, the subscriptions, and what every check must answer.
#ifndef HABILIS_SERVER_TOOLS_DATASET_H_
#define HABILIS_SERVER_TOOLS_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/tools/dataset_truth.h"
#include "store/store.h"

namespace habilis::tools {

// Writes the dataset into an empty store. Returns `sample` pairs spread over the accounts.
[[nodiscard]] absl::StatusOr<std::vector<GrantedPair>> GenerateDataset(store::Store& store, const DatasetParams& params,
                                                                       int sample);

}  // namespace habilis::tools

#endif  // HABILIS_SERVER_TOOLS_DATASET_H_
