#include "server/mail/sealing.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/common/errors.h"
#include "store/keyspace.h"

namespace habilis::mail {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

std::string RandomKey() {
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), kKeyBytes) != 1) std::abort();
  return key;
}

absl::Mutex key_mu(absl::kConstInit);
std::string* outbox_key ABSL_GUARDED_BY(key_mu) = nullptr;

std::string Key() {
  absl::MutexLock lock(&key_mu);
  if (outbox_key == nullptr) outbox_key = new std::string(RandomKey());
  return *outbox_key;
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

absl::Status UseOutboxKeyFile(const std::string& path) {
  std::string key;
  std::ifstream in(path, std::ios::binary);
  if (in) {
    key.assign(std::istreambuf_iterator<char>(in), {});
    if (key.size() != kKeyBytes) {
      return absl::FailedPreconditionError(
          absl::StrCat("the outbox key file ", path, " does not hold a ", kKeyBytes, "-byte key"));
    }
  } else {
    key = RandomKey();
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return absl::FailedPreconditionError(absl::StrCat("cannot create the outbox key file ", path));
    bool written = write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && fsync(fd) == 0;
    close(fd);
    if (!written) return absl::FailedPreconditionError(absl::StrCat("cannot write the outbox key file ", path));
  }
  absl::MutexLock lock(&key_mu);
  delete outbox_key;
  outbox_key = new std::string(std::move(key));
  return absl::OkStatus();
}

std::string SealBody(absl::string_view body) {
  const std::string key = Key();
  std::string out(kNonceBytes + body.size() + kTagBytes, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(bytes, kNonceBytes) != 1) std::abort();
  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int length = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                         bytes) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes + kNonceBytes, &length, reinterpret_cast<const unsigned char*>(body.data()),
                        static_cast<int>(body.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes + kNonceBytes + length, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, bytes + kNonceBytes + body.size()) != 1) {
    std::abort();  // OpenSSL failing on valid input: nothing sensible to write
  }
  return out;
}

absl::StatusOr<std::string> OpenBody(const internal::OutboxRecord& record) {
  const std::string& sealed = record.sealed_body();
  if (sealed.empty()) return record.body();
  if (sealed.size() < kNonceBytes + kTagBytes) return absl::DataLossError("a sealed e-mail body is truncated");
  const std::string key = Key();
  const size_t text_bytes = sealed.size() - kNonceBytes - kTagBytes;
  std::string body(text_bytes, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string tag = sealed.substr(kNonceBytes + text_bytes);
  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int length = 0;
  bool ok = ctx != nullptr &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                               reinterpret_cast<const unsigned char*>(key.data()), in) == 1 &&
            EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(body.data()), &length, in + kNonceBytes,
                              static_cast<int>(text_bytes)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(body.data()) + length, &length) == 1;
  if (!ok) {
    return Error(
        absl::StatusCode::kFailedPrecondition, "OUTBOX_KEY_MISMATCH",
        "this e-mail was sealed under another outbox key; start habilisd with the key file it was written with");
  }
  return body;
}

absl::Status CheckOutboxKeyIsShared(store::Store& store) {
  constexpr absl::string_view kProbe = "habilis outbox key probe";
  const std::string key = store::MetaKey("outbox_key_probe");
  return store
      .Update([&](store::Transaction& txn) -> absl::Status {
        absl::StatusOr<std::string> sealed = txn.Get(key);
        if (absl::IsNotFound(sealed.status())) return txn.Put(key, SealBody(kProbe));
        if (!sealed.ok()) return sealed.status();
        internal::OutboxRecord probe;
        probe.set_sealed_body(*sealed);
        absl::StatusOr<std::string> opened = OpenBody(probe);
        if (opened.ok() && *opened == kProbe) return absl::OkStatus();
        return Error(absl::StatusCode::kFailedPrecondition, "OUTBOX_KEY_NOT_SHARED",
                     "this node's outbox key is not the one the store's other nodes seal e-mails with: give every "
                     "node a copy of the same --outbox-key-file (docs/SCALE-OUT.md)");
      })
      .status();
}

}  // namespace habilis::mail
