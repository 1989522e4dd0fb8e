#include "server/domain/kernel/identifiers.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/text.h"

namespace habilis::domain {
namespace {

bool Invisible(UChar32 c) {
  if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) || u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL)) {
    return true;
  }
  const int8_t type = u_charType(c);
  return type == U_FORMAT_CHAR || type == U_CONTROL_CHAR || type == U_UNASSIGNED || type == U_PRIVATE_USE_CHAR ||
         type == U_SURROGATE;
}

// One checker for the process: uspoof_getSkeleton is thread-safe on a checker nobody changes.
const USpoofChecker* Checker() {
  static const USpoofChecker* checker = [] {
    UErrorCode status = U_ZERO_ERROR;
    USpoofChecker* made = uspoof_open(&status);
    if (U_FAILURE(status)) std::abort();
    return made;
  }();
  return checker;
}

}  // namespace

absl::StatusOr<std::string> NormalizeIdentifier(absl::string_view text, absl::string_view field) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
  if (U_FAILURE(status)) return absl::InternalError("ICU has no NFKC normalizer");
  icu::UnicodeString input =
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  if (input.indexOf(static_cast<UChar>(0xFFFD)) >= 0 && text.find("\xEF\xBF\xBD") == absl::string_view::npos) {
    return InvalidField(field, "INVALID_UTF8", "must be UTF-8 text");
  }
  for (int32_t i = 0; i < input.length();) {
    const UChar32 c = input.char32At(i);
    if (Invisible(c)) {
      char code[16];
      std::snprintf(code, sizeof(code), "U+%04X", static_cast<unsigned>(c));
      return InvalidField(
          field, "INVISIBLE_CHARACTER",
          absl::StrCat("contains ", code, ", an invisible or direction-changing character; type the name again"));
    }
    i += U16_LENGTH(c);
  }
  icu::UnicodeString normalized = nfkc->normalize(input, status);
  if (U_FAILURE(status)) return InvalidField(field, "INVALID_UTF8", "must be UTF-8 text");
  std::string out;
  normalized.toUTF8String(out);
  return out;
}

std::string ConfusableSkeleton(absl::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_casefold = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status)) return std::string(text);
  icu::UnicodeString folded = nfkc_casefold->normalize(
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size()))), status);
  if (U_FAILURE(status)) return std::string(text);
  icu::UnicodeString skeleton;
  uspoof_getSkeletonUnicodeString(Checker(), 0, folded, skeleton, &status);
  if (U_FAILURE(status)) return std::string(text);
  // The skeleton of a case-folded text may hold capitals again (skeletons map to prototypes): fold once more.
  icu::UnicodeString refolded = nfkc_casefold->normalize(skeleton, status);
  std::string out;
  (U_FAILURE(status) ? skeleton : refolded).toUTF8String(out);
  return out;
}

std::string SearchKey(absl::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkd = icu::Normalizer2::getNFKDInstance(status);
  if (U_FAILURE(status)) return NormalizeSpaces(text);
  icu::UnicodeString decomposed = nfkd->normalize(
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size()))), status);
  if (U_FAILURE(status)) return NormalizeSpaces(text);
  icu::UnicodeString bare;
  for (int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    if (u_charType(c) != U_NON_SPACING_MARK) bare.append(c);
    i += U16_LENGTH(c);
  }
  bare.foldCase();
  std::string out;
  bare.toUTF8String(out);
  return NormalizeSpaces(out);
}

}  // namespace habilis::domain
