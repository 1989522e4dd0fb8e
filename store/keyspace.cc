#include "store/keyspace.h"

#include "store/encoding.h"

namespace habilis::store {
namespace {

std::string Tagged(KeyTag tag) { return std::string(1, static_cast<char>(tag)); }

std::string Key1(KeyTag tag, absl::string_view a) {
  std::string key = Tagged(tag);
  AppendString(&key, a);
  return key;
}

std::string Key2(KeyTag tag, absl::string_view a, absl::string_view b) {
  std::string key = Key1(tag, a);
  AppendString(&key, b);
  return key;
}

}  // namespace

std::string MetaKey(absl::string_view name) { return Key1(KeyTag::kMeta, name); }

std::string StructureKey(absl::string_view siret) { return Key1(KeyTag::kStructure, siret); }
std::string StructurePrefix() { return Tagged(KeyTag::kStructure); }

std::string ServiceKey(absl::string_view siret, absl::string_view service_id) {
  return Key2(KeyTag::kService, siret, service_id);
}
std::string ServicePrefix(absl::string_view siret) { return Key1(KeyTag::kService, siret); }

std::string ServiceNameKey(absl::string_view siret, absl::string_view folded_name) {
  return Key2(KeyTag::kServiceName, siret, folded_name);
}

std::string ServiceTreeGuardKey(absl::string_view siret) { return Key1(KeyTag::kServiceTreeGuard, siret); }

std::string ApplicationKey(absl::string_view application_id) { return Key1(KeyTag::kApplication, application_id); }
std::string ApplicationPrefix() { return Tagged(KeyTag::kApplication); }

std::string ApiKeyKey(absl::string_view key_id) { return Key1(KeyTag::kApiKey, key_id); }
std::string ApiKeyPrefix() { return Tagged(KeyTag::kApiKey); }

std::string IdempotencyKey(absl::string_view principal, absl::string_view request_id) {
  return Key2(KeyTag::kIdempotency, principal, request_id);
}

std::string SecondComponent(absl::string_view key) {
  if (key.empty()) return "";
  key.remove_prefix(1);
  if (!ConsumeString(&key)) return "";
  return ConsumeString(&key).value_or("");
}

}  // namespace habilis::store
