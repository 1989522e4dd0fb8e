#include "server/domain/identity/new_members.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/status_macros.h"
#include "server/domain/entitlements/grant_records.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/identity/link_tokens.h"
#include "server/domain/kernel/identifiers.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/memberships.h"
#include "server/mail/templates.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

using internal::AccountRecord;
using internal::LinkTokenRecord;

absl::StatusOr<std::optional<std::string>> ValueOf(store::Reader& reader, absl::string_view key) {
  absl::StatusOr<std::string> value = reader.Get(key);
  if (absl::IsNotFound(value.status())) return std::nullopt;
  if (!value.ok()) return value.status();
  return std::optional<std::string>(*std::move(value));
}

absl::Status Taken(bool same_login) {
  return same_login ? Error(absl::StatusCode::kAlreadyExists, "LOGIN_TAKEN",
                            "an account of this structure already has this login")
                    : Error(absl::StatusCode::kAlreadyExists, "LOGIN_CONFUSABLE",
                            "this login looks like the login of an account of this structure; check it, or use "
                            "another address");
}

// LOGIN_TAKEN / LOGIN_CONFUSABLE when a member of `siret` has this login or one that looks like it. Only facts
// of the structure itself are told.
absl::Status NoMemberLooksLike(store::Reader& reader, absl::string_view siret, absl::string_view login,
                               std::optional<std::string> exact, std::optional<std::string> lookalike) {
  for (const std::optional<std::string>& id : {exact, lookalike}) {
    if (!id) continue;
    ASSIGN_OR_RETURN(std::optional<v1::Membership> member, MembershipIn(reader, siret, *id));
    if (!member) continue;
    ASSIGN_OR_RETURN(AccountRecord other, LoadAccount(reader, *id));
    return Taken(FoldEmail(other.account().login_email()) == login);
  }
  ASSIGN_OR_RETURN(std::optional<std::string> joining,
                   ValueOf(reader, store::JoiningLoginKey(siret, ConfusableSkeleton(login))));
  if (!joining) return absl::OkStatus();
  ASSIGN_OR_RETURN(AccountRecord other, LoadAccount(reader, *joining));
  return Taken(FoldEmail(other.account().login_email()) == login);
}

AccountRecord NewRecord(const v1::Account& draft, absl::string_view id, absl::Time now) {
  AccountRecord record;
  *record.mutable_account() = draft;
  record.mutable_account()->set_name(AccountName(id));
  record.mutable_account()->set_state(v1::Account::INACTIVE);
  SetTimestamp(now, record.mutable_account()->mutable_create_time());
  return record;
}

