// The key layout of habilis: every key any backend holds is built here. KEYSPACE.md describes it.
//
// A key is one tag byte followed by order-preserving components (store/encoding.h). Tags are on disk:
// DO NOT CHANGE OR REUSE THESE VALUES; add new ones.
#ifndef HABILIS_STORE_KEYSPACE_H_
#define HABILIS_STORE_KEYSPACE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace habilis::store {

enum class KeyTag : uint8_t {
  kMeta = 0x01,
  kStructure = 0x10,
  kService = 0x11,
  kServiceName = 0x12,
  kStructureGuard = 0x13,
  kApplication = 0x20,
  kProfile = 0x21,
  kSubscription = 0x22,
  kApiKey = 0x30,
  kIdempotency = 0x40,
  kIdempotencyByTime = 0x41,
  kAccount = 0x50,
  kLogin = 0x51,
  kMembership = 0x52,
  kAccountMembership = 0x53,
  kServiceMember = 0x54,
  kStructureAdmin = 0x55,
  kSession = 0x56,
  kAccountSession = 0x57,
  kLinkToken = 0x58,
  kInvitation = 0x59,
  kDeletionRequest = 0x5A,
  kAccountGuard = 0x5B,
  kLoginLookalike = 0x5C,
  kJoiningLogin = 0x5D,
  kOutbox = 0x60,
  kHabilitation = 0x70,
  kAccountHabilitation = 0x71,
  kProfileHolder = 0x72,
  kDelegation = 0x73,
  kHabilitationExpiry = 0x74,
  kAudit = 0x80,
  kAuditByStructure = 0x81,
  kAuditByAccount = 0x82,
  kAuditByActor = 0x83,
};

// Version of the layout below. A store written with another version is refused at open; habilis-migrate
// (server/tools/migrations.h) moves an older one forward, one version at a time.
//   1: the first layout.
//   2: every login has its look-alike key (LoginLookalikeKey); format 1 stores may lack some.
//   3: every idempotency record has its create time and its key in IdempotencyByTimeKey; format 2 records
//      have neither (they were never expired).
inline constexpr uint64_t kFormatVersion = 3;

// Meta entries: "format_version" and "revision", each a big-endian uint64.
std::string MetaKey(absl::string_view name);
inline constexpr absl::string_view kMetaFormatVersion = "format_version";
inline constexpr absl::string_view kMetaRevision = "revision";
// A random id drawn when the store is created (16 hex digits twice), kept by its copies: Store::Id.
inline constexpr absl::string_view kMetaStoreId = "store_id";
// The first revision whose audit entries are kept: older ones were pruned (retention). Absent: all kept.
inline constexpr absl::string_view kMetaAuditRetainedFrom = "audit_retained_from";

// structure(siret) -> habilis.v1.Structure
std::string StructureKey(absl::string_view siret);
std::string StructurePrefix();

// service(siret, service_id) -> habilis.v1.Service
std::string ServiceKey(absl::string_view siret, absl::string_view service_id);
std::string ServicePrefix(absl::string_view siret);

// service_name(siret, folded display name) -> service_id: makes names unique per structure.
std::string ServiceNameKey(absl::string_view siret, absl::string_view folded_name);

// structure_guard(siret) -> big-endian change counter. Every change to a structure's services or
// memberships reads and writes it, so concurrent changes of one organisation conflict (see Transaction in
// store.h) and its invariants (unique names, nothing attached to a deleted service, one active
// administrator at least) hold.
std::string StructureGuardKey(absl::string_view siret);

// application(application_id) -> habilis.v1.Application
std::string ApplicationKey(absl::string_view application_id);
std::string ApplicationPrefix();

// profile(application_id, profile_id) -> habilis.v1.Profile
std::string ProfileKey(absl::string_view application_id, absl::string_view profile_id);
std::string ProfilePrefix(absl::string_view application_id);

// subscription(siret, application_id) -> habilis.v1.Subscription
std::string SubscriptionKey(absl::string_view siret, absl::string_view application_id);
std::string SubscriptionPrefix(absl::string_view siret);

// habilitation(siret, account_id, application_id) -> habilis.v1.Habilitation: the key itself makes one
// profile per application per membership. Indexes (empty values):
// account_habilitation(account_id, application_id, siret) and
// profile_holder(application_id, profile_id, account_id, siret).
std::string HabilitationKey(absl::string_view siret, absl::string_view account_id, absl::string_view application_id);
std::string HabilitationPrefix(absl::string_view siret);
std::string MemberHabilitationPrefix(absl::string_view siret, absl::string_view account_id);
std::string AccountHabilitationKey(absl::string_view account_id, absl::string_view application_id,
                                   absl::string_view siret);
std::string AccountHabilitationPrefix(absl::string_view account_id, absl::string_view application_id);
std::string ProfileHolderKey(absl::string_view application_id, absl::string_view profile_id,
                             absl::string_view account_id, absl::string_view siret);
// habilitation_expiry(expire_micros, siret, account_id, application_id) -> "": the habilitations with an end
// date whose expiry is not yet recorded, soonest first (the expiry sweep reads it).
std::string HabilitationExpiryKey(uint64_t expire_micros, absl::string_view siret, absl::string_view account_id,
                                  absl::string_view application_id);
