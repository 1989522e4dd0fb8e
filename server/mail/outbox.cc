#include "server/mail/outbox.h"

#include "absl/strings/str_cat.h"
#include "habilis/internal/records.pb.h"
#include "server/domain/support.h"
#include "server/mail/sealing.h"
#include "store/keyspace.h"

namespace habilis::mail {

absl::Status Enqueue(store::Transaction& txn, absl::Time now, absl::string_view to, MailKind kind,
                     absl::string_view language, const std::map<std::string, std::string>& params) {
  RenderedMail mail = Render(kind, language, params);
  const std::string id = domain::RandomHex(12);
  internal::OutboxRecord record;
  record.set_message_id(absl::StrCat("<", id, "@habilis>"));
  record.set_to(std::string(to));
  record.set_subject(mail.subject);
  record.set_sealed_body(SealBody(mail.body));
  record.set_kind(std::string(MailKindName(kind)));
  domain::SetTimestamp(now, record.mutable_create_time());
  domain::SetTimestamp(now, record.mutable_next_attempt_time());
  return txn.Put(store::OutboxKey(absl::ToUnixMicros(now), id), record.SerializeAsString());
}

}  // namespace habilis::mail
