// What a running server says it serves, asked through gRPC server reflection: the list tests walk instead of
// naming services by hand, so that a new service cannot be forgotten.
#ifndef HABILIS_TESTS_TESTING_REFLECTION_H_
#define HABILIS_TESTS_TESTING_REFLECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace habilis::testing {

// The full names of every service the server at `channel` registers ("habilis.v1.AccountService", …,
// "grpc.health.v1.Health", the reflection service itself).
absl::StatusOr<std::vector<std::string>> ServedServices(const std::shared_ptr<grpc::Channel>& channel);

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_TESTING_REFLECTION_H_
