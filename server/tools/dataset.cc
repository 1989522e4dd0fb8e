#include "server/tools/dataset.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "habilis/internal/records.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/org_chart.pb.h"
#include "habilis/v1/structures.pb.h"
#include "server/common/clock.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/kernel/identifiers.h"
#include "server/domain/kernel/passwords.h"
#include "server/domain/kernel/resource_names.h"
#include "store/keyspace.h"

namespace habilis::tools {
namespace {

// Accumulates puts and commits them in transactions of `batch` keys.
class BatchWriter {
 public:
  BatchWriter(store::Store& store, int batch) : store_(store), batch_(batch) {}

  absl::Status Put(std::string key, std::string value) {
    pending_.emplace_back(std::move(key), std::move(value));
    if (static_cast<int>(pending_.size()) >= batch_) return Flush();
    return absl::OkStatus();
  }
  absl::Status Put(std::string key, const google::protobuf::Message& value) {
    return Put(std::move(key), value.SerializeAsString());
  }

  absl::Status Flush() {
    if (pending_.empty()) return absl::OkStatus();
    absl::Status status = store_
                              .Update([&](store::Transaction& txn) -> absl::Status {
                                for (const auto& [key, value] : pending_) RETURN_IF_ERROR(txn.Put(key, value));
                                return absl::OkStatus();
                              })
                              .status();
    pending_.clear();
    return status;
  }

