// Seed 003 warns that a spreadsheet changes these files («le traitement de ces fichiers dans certains tableurs
// comme Microsoft Excel peut entraîner une modification du format»). Opened and saved again, a column it reads
// as numbers loses its leading zeros ("00074" becomes "74", "0298000000" becomes "298000000"). What can be
// recognised without doubt is put back here, before any check, so that a re-saved file imports as the exported
// one would. Semicolons as separators are the CSV reader's (server/csv/csv.h); TRUE and FALSE read as booleans.
#ifndef HABILIS_SERVER_DOMAIN_FILES_SPREADSHEET_CELLS_H_
#define HABILIS_SERVER_DOMAIN_FILES_SPREADSHEET_CELLS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace habilis::domain {

// The cell of `column` as it was before a spreadsheet read it as a number; `country` is the row's
// profil_country ("" when the file has none, which means France).
// - organism_id, organism_siren, organism_nic: digits only and shorter than 14, 9 or 5: zeros in front.
// - profil_postalCode, in France: four digits get their leading zero (French codes have five).
// - profil_phone, profil_cellPhone, profil_fax, in France: nine digits get their leading 0 (national numbers
//   have ten, and begin with 0).
// - profil_id: a number (digits only, or in a spreadsheet's exponent form) is no longer the id it was: the
//   cell is emptied, and the login alone names the account.
// Anything else is returned as it is.
std::string RestoreSpreadsheetCell(absl::string_view column, absl::string_view cell, absl::string_view country);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_FILES_SPREADSHEET_CELLS_H_
