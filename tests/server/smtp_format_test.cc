// The e-mail as it goes on the wire (NOTIFY): a subject of any length and script stays within RFC 2047 and
// RFC 5322's line limits, and decodes back to itself.
#include <regex>
#include <sstream>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "server/mail/smtp.h"

namespace habilis::mail {
namespace {

TEST(SmtpFormatTest, ALongSubjectIsFoldedIntoShortEncodedWordsThatDecodeBack) {
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "Établissement public — ";  // accents and a 3-byte dash
  internal::OutboxRecord message;
  message.set_to("jeanne@example.fr");
  message.set_subject(subject);
  message.set_body("Bonjour");
  message.set_kind("TEST");
  message.set_message_id("<1@habilis>");
  const std::string wire = FormatMessage({"smtp://127.0.0.1:25", "habilis@example.fr"}, message, absl::UnixEpoch());
  const std::string headers = wire.substr(0, wire.find("\r\n\r\n"));
  std::istringstream lines(headers);
  std::string decoded;
  bool in_subject = false;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    EXPECT_LE(line.size(), 78u) << line;
    if (line.rfind("Subject: ", 0) == 0) {
      in_subject = true;
    } else if (line.empty() || line[0] != ' ') {
      in_subject = false;
    }
    if (!in_subject) continue;
    static const std::regex kWord("=\\?UTF-8\\?B\\?([A-Za-z0-9+/=]+)\\?=");
    for (std::sregex_iterator it(line.begin(), line.end(), kWord), end; it != end; ++it) {
      EXPECT_LE(it->str().size(), 75u);
      std::string piece;
      ASSERT_TRUE(absl::Base64Unescape((*it)[1].str(), &piece));
      ASSERT_FALSE(piece.empty());
      EXPECT_NE(static_cast<unsigned char>(piece[0]) & 0xc0, 0x80) << "each word holds whole characters";
      decoded += piece;
    }
  }
  EXPECT_EQ(decoded, subject);
}

}  // namespace
}  // namespace habilis::mail
