#include "server/api/http_tls.h"

#define H2O_USE_EPOLL 1
#include <h2o.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"

namespace habilis::api {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

BioPtr OpenFile(const std::string& path) { return BioPtr(BIO_new_file(path.c_str(), "r"), &BIO_free); }

}  // namespace

struct HttpTls::Identity {
  X509* certificate = nullptr;
  STACK_OF(X509) * chain = sk_X509_new_null();  // the certificates after the first in the file
  EVP_PKEY* key = nullptr;
  X509_STORE* client_ca = nullptr;  // null without mutual TLS

  ~Identity() {
    X509_free(certificate);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(client_ca);
  }
};

absl::StatusOr<std::unique_ptr<HttpTls>> HttpTls::Load(const HttpTlsOptions& options) {
  std::unique_ptr<HttpTls> tls(new HttpTls(options));
  absl::StatusOr<std::shared_ptr<const Identity>> identity = tls->Read();
  if (!identity.ok()) return identity.status();
  tls->identity_ = *std::move(identity);
  tls->read_at_ = std::chrono::steady_clock::now();

  tls->context_ = SSL_CTX_new(TLS_server_method());
  if (tls->context_ == nullptr) return absl::InternalError("--tls-cert: OpenSSL cannot make a TLS context");
  SSL_CTX_set_min_proto_version(tls->context_, TLS1_2_VERSION);
  SSL_CTX_set_cert_cb(tls->context_, &HttpTls::OnHandshake, tls.get());
  if (!options.client_ca_file.empty()) {
    SSL_CTX_set_verify(tls->context_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  h2o_ssl_register_alpn_protocols(tls->context_, h2o_http2_alpn_protocols);
  return tls;
}

HttpTls::~HttpTls() { SSL_CTX_free(context_); }

absl::StatusOr<std::shared_ptr<const HttpTls::Identity>> HttpTls::Read() const {
  auto identity = std::make_shared<Identity>();
  BioPtr certificates = OpenFile(options_.cert_file);
  if (certificates == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("--tls-cert: cannot read ", options_.cert_file));
  identity->certificate = PEM_read_bio_X509(certificates.get(), nullptr, nullptr, nullptr);
  if (identity->certificate == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("--tls-cert: ", options_.cert_file, " holds no PEM certificate"));
  }
  while (X509* next = PEM_read_bio_X509(certificates.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(identity->chain, next);
  }
  BioPtr key = OpenFile(options_.key_file);
  if (key != nullptr) identity->key = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
  if (identity->key == nullptr || X509_check_private_key(identity->certificate, identity->key) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key: ", options_.key_file, " is not the key of the certificate in ", options_.cert_file));
  }
  if (!options_.client_ca_file.empty()) {
    identity->client_ca = X509_STORE_new();
    if (X509_STORE_load_file(identity->client_ca, options_.client_ca_file.c_str()) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-client-ca: ", options_.client_ca_file, " holds no PEM certificate"));
    }
  }
  return identity;
}

std::shared_ptr<const HttpTls::Identity> HttpTls::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - read_at_ >= std::chrono::seconds(options_.refresh_seconds)) {
    read_at_ = now;
    if (absl::StatusOr<std::shared_ptr<const Identity>> renewed = Read(); renewed.ok()) identity_ = *renewed;
  }
  return identity_;
}

int HttpTls::OnHandshake(SSL* ssl, void* self) {
  std::shared_ptr<const Identity> identity = static_cast<HttpTls*>(self)->Current();
  // Both calls take their own references: the identity may be replaced while the connection lives on.
  if (SSL_use_cert_and_key(ssl, identity->certificate, identity->key, identity->chain, 1) != 1) return 0;
  if (identity->client_ca != nullptr && SSL_set1_verify_cert_store(ssl, identity->client_ca) != 1) return 0;
  return 1;
}

}  // namespace habilis::api
