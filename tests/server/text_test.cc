
#include "server/common/text.h"

#include "gtest/gtest.h"

namespace habilis::domain {
namespace {

TEST(Text, FoldNameIgnoresCaseAndExtraSpacesButKeepsAccents) {
  EXPECT_EQ(FoldName("  Ressources   HUMAINES "), "ressources humaines");
  EXPECT_EQ(FoldName("ÉCOLES"), "écoles");
  EXPECT_EQ(FoldName("Œuvres"), "œuvres");
  EXPECT_NE(FoldName("Écoles"), FoldName("Ecoles"));
}

TEST(Text, Utf8LengthCountsCodePointsAndRejectsInvalidBytes) {
  EXPECT_EQ(Utf8Length("Générale"), 8);
  EXPECT_EQ(Utf8Length("\xC3"), -1);          // truncated
  EXPECT_EQ(Utf8Length("\xC0\xAF"), -1);      // overlong
  EXPECT_EQ(Utf8Length("\xED\xA0\x80"), -1);  // surrogate
}

TEST(Text, CheckTextReportsEachProblem) {
  FieldViolations violations;
  CheckText(violations, "a", "   ", 10, true);
  CheckText(violations, "b", "abcdef", 5, false);
  CheckText(violations, "c", "tab\there", 50, false);
  CheckText(violations, "d", "\xFF", 50, false);
  CheckText(violations, "e", "", 5, false);
  absl::Status status = violations.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(status), "REQUIRED");
  EXPECT_NE(status.message().find("b: must be at most 5 characters"), absl::string_view::npos);
  EXPECT_NE(status.message().find("c: must not contain control characters"), absl::string_view::npos);
  EXPECT_NE(status.message().find("d: must be valid UTF-8"), absl::string_view::npos);
  EXPECT_EQ(status.message().find("e:"), absl::string_view::npos);
}

TEST(Text, ResourceIds) {
  EXPECT_TRUE(IsValidResourceId("finances"));
  EXPECT_TRUE(IsValidResourceId("rh-2"));
  EXPECT_FALSE(IsValidResourceId(""));
  EXPECT_FALSE(IsValidResourceId("2rh"));
  EXPECT_FALSE(IsValidResourceId("rh-"));
  EXPECT_FALSE(IsValidResourceId("Finances"));
  EXPECT_FALSE(IsValidResourceId(std::string(64, 'a')));
}

}  // namespace
}  // namespace habilis::domain
