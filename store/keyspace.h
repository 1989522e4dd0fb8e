// The key layout of habilis: every key any backend holds is built here. KEYSPACE.md describes it.
//
// A key is one tag byte followed by order-preserving components (store/encoding.h). Tags are on disk:
// DO NOT CHANGE OR REUSE THESE VALUES; add new ones.
#ifndef HABILIS_STORE_KEYSPACE_H_
#define HABILIS_STORE_KEYSPACE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace habilis::store {

enum class KeyTag : uint8_t {
  kMeta = 0x01,
  kStructure = 0x10,
  kService = 0x11,
  kServiceName = 0x12,
  kServiceTreeGuard = 0x13,
  kApplication = 0x20,
  kApiKey = 0x30,
  kIdempotency = 0x40,
};

// Version of the layout below. A store written with another version is refused at open.
inline constexpr uint64_t kFormatVersion = 1;

// Meta entries: "format_version" and "revision", each a big-endian uint64.
std::string MetaKey(absl::string_view name);
inline constexpr absl::string_view kMetaFormatVersion = "format_version";
inline constexpr absl::string_view kMetaRevision = "revision";

// structure(siret) -> habilis.v1.Structure
std::string StructureKey(absl::string_view siret);
std::string StructurePrefix();

// service(siret, service_id) -> habilis.v1.Service
std::string ServiceKey(absl::string_view siret, absl::string_view service_id);
std::string ServicePrefix(absl::string_view siret);

// service_name(siret, folded display name) -> service_id: makes names unique per structure.
std::string ServiceNameKey(absl::string_view siret, absl::string_view folded_name);

// service_tree_guard(siret) -> big-endian change counter. Every change to a structure's services reads
// and writes it, so concurrent changes of one org chart conflict (see Transaction in store.h).
std::string ServiceTreeGuardKey(absl::string_view siret);

// application(application_id) -> habilis.v1.Application
std::string ApplicationKey(absl::string_view application_id);
std::string ApplicationPrefix();

// api_key(key_id) -> habilis.internal.ApiKeyRecord
std::string ApiKeyKey(absl::string_view key_id);
std::string ApiKeyPrefix();

// idempotency(principal, request_id) -> habilis.internal.IdempotencyRecord
std::string IdempotencyKey(absl::string_view principal, absl::string_view request_id);

// The second component of a key after its tag (the service id of a service key); "" if malformed.
std::string SecondComponent(absl::string_view key);

}  // namespace habilis::store

#endif  // HABILIS_STORE_KEYSPACE_H_
