#include "server/mail/outbox.h"

#include "absl/strings/str_cat.h"
#include "habilis/internal/records.pb.h"
#include "server/common/clock.h"
#include "server/common/random.h"
#include "server/mail/sealing.h"
#include "store/keyspace.h"

namespace habilis::mail {

absl::Status Enqueue(store::Transaction& txn, absl::Time now, absl::string_view to, MailKind kind,
                     absl::string_view language, const std::map<std::string, std::string>& params) {
  RenderedMail mail = Render(kind, language, params);
  const std::string id = habilis::RandomHex(12);
  internal::OutboxRecord record;
  record.set_message_id(absl::StrCat("<", id, "@habilis>"));
  record.set_to(std::string(to));
  record.set_subject(mail.subject);
  record.set_sealed_body(SealBody(mail.body));
  record.set_kind(std::string(MailKindName(kind)));
  habilis::SetTimestamp(now, record.mutable_create_time());
  habilis::SetTimestamp(now, record.mutable_next_attempt_time());
  return txn.Put(store::OutboxKey(absl::ToUnixMicros(now), id), record.SerializeAsString());
}

absl::StatusOr<OutboxBacklog> BacklogOf(store::Store& store) {
  OutboxBacklog backlog;
  absl::Status read =
      store
          .Read([&](store::Reader& reader) {
            // Keys sort by enqueue time: the first record is the oldest.
            return store::ScanPrefix(reader, store::OutboxPrefix(), [&](absl::string_view, absl::string_view value) {
              if (backlog.messages++ == 0) {
                internal::OutboxRecord record;
                if (record.ParseFromString(std::string(value))) {
                  backlog.oldest = habilis::FromTimestamp(record.create_time());
                }
              }
              return true;
            });
          })
          .status();
  if (!read.ok()) return read;
  return backlog;
}

}  // namespace habilis::mail
