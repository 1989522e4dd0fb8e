#include "server/domain/organisation/siret.h"

#include "absl/strings/ascii.h"

namespace habilis::domain {
namespace {

constexpr absl::string_view kLaPosteSiren = "356000000";

bool LuhnValid(absl::string_view digits) {
  int sum = 0;
  bool double_it = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

int DigitSum(absl::string_view digits) {
  int sum = 0;
  for (char c : digits) sum += c - '0';
  return sum;
}

}  // namespace

SiretCheck CheckSiret(absl::string_view siret) {
  if (siret.size() != 14) return SiretCheck::kNotFourteenDigits;
  for (char c : siret) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return SiretCheck::kNotFourteenDigits;
  }
  // La Poste numbers its establishments past what Luhn allows; their digits sum to a multiple of 5. Its
  // head office (35600000000048) is Luhn-valid but not such a multiple, so either check admits a La Poste SIRET.
  if (SirenOf(siret) == kLaPosteSiren && DigitSum(siret) % 5 == 0) return SiretCheck::kValid;
  return LuhnValid(siret) ? SiretCheck::kValid : SiretCheck::kBadChecksum;
}

}  // namespace habilis::domain
