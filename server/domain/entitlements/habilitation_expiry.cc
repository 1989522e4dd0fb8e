#include "server/domain/entitlements/habilitation_expiry.h"

#include <string>
#include <vector>

#include "habilis/internal/records.pb.h"
#include "habilis/v1/applications.pb.h"
#include "habilis/v1/entitlements.pb.h"
#include "server/common/status_macros.h"
#include "server/domain/commands/audit_log.h"
#include "server/domain/entitlements/grant_records.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "store/encoding.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

// Habilitations handled per pass; the next pass goes on.
constexpr int kBatch = 200;

// One entry of the expiry index.
struct Ending {
  std::string key;
  std::string siret;
  std::string account_id;
  std::string application_id;
};

// The index entries whose end date is before `until`, soonest first.
absl::StatusOr<std::vector<Ending>> EndingBefore(store::Store& store, absl::Time until) {
  std::vector<Ending> endings;
  const std::string prefix = store::HabilitationExpiryPrefix();
  std::string end = prefix;
  store::AppendUint64(&end, static_cast<uint64_t>(absl::ToUnixMicros(until)));
  RETURN_IF_ERROR(store
                      .Read([&](store::Reader& reader) {
                        return reader.Scan(prefix, end, [&](absl::string_view key, absl::string_view) {
                          absl::string_view rest = key.substr(prefix.size());
                          std::optional<uint64_t> micros = store::ConsumeUint64(&rest);
                          std::optional<std::string> siret = store::ConsumeString(&rest);
                          std::optional<std::string> account = store::ConsumeString(&rest);
                          std::optional<std::string> application = store::ConsumeString(&rest);
                          if (micros && siret && account && application) {
                            endings.push_back({std::string(key), *siret, *account, *application});
                          }
                          return static_cast<int>(endings.size()) < kBatch;
                        });
                      })
                      .status());
  return endings;
}

// What the e-mails say: the holder, the profile and application by display name, the structure, the date.
absl::StatusOr<std::map<std::string, std::string>> NoticeParams(store::Reader& reader, const Ending& ending,
                                                                const v1::Habilitation& habilitation,
                                                                const v1::Account& holder) {
  std::string application_name, profile_name;  // gone or unnamed, they are named by their ids
  if (std::optional<ProfileNameParts> parts = ParseProfileName(habilitation.profile())) {
    v1::Application application;
    v1::Profile profile;
    ASSIGN_OR_RETURN(application_name,
                     DisplayNameAt(reader, store::ApplicationKey(parts->application_id), application));
    ASSIGN_OR_RETURN(profile_name,
                     DisplayNameAt(reader, store::ProfileKey(parts->application_id, parts->profile_id), profile));
  }
  ASSIGN_OR_RETURN(std::string structure, StructureDisplayName(reader, ending.siret));
  return std::map<std::string, std::string>{
      {"structure", structure},
      {"application", application_name.empty() ? ending.application_id : application_name},
      {"profile", profile_name.empty() ? habilitation.profile() : profile_name},
      {"login", holder.login_email()},
      {"expires",
       absl::FormatTime("%d/%m/%Y %H:%M UTC", FromTimestamp(habilitation.expire_time()), absl::UTCTimeZone())}};
}

// Tells the holder and the structure's active administrators that `habilitation` ends soon.
absl::Status SendNotices(store::Transaction& txn, absl::Time now, const Ending& ending,
                         const v1::Habilitation& habilitation) {
  ASSIGN_OR_RETURN(internal::AccountRecord holder, LoadAccount(txn, ending.account_id));
  ASSIGN_OR_RETURN(const auto params, NoticeParams(txn, ending, habilitation, holder.account()));
  std::vector<std::string> to = {ending.account_id};
  const std::string admins = store::StructureAdminPrefix(ending.siret);
  RETURN_IF_ERROR(store::ScanPrefix(txn, admins, [&](absl::string_view key, absl::string_view) {
    std::string admin = store::LastComponent(key, admins);
    if (admin != ending.account_id) to.push_back(std::move(admin));
    return true;
  }));
  for (const std::string& id : to) {
    ASSIGN_OR_RETURN(internal::AccountRecord account, LoadAccount(txn, id));
    if (account.account().state() != v1::Account::ACTIVE) continue;
    RETURN_IF_ERROR(NotifyAccount(txn, now, account.account(), mail::MailKind::kHabilitationExpiring, params));
  }
  return absl::OkStatus();
}

// In one commit: re-reads the habilitation of `ending` and announces or records its expiry. False when there
// was nothing to do (it changed meanwhile, or was announced already and has not ended yet).
absl::StatusOr<bool> Handle(store::Store& store, absl::Time now, const Ending& ending) {
  bool changed = false;
  const std::string name = HabilitationName(ending.siret, ending.account_id, ending.application_id);
  const AuditContext context{std::string(HabilitationExpiry::kActor), "habilis.v1.HabilitationExpiry", "", name};
  RETURN_IF_ERROR(AuditedUpdate(store, context, [&](store::Transaction& txn) -> absl::Status {
                    changed = false;
                    absl::StatusOr<std::string> indexed = txn.Get(ending.key);
                    if (absl::IsNotFound(indexed.status())) return absl::OkStatus();  // revoked or re-granted
                    RETURN_IF_ERROR(indexed.status());
                    v1::Habilitation habilitation;
                    RETURN_IF_ERROR(
                        LoadRecord(txn, store::HabilitationKey(ending.siret, ending.account_id, ending.application_id),
                                   habilitation, "HABILITATION_NOT_FOUND", ""));
                    const bool ended = FromTimestamp(habilitation.expire_time()) <= now;
                    if (!ended && habilitation.has_expiry_notice_time()) return absl::OkStatus();
                    std::optional<ProfileNameParts> profile = ParseProfileName(habilitation.profile());
                    if (!profile) return absl::DataLossError("a habilitation names no profile");
                    RETURN_IF_ERROR(DeleteHabilitation(txn, ending.siret, ending.account_id, habilitation));
                    if (ended) {
                      SetTimestamp(now, habilitation.mutable_expiry_recorded_time());
                    } else {
                      SetTimestamp(now, habilitation.mutable_expiry_notice_time());
                      RETURN_IF_ERROR(SendNotices(txn, now, ending, habilitation));
                    }
                    changed = true;
                    return PutHabilitation(txn, ending.siret, ending.account_id, *profile, habilitation);
                  }).status());
  return changed;
}

}  // namespace

HabilitationExpiry::HabilitationExpiry(store::Store& store, const Clock& clock, absl::Duration interval,
                                       absl::Duration notice)
    : store_(store),
      clock_(clock),
      notice_(notice),
      job_(store, clock, "habilitation_expiry", interval, [this] { return Sweep().status(); }) {}

absl::StatusOr<int> HabilitationExpiry::Sweep() {
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(std::vector<Ending> endings, EndingBefore(store_, now + notice_));
  int changed = 0;
  for (const Ending& ending : endings) {
    ASSIGN_OR_RETURN(bool done, Handle(store_, now, ending));
    changed += done ? 1 : 0;
  }
  return changed;
}

}  // namespace habilis::domain
