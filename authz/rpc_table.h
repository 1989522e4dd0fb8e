// The exhaustive table from every RPC habilis serves to the action it needs.
//
// An RPC missing from this table is denied at run time, and tests/authz/rpc_table_test.cc fails if any
// method of a registered service has no entry.
#ifndef HABILIS_AUTHZ_RPC_TABLE_H_
#define HABILIS_AUTHZ_RPC_TABLE_H_

#include <span>

#include "absl/strings/string_view.h"
#include "authz/engine.h"

namespace habilis::authz {

struct RpcRule {
  // Full method name, "package.Service/Method".
  absl::string_view method;
  Action action;
};

std::span<const RpcRule> RpcRules();

// The rule of `method` ("package.Service/Method"), or nullptr if it has none.
const RpcRule* FindRpcRule(absl::string_view method);

}  // namespace habilis::authz

#endif  // HABILIS_AUTHZ_RPC_TABLE_H_
