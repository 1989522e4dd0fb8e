// Checks and normal forms for the free text fields people type.
#ifndef HABILIS_SERVER_COMMON_TEXT_H_
#define HABILIS_SERVER_COMMON_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "server/common/errors.h"

namespace habilis {

// Number of code points of valid UTF-8, or -1 if `text` is not valid UTF-8.
long Utf8Length(absl::string_view text);

// Leading and trailing white space removed, inner runs of white space collapsed to one space.
std::string NormalizeSpaces(absl::string_view text);

// The key under which two names count as the same name: spaces normalized, then lower-cased, for ASCII and
// the Latin letters French uses (À-Þ, Œ, Ÿ). Accents are kept: "Écoles" and "ecoles" are different names.
std::string FoldName(absl::string_view name);

// Adds a violation unless `text` is valid UTF-8 without control characters, of at most `max_chars` code
// points, and (if `required`) not blank.
void CheckText(FieldViolations& violations, absl::string_view field, absl::string_view text, size_t max_chars,
               bool required);

// Resource ids chosen by callers: 1 to 63 of [a-z0-9-], starting with a letter, not ending with '-'.
bool IsValidResourceId(absl::string_view id);

}  // namespace habilis

#endif  // HABILIS_SERVER_COMMON_TEXT_H_
