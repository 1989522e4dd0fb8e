#include "server/mail/smtp.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace habilis::mail {
namespace {

// RFC 2047: a header value that may hold any UTF-8, as encoded words of at most 75 characters, never cutting
// a character, folded onto continuation lines so that no header line passes 78 characters. `used` is what the
// first line already holds ("Subject: ").
std::string EncodedWords(absl::string_view text, size_t used) {
  constexpr size_t kWordOverhead = 12;  // "=?UTF-8?B?" and "?="
  std::string out;
  while (!text.empty()) {
    const size_t room = std::min<size_t>(75, 78 - used) - kWordOverhead;  // characters of base64
    size_t take = std::min(room / 4 * 3, text.size());
    // Back up to the start of a character: continuation bytes are 10xxxxxx.
    while (take < text.size() && take > 0 && (static_cast<unsigned char>(text[take]) & 0xc0) == 0x80) --take;
    if (take == 0) take = std::min(room / 4 * 3, text.size());  // not UTF-8: cut anywhere rather than loop
    if (!out.empty()) out.append("\r\n ");
    absl::StrAppend(&out, "=?UTF-8?B?", absl::Base64Escape(text.substr(0, take)), "?=");
    text.remove_prefix(take);
    used = 1;  // a continuation line begins with one space
  }
  return out;
}

std::string WrappedBase64(absl::string_view text) {
  std::string encoded = absl::Base64Escape(text);
  std::string out;
  for (size_t i = 0; i < encoded.size(); i += 76) absl::StrAppend(&out, encoded.substr(i, 76), "\r\n");
  return out;
}

struct Payload {
  std::string data;
  size_t offset = 0;
};

size_t ReadPayload(char* buffer, size_t size, size_t count, void* user) {
  auto* payload = static_cast<Payload*>(user);
  size_t n = std::min(size * count, payload->data.size() - payload->offset);
  std::memcpy(buffer, payload->data.data() + payload->offset, n);
  payload->offset += n;
  return n;
}

void InitCurlOnce() {
  static const bool initialized = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)initialized;
}

}  // namespace

std::string FormatMessage(const SmtpConfig& config, const internal::OutboxRecord& message, absl::Time date) {
  return absl::StrCat("Date: ", absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", date, absl::UTCTimeZone()), "\r\n",
                      "From: ", config.from, "\r\n", "To: ", message.to(), "\r\n", "Message-ID: ", message.message_id(),
                      "\r\n", "Subject: ", EncodedWords(message.subject(), 9), "\r\n",
                      "X-Habilis-Kind: ", message.kind(), "\r\n", "MIME-Version: 1.0\r\n",
                      "Content-Type: text/plain; charset=UTF-8\r\n", "Content-Transfer-Encoding: base64\r\n", "\r\n",
                      WrappedBase64(message.body()));
}

absl::Status ReadSmtpCredentials(const std::string& path, SmtpConfig& config) {
  std::ifstream in(path);
  std::string username, password;
  if (!in || !std::getline(in, username) || !std::getline(in, password) || username.empty() || password.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--smtp-credentials-file: ", path,
                     " must hold the user name on its first line and the password on its second"));
  }
  config.username = username;
  config.password = password;
  return absl::OkStatus();
}

absl::Status SendSmtp(const SmtpConfig& config, const internal::OutboxRecord& message) {
  InitCurlOnce();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::UnavailableError("curl_easy_init failed");
  Payload payload{FormatMessage(config, message, absl::Now())};
  std::string from = absl::StrCat("<", config.from, ">");
  std::string to = absl::StrCat("<", message.to(), ">");
  curl_slist* recipients = curl_slist_append(nullptr, to.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, config.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadPayload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &payload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (config.require_starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!config.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config.ca_file.c_str());
  if (!config.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, config.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, config.password.c_str());
  }
  CURLcode result = curl_easy_perform(curl);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  if (result != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("SMTP delivery failed: ", curl_easy_strerror(result)));
  }
  return absl::OkStatus();
}

}  // namespace habilis::mail