std::string HabilitationExpiryPrefix();
std::string ProfileHolderPrefix(absl::string_view application_id, absl::string_view profile_id);

// delegation(siret, account_id, application_id, profile_id) -> habilis.v1.Delegation
std::string DelegationKey(absl::string_view siret, absl::string_view account_id, absl::string_view application_id,
                          absl::string_view profile_id);
std::string MemberDelegationPrefix(absl::string_view siret, absl::string_view account_id);

// Decodes the string components of `key` after `prefix`; empty if malformed.
std::vector<std::string> ComponentsAfter(absl::string_view key, absl::string_view prefix);

// api_key(key_id) -> habilis.internal.ApiKeyRecord
std::string ApiKeyKey(absl::string_view key_id);
std::string ApiKeyPrefix();

// idempotency(principal, request_id) -> habilis.internal.IdempotencyRecord
std::string IdempotencyKey(absl::string_view principal, absl::string_view request_id);
std::string IdempotencyPrefix();
// idempotency_by_time(create_micros, principal, request_id) -> "": the records in the order they expire.
std::string IdempotencyByTimeKey(uint64_t create_micros, absl::string_view principal, absl::string_view request_id);
std::string IdempotencyByTimePrefix();

// account(account_id) -> habilis.internal.AccountRecord
std::string AccountKey(absl::string_view account_id);

// account_guard(account_id) -> big-endian change marker. Guards what an account holds in every structure: its
// memberships, habilitations and delegations. Their writers bump it (memberships.cc, entitlements.cc), so a
// transaction that decides on the whole set ("holds no habilitation", "belongs to no other structure") and
// touches it conflicts with any concurrent change to that set. KEYSPACE.md lists the rules it protects.
std::string AccountGuardKey(absl::string_view account_id);
// login(folded login e-mail) -> account_id: makes login identifiers unique ignoring case.
std::string LoginKey(absl::string_view folded_email);
// login_lookalike(confusable skeleton of the login) -> account id: makes logins unique among look-alikes.
std::string LoginLookalikeKey(absl::string_view skeleton);
std::string LoginPrefix();
// joining_login(siret, confusable skeleton of the login) -> account id: the account a structure's administrator
// created for a login that already belonged to an account outside the structure (its login is not in the
// login index). Makes logins unique, among look-alikes, within the structure as they are for other accounts.
std::string JoiningLoginKey(absl::string_view siret, absl::string_view skeleton);

// membership(siret, account_id) -> habilis.v1.Membership, and its three indexes (empty values):
// account_membership(account_id, siret), service_member(siret, service_id or "" for the root, account_id),
// structure_admin(siret, account_id) for administrators.
std::string MembershipKey(absl::string_view siret, absl::string_view account_id);
std::string MembershipPrefix(absl::string_view siret);
std::string AccountMembershipKey(absl::string_view account_id, absl::string_view siret);
std::string AccountMembershipPrefix(absl::string_view account_id);
std::string ServiceMemberKey(absl::string_view siret, absl::string_view service_id, absl::string_view account_id);
std::string ServiceMemberPrefix(absl::string_view siret, absl::string_view service_id);
std::string StructureAdminKey(absl::string_view siret, absl::string_view account_id);
std::string StructureAdminPrefix(absl::string_view siret);

// session(session_id) -> habilis.internal.SessionRecord; account_session(account_id, session_id) -> "".
std::string SessionKey(absl::string_view session_id);
std::string AccountSessionKey(absl::string_view account_id, absl::string_view session_id);
std::string AccountSessionPrefix(absl::string_view account_id);

// link_token(token_id) -> habilis.internal.LinkTokenRecord
std::string LinkTokenKey(absl::string_view token_id);

// invitation(siret, invitation_id) -> habilis.internal.InvitationRecord
std::string InvitationKey(absl::string_view siret, absl::string_view invitation_id);
std::string InvitationPrefix(absl::string_view siret);

// deletion_request(request_id) -> habilis.v1.DeletionRequest
std::string DeletionRequestKey(absl::string_view request_id);
std::string DeletionRequestPrefix();

// outbox(enqueue time in microseconds, entry id) -> habilis.internal.OutboxRecord, oldest first.
std::string OutboxKey(uint64_t enqueue_micros, absl::string_view entry_id);
std::string OutboxPrefix();

// The audit trail: logs (Transaction::AppendToLog, read with store/log.h ScanLog), one entry per commit:
// audit(revision, 0) -> habilis.v1.AuditEntry, one per commit; and its indexes (empty values)
// audit_by_structure(siret, revision, i), audit_by_account(account_id, revision, i),
// audit_by_actor(actor, revision, i).
std::string AuditLogPrefix();
std::string AuditByStructurePrefix(absl::string_view siret);
std::string AuditByAccountPrefix(absl::string_view account_id);
std::string AuditByActorPrefix(absl::string_view actor);

// The last component of a key (an id read back from an index key); "" if malformed.
std::string LastComponent(absl::string_view key, absl::string_view prefix);

// The second component of a key after its tag (the service id of a service key); "" if malformed.
std::string SecondComponent(absl::string_view key);

}  // namespace habilis::store

#endif  // HABILIS_STORE_KEYSPACE_H_
