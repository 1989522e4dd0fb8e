// The policy engine: may this principal perform this action on this target? Every RPC asks it.
#ifndef HABILIS_AUTHZ_ENGINE_H_
#define HABILIS_AUTHZ_ENGINE_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "authz/principal.h"

namespace habilis::authz {

// What an RPC does, at the grain the policy distinguishes. The RPC table (rpc_table.h) maps each RPC to one.
enum class Action {
  kPublic,  // answers without credentials: health, reflection
  kStructureCreate,
  kStructureList,
  kStructureRead,
  kStructureUpdate,
  kServiceRead,
  kServiceWrite,
  kApplicationCreate,
  kApplicationList,
  kApplicationRead,
  kApiKeyManage,
};

absl::string_view ActionName(Action action);

// What the action applies to, as far as the request names it. Empty fields are not named by the request.
struct Target {
  std::string structure;    // SIRET
  std::string service;      // service id within the structure
  std::string application;  // application id
};

struct Decision {
  bool allowed = false;
  // UPPER_SNAKE, e.g. OPERATOR, ADMINISTRATOR_OF_STRUCTURE, NOT_A_MEMBER. Never depends on whether the
  // target exists: the engine does not read the store, so a denial leaks nothing about other structures.
  std::string reason;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual Decision Decide(const Principal& principal, Action action, const Target& target) const = 0;
};

// The role-based engine built from the policy table in engine.cc.
std::unique_ptr<Engine> NewRoleEngine();

}  // namespace habilis::authz

#endif  // HABILIS_AUTHZ_ENGINE_H_
