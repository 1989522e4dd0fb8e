// Secret-bearing mail at rest. An e-mail waits in the outbox, inside the store, until the relay takes it;
// its body may carry an activation, reset, unlock or invitation link, or a login code. A copy of the data
// directory (a backup, a stolen disk) must not hand those out: the store's own files, its write-ahead log
// included, keep the body sealed with AES-256-GCM (OpenSSL) under a key that lives outside the store, in a
// file of its own (habilisd --outbox-key-file). Only the process that holds the key opens a body, at delivery.
#ifndef HABILIS_SERVER_MAIL_SEALING_H_
#define HABILIS_SERVER_MAIL_SEALING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "habilis/internal/records.pb.h"
#include "store/store.h"

namespace habilis::mail {

// Reads the 32-byte key at `path`, or creates it (mode 0600) when the file does not exist, and uses it from
// now on. Without a call, a process seals with a random key of its own (what it seals dies with it).
[[nodiscard]] absl::Status UseOutboxKeyFile(const std::string& path);

// For a store several nodes share (docs/SCALE-OUT.md): the first node to start seals a probe under its key in
// the store; every later node must open it with its own, or it could not open the e-mails the others queue.
// FAILED_PRECONDITION OUTBOX_KEY_NOT_SHARED otherwise (start-up stops).
[[nodiscard]] absl::Status CheckOutboxKeyIsShared(store::Store& store);

// nonce (12 bytes) + ciphertext + tag (16 bytes).
std::string SealBody(absl::string_view body);

// The body of `record`: its sealed_body opened, or (records written before sealing) its plain body.
// FAILED_PRECONDITION OUTBOX_KEY_MISMATCH when the key in use did not seal it.
[[nodiscard]] absl::StatusOr<std::string> OpenBody(const internal::OutboxRecord& record);

}  // namespace habilis::mail

#endif  // HABILIS_SERVER_MAIL_SEALING_H_
