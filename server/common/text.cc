#include "server/common/text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace habilis {
namespace {

// Decodes one code point at text[*i], advancing *i; -1 if invalid.
long DecodeUtf8(absl::string_view text, size_t* i) {
  unsigned char c = static_cast<unsigned char>(text[*i]);
  int extra;
  long cp;
  if (c < 0x80) {
    ++*i;
    return c;
  } else if ((c & 0xE0) == 0xC0) {
    extra = 1;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3;
    cp = c & 0x07;
  } else {
    return -1;
  }
  if (*i + extra >= text.size()) return -1;
  for (int k = 1; k <= extra; ++k) {
    unsigned char cc = static_cast<unsigned char>(text[*i + k]);
    if ((cc & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static constexpr long kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *i += extra + 1;
  return cp;
}

void AppendUtf8(std::string* out, long cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

long LowerLatin(long cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;  // À..Þ except ×
  if (cp == 0x152) return 0x153;                               // Œ
  if (cp == 0x178) return 0xFF;                                // Ÿ
  return cp;
}

}  // namespace

long Utf8Length(absl::string_view text) {
  long count = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (DecodeUtf8(text, &i) < 0) return -1;
    ++count;
  }
  return count;
}

std::string NormalizeSpaces(absl::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string FoldName(absl::string_view name) {
  std::string normalized = NormalizeSpaces(name);
  std::string out;
  size_t i = 0;
  while (i < normalized.size()) {
    long cp = DecodeUtf8(normalized, &i);
    if (cp < 0) return normalized;  // callers validate UTF-8 first
    AppendUtf8(&out, LowerLatin(cp));
  }
  return out;
}

void CheckText(FieldViolations& violations, absl::string_view field, absl::string_view text, size_t max_chars,
               bool required) {
  long length = Utf8Length(text);
  if (length < 0) {
    violations.Add(field, "NOT_UTF8", "must be valid UTF-8");
    return;
  }
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      violations.Add(field, "CONTROL_CHARACTER", "must not contain control characters");
      return;
    }
  }
  if (required && NormalizeSpaces(text).empty()) {
    violations.Add(field, "REQUIRED", "is required");
    return;
  }
  if (static_cast<size_t>(length) > max_chars) {
    violations.Add(field, "TOO_LONG", absl::StrCat("must be at most ", max_chars, " characters"));
  }
}

bool IsValidResourceId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  if (!absl::ascii_islower(static_cast<unsigned char>(id.front())) || id.back() == '-') return false;
  for (char c : id) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_islower(u) && !absl::ascii_isdigit(u) && c != '-') return false;
  }
  return true;
}

}  // namespace habilis
