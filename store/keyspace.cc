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

std::string StructureGuardKey(absl::string_view siret) { return Key1(KeyTag::kStructureGuard, siret); }

std::string ApplicationKey(absl::string_view application_id) { return Key1(KeyTag::kApplication, application_id); }
std::string ApplicationPrefix() { return Tagged(KeyTag::kApplication); }

std::string ProfileKey(absl::string_view application_id, absl::string_view profile_id) {
  return Key2(KeyTag::kProfile, application_id, profile_id);
}
std::string ProfilePrefix(absl::string_view application_id) { return Key1(KeyTag::kProfile, application_id); }

std::string SubscriptionKey(absl::string_view siret, absl::string_view application_id) {
  return Key2(KeyTag::kSubscription, siret, application_id);
}
std::string SubscriptionPrefix(absl::string_view siret) { return Key1(KeyTag::kSubscription, siret); }

std::string HabilitationKey(absl::string_view siret, absl::string_view account_id, absl::string_view application_id) {
  std::string key = Key2(KeyTag::kHabilitation, siret, account_id);
  AppendString(&key, application_id);
  return key;
}
std::string HabilitationPrefix(absl::string_view siret) { return Key1(KeyTag::kHabilitation, siret); }
std::string MemberHabilitationPrefix(absl::string_view siret, absl::string_view account_id) {
  return Key2(KeyTag::kHabilitation, siret, account_id);
}
std::string HabilitationExpiryKey(uint64_t expire_micros, absl::string_view siret, absl::string_view account_id,
                                  absl::string_view application_id) {
  std::string key = Tagged(KeyTag::kHabilitationExpiry);
  AppendUint64(&key, expire_micros);
  AppendString(&key, siret);
  AppendString(&key, account_id);
  AppendString(&key, application_id);
  return key;
}
std::string HabilitationExpiryPrefix() { return Tagged(KeyTag::kHabilitationExpiry); }
std::string AccountHabilitationKey(absl::string_view account_id, absl::string_view application_id,
                                   absl::string_view siret) {
  std::string key = Key2(KeyTag::kAccountHabilitation, account_id, application_id);
  AppendString(&key, siret);
  return key;
}
std::string AccountHabilitationPrefix(absl::string_view account_id, absl::string_view application_id) {
  return Key2(KeyTag::kAccountHabilitation, account_id, application_id);
}
std::string ProfileHolderKey(absl::string_view application_id, absl::string_view profile_id,
                             absl::string_view account_id, absl::string_view siret) {
  std::string key = Key2(KeyTag::kProfileHolder, application_id, profile_id);
  AppendString(&key, account_id);
  AppendString(&key, siret);
  return key;
}
std::string ProfileHolderPrefix(absl::string_view application_id, absl::string_view profile_id) {
  return Key2(KeyTag::kProfileHolder, application_id, profile_id);
}

std::string DelegationKey(absl::string_view siret, absl::string_view account_id, absl::string_view application_id,
                          absl::string_view profile_id) {
  std::string key = Key2(KeyTag::kDelegation, siret, account_id);
  AppendString(&key, application_id);
  AppendString(&key, profile_id);
  return key;
}
std::string MemberDelegationPrefix(absl::string_view siret, absl::string_view account_id) {
  return Key2(KeyTag::kDelegation, siret, account_id);
}

std::vector<std::string> ComponentsAfter(absl::string_view key, absl::string_view prefix) {
  std::vector<std::string> parts;
  if (key.size() < prefix.size()) return parts;
  key.remove_prefix(prefix.size());
  while (!key.empty()) {
    std::optional<std::string> part = ConsumeString(&key);
    if (!part) return {};
    parts.push_back(*std::move(part));
  }
  return parts;
}

std::string ApiKeyKey(absl::string_view key_id) { return Key1(KeyTag::kApiKey, key_id); }
std::string ApiKeyPrefix() { return Tagged(KeyTag::kApiKey); }

std::string IdempotencyKey(absl::string_view principal, absl::string_view request_id) {
  return Key2(KeyTag::kIdempotency, principal, request_id);
}
std::string IdempotencyPrefix() { return Tagged(KeyTag::kIdempotency); }
std::string IdempotencyByTimeKey(uint64_t create_micros, absl::string_view principal, absl::string_view request_id) {
  std::string key = Tagged(KeyTag::kIdempotencyByTime);
  AppendUint64(&key, create_micros);
  AppendString(&key, principal);
  AppendString(&key, request_id);
  return key;
}
std::string IdempotencyByTimePrefix() { return Tagged(KeyTag::kIdempotencyByTime); }

