// STR-1: SIRET vectors.
#include "server/domain/organisation/siret.h"

#include "gtest/gtest.h"

namespace habilis::domain {
namespace {

TEST(Siret, STR_1_acceptsLuhnValidSirets) {
  EXPECT_EQ(CheckSiret("73282932000074"), SiretCheck::kValid);
  EXPECT_EQ(CheckSiret("44306184100047"), SiretCheck::kValid);
  EXPECT_EQ(CheckSiret("55210055400013"), SiretCheck::kValid);
}

TEST(Siret, STR_1_refusesABadChecksum) {
  EXPECT_EQ(CheckSiret("73282932000075"), SiretCheck::kBadChecksum);
  EXPECT_EQ(CheckSiret("12345678901234"), SiretCheck::kBadChecksum);
}

TEST(Siret, STR_1_refusesAnythingButFourteenDigits) {
  EXPECT_EQ(CheckSiret(""), SiretCheck::kNotFourteenDigits);
  EXPECT_EQ(CheckSiret("7328293200007"), SiretCheck::kNotFourteenDigits);
  EXPECT_EQ(CheckSiret("732829320000740"), SiretCheck::kNotFourteenDigits);
  EXPECT_EQ(CheckSiret("732 829 320 00074"), SiretCheck::kNotFourteenDigits);
  EXPECT_EQ(CheckSiret("7328293200007A"), SiretCheck::kNotFourteenDigits);
}

TEST(Siret, STR_1_laPosteEstablishmentsUseTheSumOfDigits) {
  // Digits sum to 15: not Luhn-valid, valid for La Poste.
  EXPECT_EQ(CheckSiret("35600000000001"), SiretCheck::kValid);
  // Its head office is Luhn-valid.
  EXPECT_EQ(CheckSiret("35600000000048"), SiretCheck::kValid);
  // Neither rule holds.
  EXPECT_EQ(CheckSiret("35600000000000"), SiretCheck::kBadChecksum);
}

TEST(Siret, STR_1_theSumRuleIsOnlyForLaPoste) {
  // Digits sum to 15 but the SIREN is not La Poste's, and Luhn fails.
  EXPECT_EQ(CheckSiret("35600000100000"), SiretCheck::kBadChecksum);
}

TEST(Siret, SirenAndNicAreDerived) {
  EXPECT_EQ(SirenOf("73282932000074"), "732829320");
  EXPECT_EQ(NicOf("73282932000074"), "00074");
}

}  // namespace
}  // namespace habilis::domain