 private:
  store::Store& store_;
  const int batch_;
  std::vector<std::pair<std::string, std::string>> pending_;
};

// Every application, with its profiles.
absl::Status WriteApplications(BatchWriter& writer, const DatasetParams& params) {
  for (int a = 0; a < params.applications; ++a) {
    const std::string app = DatasetApplicationId(a);
    v1::Application application;
    application.set_name(domain::ApplicationName(app));
    application.set_display_name(absl::StrCat("Application ", a));
    RETURN_IF_ERROR(writer.Put(store::ApplicationKey(app), application));
    for (int p = 0; p < params.profiles_per_application; ++p) {
      v1::Profile profile;
      profile.set_name(domain::ProfileName(app, DatasetProfileId(p)));
      profile.set_display_name(absl::StrCat("Profil ", p));
      profile.add_permissions(absl::StrCat("perm.", p));
      profile.add_permissions("perm.read");
      profile.set_state(v1::Profile::ACTIVE);
      RETURN_IF_ERROR(writer.Put(store::ProfileKey(app, DatasetProfileId(p)), profile));
    }
  }
  return absl::OkStatus();
}

// Every structure, with its services and its subscriptions.
absl::Status WriteStructures(BatchWriter& writer, const DatasetParams& params) {
  for (int64_t s = 0; s < params.structures; ++s) {
    const std::string siret = DatasetSiret(s);
    v1::Structure structure;
    structure.set_name(domain::StructureName(siret));
    structure.set_siret(siret);
    structure.set_category("Collectivité territoriale");
    structure.set_siren(siret.substr(0, 9));
    structure.set_nic(siret.substr(9));
    structure.set_display_name(absl::StrCat("Structure ", s));
    structure.set_address("1 place de la Mairie");
    structure.set_postal_code("35000");
    structure.set_city("Rennes");
    structure.set_country("FR");
    RETURN_IF_ERROR(writer.Put(store::StructureKey(siret), structure));
    for (int k = 0; k < params.services_per_structure; ++k) {
      const std::string id = absl::StrCat("service-", k);
      v1::Service service;
      service.set_name(domain::ServiceResourceName(siret, id));
      service.set_display_name(absl::StrCat("Service ", k));
      RETURN_IF_ERROR(writer.Put(store::ServiceKey(siret, id), service));
      RETURN_IF_ERROR(writer.Put(store::ServiceNameKey(siret, habilis::FoldName(service.display_name())), id));
    }
    for (int k = 0; k < params.habilitations_per_account; ++k) {
      const std::string app = DatasetApplicationId(ApplicationOf(params, s, k));
      v1::Subscription subscription;
      subscription.set_name(domain::SubscriptionName(siret, app));
      subscription.set_application(domain::ApplicationName(app));
      if (Subscribed(params, s, k)) RETURN_IF_ERROR(writer.Put(store::SubscriptionKey(siret, app), subscription));
    }
  }
  return absl::OkStatus();
}

// Sets what ConditionOf(i) says of account i; a usable account is active, with a password and consent.
void SetCondition(int64_t i, absl::Time now, v1::Account& account) {
  const AccountCondition condition = ConditionOf(i);
  account.set_state(condition == AccountCondition::kDeactivated ? v1::Account::DEACTIVATED : v1::Account::ACTIVE);
  if (condition != AccountCondition::kConsentMissing) {
    habilis::SetTimestamp(now, account.mutable_privacy_consent_time());
  }
  habilis::SetTimestamp(now, account.mutable_password_change_time());
  const bool expired = condition == AccountCondition::kPasswordExpired;
  habilis::SetTimestamp(now + (expired ? -absl::Hours(24) : absl::Hours(24 * 365)),
                        account.mutable_password_expire_time());
  if (condition == AccountCondition::kLocked) {
    habilis::SetTimestamp(now + absl::Hours(24 * 365 * 10), account.mutable_locked_until());
  }
}

// Account `i` (id `id`), in the condition ConditionOf(i) gives it.
absl::Status WriteAccount(BatchWriter& writer, int64_t i, const std::string& id, absl::Time now,
                          const std::string& password_hash) {
  internal::AccountRecord record;
  v1::Account& account = *record.mutable_account();
  account.set_name(domain::AccountName(id));
  account.set_login_email(absl::StrCat("user", i, "@example.fr"));
  account.set_given_name("Prénom");
  account.set_family_name(absl::StrCat("Nom", i));
  account.set_address("2 rue du Port");
  account.set_postal_code("35000");
  account.set_city("Rennes");
  account.set_country("FR");
  account.set_language("fr");
  SetCondition(i, now, account);
  record.set_password_hash(password_hash);
  RETURN_IF_ERROR(writer.Put(store::AccountKey(id), record));
  RETURN_IF_ERROR(writer.Put(store::LoginKey(account.login_email()), id));
  RETURN_IF_ERROR(writer.Put(store::LoginLookalikeKey(domain::ConfusableSkeleton(account.login_email())), id));
  return absl::OkStatus();
}

// The membership of account `i` in its structure: the first of each structure is its administrator, the
// others collaborators spread over the services.
absl::Status WriteMembership(BatchWriter& writer, const DatasetParams& params, int64_t i, const std::string& id,
                             const std::string& siret, int64_t per_structure, absl::Time now) {
  v1::Membership membership;
  membership.set_structure(domain::StructureName(siret));
  if (ConditionOf(i) == AccountCondition::kMembershipSuspended) {
    habilis::SetTimestamp(now, membership.mutable_suspend_time());
  }
  const bool administrator = i % per_structure == 0;
  membership.set_role(administrator ? v1::ADMINISTRATOR : v1::COLLABORATOR);
  const std::string service_id = administrator ? "" : absl::StrCat("service-", i % params.services_per_structure);
  if (!service_id.empty()) membership.set_service(domain::ServiceResourceName(siret, service_id));
  RETURN_IF_ERROR(writer.Put(store::MembershipKey(siret, id), membership));
  RETURN_IF_ERROR(writer.Put(store::AccountMembershipKey(id, siret), ""));
  RETURN_IF_ERROR(writer.Put(store::ServiceMemberKey(siret, service_id, id), ""));
  if (administrator) RETURN_IF_ERROR(writer.Put(store::StructureAdminKey(siret, id), ""));
  return absl::OkStatus();
}

// The habilitations of account `i` in structure `s`; the first of every `stride`-th account joins `pairs`
// when it gives access.
absl::Status WriteHabilitations(BatchWriter& writer, const DatasetParams& params, int64_t i, int64_t s,
                                const std::string& id, absl::Time now, int64_t stride, int sample,
                                std::vector<GrantedPair>& pairs) {
  const std::string siret = DatasetSiret(s);
  for (int k = 0; k < params.habilitations_per_account; ++k) {
    const std::string subscribed_app = DatasetApplicationId(ApplicationOf(params, s, k));
    const std::string profile_id = DatasetProfileId(ProfileOf(params, i, k));
    v1::Habilitation habilitation;
    habilitation.set_name(domain::HabilitationName(siret, id, subscribed_app));
    habilitation.set_account(domain::AccountName(id));
    habilitation.set_profile(domain::ProfileName(subscribed_app, profile_id));
    habilis::SetTimestamp(now, habilitation.mutable_grant_time());
    RETURN_IF_ERROR(writer.Put(store::HabilitationKey(siret, id, subscribed_app), habilitation));
    RETURN_IF_ERROR(writer.Put(store::AccountHabilitationKey(id, subscribed_app, siret), ""));
    RETURN_IF_ERROR(writer.Put(store::ProfileHolderKey(subscribed_app, profile_id, id, siret), ""));
    if (k == 0 && i % stride == 0 && static_cast<int>(pairs.size()) < sample &&
        ExpectCheck(params, i, ApplicationOf(params, s, k), ProfileOf(params, i, k), std::nullopt).allowed) {
      pairs.push_back({domain::AccountName(id), habilitation.profile()});
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<GrantedPair>> GenerateDataset(store::Store& store, const DatasetParams& params, int sample) {
  BatchWriter writer(store, params.batch);
  absl::Time now = habilis::SystemClock().Now();
  // One hash for everyone: hashing a million passwords would take hours and measure nothing.
  const std::string password_hash = domain::HashPassword("dataset password 2026");
  RETURN_IF_ERROR(WriteApplications(writer, params));
  RETURN_IF_ERROR(WriteStructures(writer, params));
  const int64_t per_structure = std::max<int64_t>(1, params.accounts / params.structures);
  std::vector<GrantedPair> pairs;

  const int64_t stride = sample > 0 ? std::max<int64_t>(1, params.accounts / sample) : params.accounts + 1;
  for (int64_t i = 0; i < params.accounts; ++i) {
    const std::string id = DatasetAccountId(i);
    const int64_t s = std::min(i / per_structure, params.structures - 1);
    RETURN_IF_ERROR(WriteAccount(writer, i, id, now, password_hash));
    RETURN_IF_ERROR(WriteMembership(writer, params, i, id, DatasetSiret(s), per_structure, now));
    RETURN_IF_ERROR(WriteHabilitations(writer, params, i, s, id, now, stride, sample, pairs));
  }
  RETURN_IF_ERROR(writer.Flush());
  return pairs;
}

}  // namespace habilis::tools