std::string AccountKey(absl::string_view account_id) { return Key1(KeyTag::kAccount, account_id); }
std::string AccountGuardKey(absl::string_view account_id) { return Key1(KeyTag::kAccountGuard, account_id); }
std::string LoginKey(absl::string_view folded_email) { return Key1(KeyTag::kLogin, folded_email); }
std::string LoginLookalikeKey(absl::string_view skeleton) { return Key1(KeyTag::kLoginLookalike, skeleton); }
std::string JoiningLoginKey(absl::string_view siret, absl::string_view skeleton) {
  return Key2(KeyTag::kJoiningLogin, siret, skeleton);
}
std::string LoginPrefix() { return std::string(1, static_cast<char>(KeyTag::kLogin)); }

std::string MembershipKey(absl::string_view siret, absl::string_view account_id) {
  return Key2(KeyTag::kMembership, siret, account_id);
}
std::string MembershipPrefix(absl::string_view siret) { return Key1(KeyTag::kMembership, siret); }
std::string AccountMembershipKey(absl::string_view account_id, absl::string_view siret) {
  return Key2(KeyTag::kAccountMembership, account_id, siret);
}
std::string AccountMembershipPrefix(absl::string_view account_id) {
  return Key1(KeyTag::kAccountMembership, account_id);
}
std::string ServiceMemberKey(absl::string_view siret, absl::string_view service_id, absl::string_view account_id) {
  std::string key = Key2(KeyTag::kServiceMember, siret, service_id);
  AppendString(&key, account_id);
  return key;
}
std::string ServiceMemberPrefix(absl::string_view siret, absl::string_view service_id) {
  return Key2(KeyTag::kServiceMember, siret, service_id);
}
std::string StructureAdminKey(absl::string_view siret, absl::string_view account_id) {
  return Key2(KeyTag::kStructureAdmin, siret, account_id);
}
std::string StructureAdminPrefix(absl::string_view siret) { return Key1(KeyTag::kStructureAdmin, siret); }

std::string SessionKey(absl::string_view session_id) { return Key1(KeyTag::kSession, session_id); }
std::string AccountSessionKey(absl::string_view account_id, absl::string_view session_id) {
  return Key2(KeyTag::kAccountSession, account_id, session_id);
}
std::string AccountSessionPrefix(absl::string_view account_id) { return Key1(KeyTag::kAccountSession, account_id); }

std::string LinkTokenKey(absl::string_view token_id) { return Key1(KeyTag::kLinkToken, token_id); }

std::string InvitationKey(absl::string_view siret, absl::string_view invitation_id) {
  return Key2(KeyTag::kInvitation, siret, invitation_id);
}
std::string InvitationPrefix(absl::string_view siret) { return Key1(KeyTag::kInvitation, siret); }

std::string DeletionRequestKey(absl::string_view request_id) { return Key1(KeyTag::kDeletionRequest, request_id); }
std::string DeletionRequestPrefix() { return Tagged(KeyTag::kDeletionRequest); }

std::string OutboxKey(uint64_t enqueue_micros, absl::string_view entry_id) {
  std::string key = Tagged(KeyTag::kOutbox);
  AppendUint64(&key, enqueue_micros);
  AppendString(&key, entry_id);
  return key;
}
std::string OutboxPrefix() { return Tagged(KeyTag::kOutbox); }

std::string AuditLogPrefix() { return Tagged(KeyTag::kAudit); }
std::string AuditByStructurePrefix(absl::string_view siret) { return Key1(KeyTag::kAuditByStructure, siret); }
std::string AuditByAccountPrefix(absl::string_view account_id) { return Key1(KeyTag::kAuditByAccount, account_id); }
std::string AuditByActorPrefix(absl::string_view actor) { return Key1(KeyTag::kAuditByActor, actor); }

std::string LastComponent(absl::string_view key, absl::string_view prefix) {
  if (key.size() < prefix.size()) return "";
  key.remove_prefix(prefix.size());
  return ConsumeString(&key).value_or("");
}

std::string SecondComponent(absl::string_view key) {
  if (key.empty()) return "";
  key.remove_prefix(1);
  if (!ConsumeString(&key)) return "";
  return ConsumeString(&key).value_or("");
}

}  // namespace habilis::store
