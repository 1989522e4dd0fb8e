// The CSV format (server/csv): RFC 4180 quoting, line breaks, byte order marks, chunked input, and
// robustness against arbitrary bytes.
#include "server/csv/csv.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace habilis::csv {
namespace {

using ::testing::ElementsAre;

struct Row {
  int64_t line;
  std::vector<std::string> fields;
  std::string error;  // reason, or ""
  int error_field = 0;
  bool operator==(const Row&) const = default;
};

// Reads `input` fed in pieces of at most `piece` bytes (0: all at once).
std::vector<Row> Parse(const std::string& input, size_t piece = 0, ReaderLimits limits = {}) {
  std::vector<Row> rows;
  auto visit = [&](const Record& record) {
    Row row{record.line, {}, record.error ? record.error->reason : "", record.error ? record.error->field : 0};
    for (absl::string_view f : record.fields) row.fields.emplace_back(f);
    rows.push_back(std::move(row));
  };
  Reader reader(limits);
  if (piece == 0) {
    reader.Feed(input, visit);
  } else {
    for (size_t i = 0; i < input.size(); i += piece) reader.Feed(absl::string_view(input).substr(i, piece), visit);
  }
  reader.Finish(visit);
  return rows;
}

std::vector<std::vector<std::string>> Fields(const std::vector<Row>& rows) {
  std::vector<std::vector<std::string>> out;
  for (const Row& r : rows) out.push_back(r.fields);
  return out;
}

TEST(CsvReaderTest, SplitsFieldsAndRecords) {
  EXPECT_THAT(Fields(Parse("a,b,c\n1,,3\n")), ElementsAre(ElementsAre("a", "b", "c"), ElementsAre("1", "", "3")));
}

// Seed 003 warns that spreadsheets change these files: one saving "CSV" in a French locale writes semicolons.
TEST(CsvReaderTest, ASemicolonFirstLineMakesTheSemicolonTheDelimiterInAnyPieces) {
  const std::string file = "\xEF\xBB\xBF\"a;b\";c,d;e\r\n1;\"2;3\";4,5\r\n";
  for (size_t piece : {0, 1, 2, 5}) {
    EXPECT_THAT(Fields(Parse(file, piece)), ElementsAre(ElementsAre("a;b", "c,d", "e"), ElementsAre("1", "2;3", "4,5")))
        << "in pieces of " << piece;
  }
  EXPECT_THAT(Fields(Parse("a,b;c\n1,2;3")), ElementsAre(ElementsAre("a", "b;c"), ElementsAre("1", "2;3")))
      << "more commas: commas";
  EXPECT_THAT(Fields(Parse("a;b")), ElementsAre(ElementsAre("a", "b"))) << "a first line without a line break";
}

TEST(CsvReaderTest, QuotedFieldsHoldCommasDoubledQuotesAndLineBreaks) {
  std::vector<Row> rows = Parse("name,note\n\"Dupont, Jean\",\"il a dit \"\"oui\"\"\nsur deux lignes\"\nx,y\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[1].fields, ElementsAre("Dupont, Jean", "il a dit \"oui\"\nsur deux lignes"));
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[2].line, 4) << "the quoted line break counts as a physical line";
}

TEST(CsvReaderTest, CrlfLfAndLoneCrEndRecords) {
  std::vector<Row> rows = Parse("a,b\r\nc,d\ne,f\rg,h");
  EXPECT_THAT(Fields(rows),
              ElementsAre(ElementsAre("a", "b"), ElementsAre("c", "d"), ElementsAre("e", "f"), ElementsAre("g", "h")));
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[3].line, 4);
}

TEST(CsvReaderTest, CrlfInsideQuotesIsKept) {
  EXPECT_THAT(Fields(Parse("\"a\r\nb\",c\r\n")), ElementsAre(ElementsAre("a\r\nb", "c")));
}

