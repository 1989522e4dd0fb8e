// STR-1: a SIRET is 14 digits (SIREN 9 + NIC 5) passing the Luhn check. One exception: La Poste's
// establishments (SIREN 356000000) may instead have digits that sum to a multiple of 5.
#ifndef HABILIS_SERVER_DOMAIN_ORGANISATION_SIRET_H_
#define HABILIS_SERVER_DOMAIN_ORGANISATION_SIRET_H_

#include "absl/strings/string_view.h"

namespace habilis::domain {

enum class SiretCheck { kValid, kNotFourteenDigits, kBadChecksum };

SiretCheck CheckSiret(absl::string_view siret);

inline absl::string_view SirenOf(absl::string_view siret) { return siret.substr(0, 9); }
inline absl::string_view NicOf(absl::string_view siret) { return siret.substr(9, 5); }

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_ORGANISATION_SIRET_H_
