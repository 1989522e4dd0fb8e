#include "server/csv/csv.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/text.h"

namespace habilis::csv {

void Reader::Feed(absl::string_view bytes, Visitor visit) {
  if (!start_checked_) {
    // Hold the first bytes back until we know whether they are a byte order mark.
    while (!bytes.empty() && start_.size() < kByteOrderMark.size()) {
      start_.push_back(bytes.front());
      bytes.remove_prefix(1);
      if (!absl::StartsWith(kByteOrderMark, start_)) break;
    }
    if (start_ == kByteOrderMark) {
      start_checked_ = true;
    } else if (!absl::StartsWith(kByteOrderMark, start_)) {
      start_checked_ = true;
      first_line_.append(start_);  // not a mark: the start of the first line, still undecided
    } else {
      return;  // a prefix of the mark so far: wait for more
    }
    start_.clear();
  }
  if (delimiter_ == 0) return DetectDelimiter(bytes, /*at_end=*/false, visit);
  for (char c : bytes) Consume(c, visit);
}

namespace {

// The delimiter `line` uses, once it holds a whole first line (or `at_end`); 0 while that is not known.
char DelimiterOf(absl::string_view line, bool at_end) {
  int commas = 0, semicolons = 0;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;  // a doubled quote toggles twice: still inside
    if (quoted) continue;
    if (c == ',') ++commas;
    if (c == ';') ++semicolons;
    if (c == '\r' || c == '\n') return semicolons > commas ? ';' : ',';
  }
  if (!at_end) return 0;
  return semicolons > commas ? ';' : ',';
}

// The first line held back to find its delimiter: a header, so a few KiB; past this, decide on what came.
constexpr size_t kMaxFirstLineBytes = 1 << 20;

}  // namespace

void Reader::DetectDelimiter(absl::string_view bytes, bool at_end, Visitor visit) {
  first_line_.append(bytes.data(), bytes.size());
  delimiter_ = DelimiterOf(first_line_, at_end || first_line_.size() >= kMaxFirstLineBytes);
  if (delimiter_ == 0) return;
  std::string held = std::move(first_line_);
  first_line_.clear();
  for (char c : held) Consume(c, visit);
}

void Reader::Finish(Visitor visit) {
  if (!start_checked_) {
    start_checked_ = true;
    first_line_.append(start_);
  }
  if (delimiter_ == 0) DetectDelimiter("", /*at_end=*/true, visit);
  if (state_ == State::kQuoted) {
    Fail("UNTERMINATED_QUOTE", "a quoted field is never closed: a quote is missing");
  }
  if (record_started_) {
    EndField();
    EndRecord(visit);
  }
}

void Reader::Fail(absl::string_view reason, absl::string_view message) {
  if (error_) return;
  error_ = SyntaxError{static_cast<int>(ends_.size()) + 1, std::string(reason), std::string(message)};
}

void Reader::Append(char c) {
  if (dropping_) return;
  if (buffer_.size() - field_begin_ >= limits_.max_field_bytes) {
    Fail("FIELD_TOO_LONG", absl::StrCat("a field is longer than ", limits_.max_field_bytes, " bytes"));
    dropping_ = true;
    return;
  }
  buffer_.push_back(c);
}

void Reader::EndField() {
  if (dropping_) return;
  if (ends_.size() >= limits_.max_fields) {
    Fail("TOO_MANY_FIELDS", absl::StrCat("a row has more than ", limits_.max_fields, " fields"));
    dropping_ = true;
    return;
  }
  if (habilis::Utf8Length(absl::string_view(buffer_).substr(field_begin_)) < 0) {
    Fail("INVALID_UTF8", "the field is not valid UTF-8: save the file as UTF-8");
  }
  ends_.push_back(buffer_.size());
  field_begin_ = buffer_.size();
}

bool Reader::Delimits(char c, bool line_break, Visitor visit) {
  if (c == delimiter_) {
    EndField();
    state_ = State::kFieldStart;
    return true;
  }
  if (line_break) {
    EndField();
    EndRecord(visit);
    return true;
  }
  return false;
}

void Reader::EndRecord(Visitor visit) {
  const bool blank = ends_.size() == 1 && ends_[0] == 0 && !record_quoted_ && !error_;
  if (!blank) {
    Record record;
    record.line = record_line_;
    record.fields.reserve(ends_.size());
    size_t begin = 0;
    for (size_t end : ends_) {
      record.fields.push_back(absl::string_view(buffer_).substr(begin, end - begin));
      begin = end;
    }
    record.error = std::move(error_);
    visit(record);
  }
  buffer_.clear();
  ends_.clear();
  field_begin_ = 0;
  error_.reset();
  dropping_ = false;
  record_started_ = false;
  record_quoted_ = false;
  state_ = State::kFieldStart;
}

void Reader::Consume(char c, Visitor visit) {
  // A CR that ended a record is followed by the LF of its CRLF: that LF ends nothing more.
  const bool lf_after_cr = c == '\n' && previous_was_cr_;
  previous_was_cr_ = c == '\r';
  const int64_t line = line_;
  if (c == '\r' || (c == '\n' && !lf_after_cr)) ++line_;

  if (!record_started_) {
    if (lf_after_cr) return;
    record_started_ = true;
    record_line_ = line;
  }
  const bool line_break = c == '\r' || c == '\n';
  switch (state_) {
    case State::kFieldStart:
      if (c == '"') {
        state_ = State::kQuoted;
        record_quoted_ = true;
        return;
      }
      state_ = State::kUnquoted;
      [[fallthrough]];
    case State::kUnquoted:
      if (Delimits(c, line_break, visit)) return;
      if (c == '"') {
        Fail("QUOTE_IN_UNQUOTED_FIELD",
             "a quote inside a field that does not begin with one: quote the whole "
             "field and double the quote (\"a \"\"b\"\" c\")");
      }
      Append(c);
      return;
    case State::kQuoted:
      if (c == '"') {
        state_ = State::kQuoteInQuoted;
      } else {
        Append(c);
      }
      return;
    case State::kQuoteInQuoted:
      if (c == '"') {  // a doubled quote
        Append(c);
        state_ = State::kQuoted;
      } else if (!Delimits(c, line_break, visit)) {
        Fail("TEXT_AFTER_CLOSING_QUOTE",
             "text follows the closing quote of a field: double the quote if it is "
             "part of the field");
        Append(c);
        state_ = State::kUnquoted;
      }
      return;
  }
}

void Writer::Field(absl::string_view value) {
  if (!first_) out_.push_back(',');
  first_ = false;
  const bool guard = guard_formulas_ && !value.empty() &&
                     (value.front() == '=' || value.front() == '+' || value.front() == '-' || value.front() == '@' ||
                      value.front() == '\t' || value.front() == '\r');
  const bool quote = value.find_first_of(",\"\r\n") != absl::string_view::npos;
  if (quote) out_.push_back('"');
  if (guard) out_.push_back('\'');
  for (char c : value) {
    if (c == '"') out_.push_back('"');
    out_.push_back(c);
  }
  if (quote) out_.push_back('"');
}

void Writer::EndRecord() {
  out_.append("\r\n");
  first_ = true;
}

absl::string_view UnguardFormula(absl::string_view cell) {
  if (cell.size() >= 2 && cell[0] == '\'' &&
      (cell[1] == '=' || cell[1] == '+' || cell[1] == '-' || cell[1] == '@' || cell[1] == '\t' || cell[1] == '\r')) {
    cell.remove_prefix(1);
  }
  return cell;
}

}  // namespace habilis::csv