TEST(CsvReaderTest, SkipsByteOrderMarkOnlyAtTheStart) {
  EXPECT_THAT(Fields(Parse("\xEF\xBB\xBF"
                           "a,b\n")),
              ElementsAre(ElementsAre("a", "b")));
  EXPECT_THAT(Fields(Parse("\xEF\xBB\xBF"
                           "a,b\n",
                           1)),
              ElementsAre(ElementsAre("a", "b")))
      << "a mark split across pieces";
  EXPECT_THAT(Fields(Parse("a,\xEF\xBB\xBF\n")), ElementsAre(ElementsAre("a", "\xEF\xBB\xBF")));
  EXPECT_THAT(Fields(Parse("\xEF\xBB"
                           "x\n")),
              ElementsAre(ElementsAre("\xEF\xBBx")))
      << "a partial mark is data (here invalid UTF-8)";
}

TEST(CsvReaderTest, SkipsBlankLinesButNotQuotedEmptyFields) {
  EXPECT_THAT(Fields(Parse("a\n\n\r\n\"\"\nb\n\n")), ElementsAre(ElementsAre("a"), ElementsAre(""), ElementsAre("b")));
}

TEST(CsvReaderTest, ReadsALastRecordWithoutLineBreak) {
  EXPECT_THAT(Fields(Parse("a,b\nc,\"d\"")), ElementsAre(ElementsAre("a", "b"), ElementsAre("c", "d")));
  EXPECT_THAT(Fields(Parse("a,")), ElementsAre(ElementsAre("a", "")));
  EXPECT_TRUE(Parse("").empty());
  EXPECT_TRUE(Parse("\xEF\xBB\xBF").empty());
}

