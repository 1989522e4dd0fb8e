// RFC 4180 CSV, read incrementally and written with the quoting the RFC asks for.
//
// Our own small parser rather than a library: Debian has none for C++ that parses from a stream of chunks,
// reports physical line numbers, and never throws. It is a byte-at-a-time state machine with no
// look-ahead, so a file can arrive in pieces of any size (tests/server/csv_test.cc feeds it one byte at a
// time and at random cuts, and throws random bytes at it).
#ifndef HABILIS_SERVER_CSV_CSV_H_
#define HABILIS_SERVER_CSV_CSV_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace habilis::csv {

// A problem with the syntax of one record.
struct SyntaxError {
  // 1-based index of the field where it was found.
  int field = 0;
  // UPPER_SNAKE: QUOTE_IN_UNQUOTED_FIELD, TEXT_AFTER_CLOSING_QUOTE, UNTERMINATED_QUOTE, INVALID_UTF8,
  // FIELD_TOO_LONG, TOO_MANY_FIELDS.
  std::string reason;
  std::string message;
};

// One record (one row) of the file.
struct Record {
  // The physical line where the record begins, counting from 1; a quoted field may span several lines.
  int64_t line = 0;
  // The fields, unquoted. Valid until the callback returns.
  std::vector<absl::string_view> fields;
  // The first syntax problem of the record, if any; the fields are then the parser's best reading.
  std::optional<SyntaxError> error;
};

struct ReaderLimits {
  size_t max_field_bytes = 64 * 1024;
  size_t max_fields = 1024;
};

// Reads records from bytes pushed in pieces.
// - Fields are separated by commas, or by semicolons when the first line has more semicolons than commas
//   outside quotes (a spreadsheet saving "CSV" in a French locale writes semicolons; seed 003 warns that
//   spreadsheets change these files). Records end with CRLF, LF or a lone CR. Fields containing commas,
//   quotes or line breaks are quoted with ", and a quote inside them is doubled.
// - A UTF-8 byte order mark at the very start is skipped. Fields must be valid UTF-8.
// - Blank lines are skipped. A last record without a line break is read by Finish.
// - Problems are reported on the record, which is still delivered, and reading goes on with the next one.
class Reader {
 public:
  using Visitor = absl::FunctionRef<void(const Record&)>;

  explicit Reader(ReaderLimits limits = {}) : limits_(limits) {}

  // Reads `bytes`, calling `visit` for each record they complete.
  void Feed(absl::string_view bytes, Visitor visit);
  // End of input: delivers the last record if it had no line break (or an unterminated quoted field).
  void Finish(Visitor visit);

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };

  // Holds the first line back until it is complete, then decides the delimiter and reads it.
  void DetectDelimiter(absl::string_view bytes, bool at_end, Visitor visit);
  void Consume(char c, Visitor visit);
  void Append(char c);
  void EndField();
  void EndRecord(Visitor visit);
  // Outside quotes, a comma ends the field and a line break ends the field and the record: true if `c` was
  // one of them (and was handled).
  bool Delimits(char c, bool line_break, Visitor visit);
  void Fail(absl::string_view reason, absl::string_view message);

  ReaderLimits limits_;
  char delimiter_ = 0;      // 0 until the first line decides it
  std::string first_line_;  // held back meanwhile
  // Byte order mark detection: the first bytes, until they are known to be a BOM or not.
  bool start_checked_ = false;
  std::string start_;

  State state_ = State::kFieldStart;
  int64_t line_ = 1;  // physical line of the next byte
  bool previous_was_cr_ = false;
  bool record_started_ = false;
  bool record_quoted_ = false;  // some field of the record was quoted (so it is not a blank line)
  int64_t record_line_ = 1;
  std::string buffer_;        // the record's fields, one after another
  std::vector<size_t> ends_;  // end offset of each finished field in buffer_
  size_t field_begin_ = 0;
  bool dropping_ = false;  // the record has too many fields or too long a field: drop the rest
  std::optional<SyntaxError> error_;
};

// Appends a record to a string, quoting fields that need it, ending it with CRLF (RFC 4180).
class Writer {
 public:
  // With `guard_formulas`, a cell that begins with = + - @, a tab or a carriage return gets a leading
  // apostrophe, so that a spreadsheet shows it instead of running it (see UnguardFormula).
  Writer(std::string& out, bool guard_formulas) : out_(out), guard_formulas_(guard_formulas) {}
  void Field(absl::string_view value);
  void EndRecord();

 private:
  std::string& out_;
  bool guard_formulas_;
  bool first_ = true;
};

inline constexpr absl::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Undoes Writer's formula guard: "'=SUM(A1)" -> "=SUM(A1)". Anything else is returned unchanged.
absl::string_view UnguardFormula(absl::string_view cell);

}  // namespace habilis::csv

#endif  // HABILIS_SERVER_CSV_CSV_H_