// Moves what `from` holds in `siret` (habilitations, delegations) to `to`, who has no membership there yet.
absl::Status MoveGrants(store::Transaction& txn, absl::string_view siret, absl::string_view from,
                        absl::string_view to) {
  std::vector<v1::Habilitation> habilitations;
  std::vector<v1::Delegation> delegations;
  RETURN_IF_ERROR(store::ScanPrefix(txn, store::MemberHabilitationPrefix(siret, from),
                                    [&](absl::string_view, absl::string_view value) {
                                      return habilitations.emplace_back().ParseFromString(std::string(value));
                                    }));
  RETURN_IF_ERROR(store::ScanPrefix(txn, store::MemberDelegationPrefix(siret, from),
                                    [&](absl::string_view, absl::string_view value) {
                                      return delegations.emplace_back().ParseFromString(std::string(value));
                                    }));
  for (v1::Habilitation& habilitation : habilitations) {
    std::optional<ProfileNameParts> profile = ParseProfileName(habilitation.profile());
    if (!profile) return absl::DataLossError("a habilitation names no profile");
    RETURN_IF_ERROR(DeleteHabilitation(txn, siret, from, habilitation));
    habilitation.set_name(HabilitationName(siret, to, profile->application_id));
    habilitation.set_account(AccountName(to));
    RETURN_IF_ERROR(PutHabilitation(txn, siret, to, *profile, habilitation));
  }
  for (v1::Delegation& delegation : delegations) {
    std::optional<ProfileNameParts> profile = ParseProfileName(delegation.profile());
    if (!profile) return absl::DataLossError("a delegation names no profile");
    RETURN_IF_ERROR(DeleteDelegation(txn, siret, from, *profile));
    delegation.set_name(DelegationName(siret, to, profile->application_id, profile->profile_id));
    delegation.set_account(AccountName(to));
    RETURN_IF_ERROR(PutDelegation(txn, siret, to, *profile, delegation));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PlacedPerson> PlaceNewPerson(store::Transaction& txn, const authz::Principal& caller,
                                            absl::string_view siret, const v1::Account& draft,
                                            const v1::Membership& membership, absl::Time now,
                                            absl::string_view new_id) {
  const std::string login = FoldEmail(draft.login_email());
  const std::string skeleton = ConfusableSkeleton(login);
  ASSIGN_OR_RETURN(std::optional<std::string> exact, ValueOf(txn, store::LoginKey(login)));
  ASSIGN_OR_RETURN(std::optional<std::string> lookalike, ValueOf(txn, store::LoginLookalikeKey(skeleton)));
  RETURN_IF_ERROR(NoMemberLooksLike(txn, siret, login, exact, lookalike));

  if (caller.kind == authz::PrincipalKind::kOperator && exact) {
    RETURN_IF_ERROR(PutMembership(txn, *exact, membership, nullptr));
    ASSIGN_OR_RETURN(AccountRecord existing, LoadAccount(txn, *exact));
    return PlacedPerson{PlacedPerson::How::kAttached, *exact, std::move(existing)};
  }
  AccountRecord record = NewRecord(draft, new_id, now);
  PlacedPerson::How how = PlacedPerson::How::kCreated;
  if (caller.kind != authz::PrincipalKind::kOperator && (exact || lookalike)) {
    // Outside the caller's reach: the same answer as for a new person (see the header).
    record.mutable_joining()->set_account_id(exact.value_or(""));
    RETURN_IF_ERROR(PutJoiningLogin(txn, siret, login, new_id));
    how = PlacedPerson::How::kJoining;
  } else {
    RETURN_IF_ERROR(PutLogin(txn, login, new_id));  // LOGIN_CONFUSABLE for an operator's look-alike
  }
  RETURN_IF_ERROR(SaveAccount(txn, record, now));
  RETURN_IF_ERROR(PutMembership(txn, new_id, membership, nullptr));
  return PlacedPerson{how, std::string(new_id), std::move(record)};
}

absl::StatusOr<std::optional<std::string>> MemberIdByLogin(store::Reader& reader, absl::string_view siret,
                                                           absl::string_view login_email) {
  const std::string login = FoldEmail(login_email);
  ASSIGN_OR_RETURN(std::optional<std::string> exact, ValueOf(reader, store::LoginKey(login)));
  if (exact) {
    ASSIGN_OR_RETURN(std::optional<v1::Membership> member, MembershipIn(reader, siret, *exact));
    if (member) return exact;
  }
  ASSIGN_OR_RETURN(std::optional<std::string> joining,
                   ValueOf(reader, store::JoiningLoginKey(siret, ConfusableSkeleton(login))));
  if (!joining) return std::nullopt;
  ASSIGN_OR_RETURN(AccountRecord record, LoadAccount(reader, *joining));
  if (FoldEmail(record.account().login_email()) != login) return std::nullopt;
  return joining;
}

absl::Status OfferJoin(store::Transaction& txn, const AccountRecord& joining, absl::Time now,
                       const IdentityPolicy& policy, absl::string_view siret) {
  if (joining.joining().account_id().empty()) return absl::OkStatus();
  absl::StatusOr<AccountRecord> existing = LoadAccount(txn, joining.joining().account_id());
  if (absl::IsNotFound(existing.status())) return absl::OkStatus();  // deleted since: nobody to ask
  if (!existing.ok()) return existing.status();
  LinkTokenRecord link;
  link.set_kind(LinkTokenRecord::JOIN);
  link.set_subject(ParseAccountName(joining.account().name()).value_or(""));
  ASSIGN_OR_RETURN(std::string token, IssueLinkToken(txn, now, policy.activation_ttl, link));
  const v1::Account& person = existing->account();
  ASSIGN_OR_RETURN(std::string structure, StructureDisplayName(txn, siret));
  return NotifyAccount(txn, now, person, mail::MailKind::kJoinStructure,
                       {{"name", absl::StrCat(person.given_name(), " ", person.family_name())},
                        {"login", person.login_email()},
                        {"structure", structure},
                        {"link", LinkUrl(policy.link_base_url, "join", token)},
                        {"expires", FormatDeadline(now + policy.activation_ttl)}});
}

namespace {

struct JoinParties {
  LinkTokenRecord link;
  std::string token_id;
  AccountRecord joining;
  AccountRecord existing;
};

absl::StatusOr<JoinParties> ReadJoin(store::Reader& reader, absl::Time now, absl::string_view link_token) {
  JoinParties parties;
  ASSIGN_OR_RETURN(parties.link,
                   ReadLinkToken(reader, now, link_token, {LinkTokenRecord::JOIN}, "link_token", &parties.token_id));
  absl::StatusOr<AccountRecord> joining = LoadAccount(reader, parties.link.subject());
  if (absl::IsNotFound(joining.status())) {
    return Error(absl::StatusCode::kFailedPrecondition, "JOIN_WITHDRAWN",
                 "the structure removed the account it made for you; ask its administrator");
  }
  if (!joining.ok()) return joining.status();
  parties.joining = *std::move(joining);
  ASSIGN_OR_RETURN(parties.existing, LoadAccount(reader, parties.joining.joining().account_id()));
  return parties;
}

}  // namespace

absl::StatusOr<std::string> JoiningAccountPasswordHash(store::Reader& reader, absl::Time now,
                                                       absl::string_view link_token) {
  ASSIGN_OR_RETURN(JoinParties parties, ReadJoin(reader, now, link_token));
  return parties.existing.password_hash();
}

absl::Status AcceptJoin(store::Transaction& txn, absl::Time now, absl::string_view link_token,
                        absl::string_view verified_hash, std::string* siret, std::string* account_id) {
  ASSIGN_OR_RETURN(JoinParties parties, ReadJoin(txn, now, link_token));
  const LinkTokenRecord& link = parties.link;
  const std::string& token_id = parties.token_id;
  const AccountRecord* joining = &parties.joining;
  if (parties.existing.password_hash() != verified_hash) {
    return InvalidField("password", "EXISTING_ACCOUNT_PASSWORD", "enter the password of your account");
  }
  ASSIGN_OR_RETURN(std::vector<v1::Membership> memberships, MembershipsOf(txn, link.subject()));
  if (memberships.size() != 1) return absl::DataLossError("a joining account belongs to one structure");
  const v1::Membership place = memberships.front();
  *siret = SiretOf(place);
  *account_id = joining->joining().account_id();
  ASSIGN_OR_RETURN(int administrators_before, ActiveAdministrators(txn, *siret));
  ASSIGN_OR_RETURN(std::optional<v1::Membership> already, MembershipIn(txn, *siret, *account_id));
  if (!already) {
    RETURN_IF_ERROR(PutMembership(txn, *account_id, place, nullptr));
    RETURN_IF_ERROR(MoveGrants(txn, *siret, link.subject(), *account_id));
  }
  RETURN_IF_ERROR(DeleteAccountEverywhere(txn, link.subject(), *joining));
  RETURN_IF_ERROR(KeepsAnAdministrator(txn, *siret, administrators_before));
  return SpendLinkToken(txn, now, token_id, link);
}

}  // namespace habilis::domain
