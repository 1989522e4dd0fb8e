// The call log's lines: valid JSON whatever bytes a client put in the fields it may choose, the level a call
// deserves, and nothing but the listed fields.
#include "server/common/call_log.h"

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"

namespace habilis {
namespace {

google::protobuf::Struct Parse(const std::string& line) {
  google::protobuf::Struct parsed;
  auto status = google::protobuf::util::JsonStringToMessage(line, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << ": " << line;
  return parsed;
}

TEST(CallLogTest, ALineIsOneJsonObjectWhateverTheClientChose) {
  const std::string hostile = "a\"b\\c\nd\x01\x7f\xc3\xa9\xff\xe2\x80";  // quote, backslash, controls, é, bad UTF-8
  CallRecord call{"habilis.v1.AccountService/CreateAccount",
                  Error(absl::StatusCode::kAlreadyExists, "LOGIN_TAKEN", "message not logged"),
                  absl::FromUnixMicros(1000),
                  "accounts/0123456789abcdef",
                  hostile,
                  false};
  const std::string line = FormatCallLine(call, absl::FromUnixMicros(3500));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  google::protobuf::Struct parsed = Parse(line);
  const auto& f = parsed.fields();
  EXPECT_EQ(f.at("method").string_value(), "habilis.v1.AccountService/CreateAccount");
  EXPECT_EQ(f.at("code").string_value(), "ALREADY_EXISTS");
  EXPECT_EQ(f.at("reason").string_value(), "LOGIN_TAKEN");
  EXPECT_EQ(f.at("latency_us").number_value(), 2500);
  EXPECT_EQ(f.at("principal").string_value(), "accounts/0123456789abcdef");
  // Each byte of a broken sequence becomes U+FFFD.
  EXPECT_EQ(f.at("request_id").string_value(), "a\"b\\c\nd\x01\x7f\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(f.at("level").string_value(), "info");
  EXPECT_EQ(f.count("message"), 0u) << "messages may quote what the client sent";
  EXPECT_EQ(f.size(), 8u);
}

TEST(CallLogTest, TheLevelSaysWhoseBusinessItIs) {
  CallRecord call{"habilis.v1.AccessService/CheckAccess", absl::OkStatus(), absl::Now(), "", "", true};
  EXPECT_EQ(LevelOf(call), LogLevel::kDebug);
  call.status = absl::PermissionDeniedError("no");
  EXPECT_EQ(LevelOf(call), LogLevel::kDebug);
  call.status = absl::ResourceExhaustedError("busy");
  EXPECT_EQ(LevelOf(call), LogLevel::kWarning);
  call.status = absl::InternalError("bug");
  EXPECT_EQ(LevelOf(call), LogLevel::kError);
  call.routine = false;
  call.status = absl::InvalidArgumentError("bad");
  EXPECT_EQ(LevelOf(call), LogLevel::kInfo);
  LogLevel level;
  EXPECT_TRUE(ParseLogLevel("warning", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
}

}  // namespace
}  // namespace habilis
