#include "server/domain/files/spreadsheet_cells.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace habilis::domain {
namespace {

bool AllDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

// "1234567890123456", "1.23457E+15", "1,23457E+15": what a spreadsheet writes for a number.
bool LooksLikeANumber(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.' || c == ',' || c == 'E' || c == '+' ||
           c == '-';
  });
}

std::string ZerosInFront(absl::string_view digits, size_t length) {
  if (!AllDigits(digits) || digits.size() >= length) return std::string(digits);
  return absl::StrCat(std::string(length - digits.size(), '0'), digits);
}

}  // namespace

std::string RestoreSpreadsheetCell(absl::string_view column, absl::string_view cell, absl::string_view country) {
  const bool france = country.empty() || country == "FR";
  if (column == "organism_id") return ZerosInFront(cell, 14);
  if (column == "organism_siren") return ZerosInFront(cell, 9);
  if (column == "organism_nic") return ZerosInFront(cell, 5);
  if (column == "profil_postalCode" && france && cell.size() == 4) return ZerosInFront(cell, 5);
  if ((column == "profil_phone" || column == "profil_cellPhone" || column == "profil_fax") && france &&
      cell.size() == 9 && AllDigits(cell)) {
    return absl::StrCat("0", cell);
  }
  // Account ids are 16 hex digits: one made of digits only, or of digits and one 'e', is a number to a
  // spreadsheet, which keeps 15 significant digits of it.
  if (column == "profil_id" && LooksLikeANumber(cell) && !AllDigits(cell)) return "";
  if (column == "profil_id" && AllDigits(cell) && cell.size() != 16) return "";
  return std::string(cell);
}

}  // namespace habilis::domain