TEST(CsvReaderTest, ReportsAQuoteInAnUnquotedFieldAndGoesOn) {
  std::vector<Row> rows = Parse("a,b\"c\nd,e\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].error, "QUOTE_IN_UNQUOTED_FIELD");
  EXPECT_EQ(rows[0].error_field, 2);
  EXPECT_EQ(rows[1].error, "");
  EXPECT_THAT(rows[1].fields, ElementsAre("d", "e"));
}

TEST(CsvReaderTest, ReportsTextAfterAClosingQuote) {
  std::vector<Row> rows = Parse("\"a\"b,c\nd\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].error, "TEXT_AFTER_CLOSING_QUOTE");
  EXPECT_EQ(rows[0].error_field, 1);
  EXPECT_THAT(rows[1].fields, ElementsAre("d"));
}

TEST(CsvReaderTest, ReportsAnUnterminatedQuoteAtTheLineWhereTheRecordBegan) {
  std::vector<Row> rows = Parse("a\nb,\"never closed\nc\nd\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[1].error, "UNTERMINATED_QUOTE");
  EXPECT_EQ(rows[1].error_field, 2);
}

TEST(CsvReaderTest, ReportsInvalidUtf8) {
  std::vector<Row> rows = Parse("ok,caf\xE9\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].error, "INVALID_UTF8") << "Latin-1, not UTF-8";
  EXPECT_EQ(rows[0].error_field, 2);
  EXPECT_EQ(Parse("ok,caf\xC3\xA9\n")[0].error, "");
}

TEST(CsvReaderTest, EnforcesLimits) {
  std::vector<Row> rows = Parse("aaaaaa,b\nc\n", 0, {.max_field_bytes = 4, .max_fields = 8});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].error, "FIELD_TOO_LONG");
  EXPECT_EQ(rows[1].error, "");
  rows = Parse("a,b,c\nd\n", 0, {.max_field_bytes = 4, .max_fields = 2});
  EXPECT_EQ(rows[0].error, "TOO_MANY_FIELDS");
  EXPECT_THAT(rows[1].fields, ElementsAre("d"));
}

TEST(CsvWriterTest, QuotesOnlyWhatNeedsIt) {
  std::string out;
  Writer writer(out, /*guard_formulas=*/false);
  for (absl::string_view f : {"plain", "a,b", "say \"hi\"", "two\nlines", "", "=1+1"}) writer.Field(f);
  writer.EndRecord();
  EXPECT_EQ(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,=1+1\r\n");
}

TEST(CsvWriterTest, GuardsFormulasAndImportUndoesIt) {
  std::string out;
  Writer writer(out, /*guard_formulas=*/true);
  for (absl::string_view f : {"=HYPERLINK(\"x\")", "+33 6 12", "-", "@a", "safe", "'quoted"}) writer.Field(f);
  writer.EndRecord();
  EXPECT_EQ(out, "\"'=HYPERLINK(\"\"x\"\")\",'+33 6 12,'-,'@a,safe,'quoted\r\n");
  std::vector<Row> rows = Parse(out);
  ASSERT_EQ(rows.size(), 1u);
  std::vector<std::string> unguarded;
  for (const std::string& f : rows[0].fields) unguarded.emplace_back(UnguardFormula(f));
  EXPECT_THAT(unguarded, ElementsAre("=HYPERLINK(\"x\")", "+33 6 12", "-", "@a", "safe", "'quoted"));
}

// 1 to 6 random records of 1 to 5 fields, of the characters CSV treats specially among others.
std::vector<std::vector<std::string>> RandomRecords(std::mt19937& random) {
  const std::string alphabet[] = {"a", "Z", "0", " ", ",", "\"", "\n", "\r", "\r\n", "é", "€", "'", "="};
  std::vector<std::vector<std::string>> records(1 + random() % 6);
  for (auto& record : records) {
    record.resize(1 + random() % 5);
    for (std::string& field : record) {
      size_t length = random() % 8;
      for (size_t i = 0; i < length; ++i) field += alphabet[random() % std::size(alphabet)];
    }
    if (record.size() == 1 && record[0].empty()) record[0] = "x";  // a lone empty field is a blank line
  }
  return records;
}

// Random records written by Writer read back the same, whatever the cut of the input into pieces.
TEST(CsvPropertyTest, WhatTheWriterWritesTheReaderReadsBackInAnyPieces) {
  std::mt19937 random(20261122);
  for (int round = 0; round < 300; ++round) {
    const std::vector<std::vector<std::string>> records = RandomRecords(random);
    std::string file = round % 2 ? std::string(kByteOrderMark) : "";
    Writer writer(file, false);
    for (const auto& record : records) {
      for (const std::string& f : record) writer.Field(f);
      writer.EndRecord();
    }
    for (size_t piece : {size_t{0}, size_t{1}, size_t{2}, size_t{7}}) {
      std::vector<Row> rows = Parse(file, piece);
      ASSERT_EQ(Fields(rows), records) << "round " << round << ", pieces of " << piece;
      for (const Row& row : rows) EXPECT_EQ(row.error, "");
    }
  }
}

// Arbitrary bytes never crash the reader, and reading them in pieces gives what reading them at once does.
TEST(CsvPropertyTest, ArbitraryBytesAreReadTheSameInAnyPieces) {
  std::mt19937 random(7);
  const char bytes[] = {'a', ',', '"', '\n', '\r', '\xEF', '\xBB', '\xBF', '\xC3', '\xA9', '\0', ' '};
  for (int round = 0; round < 2000; ++round) {
    std::string input;
    size_t length = random() % 40;
    for (size_t i = 0; i < length; ++i) input += bytes[random() % std::size(bytes)];
    std::vector<Row> whole = Parse(input, 0, {.max_field_bytes = 6, .max_fields = 5});
    for (size_t piece : {size_t{1}, size_t{3}}) {
      EXPECT_EQ(Parse(input, piece, {.max_field_bytes = 6, .max_fields = 5}), whole) << "round " << round;
    }
    int64_t previous_line = 0;
    for (const Row& row : whole) {
      EXPECT_GT(row.line, previous_line) << "records come in line order";
      previous_line = row.line;
      EXPECT_LE(row.fields.size(), 5u);
    }
  }
}

}  // namespace
}  // namespace habilis::csv
