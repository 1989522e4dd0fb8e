// Common passwords refused by CheckPasswordStrength: passwords of 12 characters or more that recur in
// published breach corpora and in French usage, lower case and sorted. Extend it freely: keep it sorted.
#include "server/domain/kernel/common_passwords.h"

#include <algorithm>
#include <iterator>

namespace habilis::domain {
namespace {

constexpr absl::string_view kCommonPasswords[] = {
    "000000000000",     "0123456789ab",      "098765432109",     "111111111111",      "112233445566",
    "121212121212",     "123123123123",      "123321123321",     "12345678900",       "123456789000",
    "123456789012",     "1234567890123",     "12345678901234",   "1234567890ab",      "1234567890qwerty",
    "1234567891011",    "12345678910111213", "123456789123",     "123456789abc",      "123456azerty",
    "123456qwerty",     "147258369147",      "159753159753",     "1q2w3e4r5t6y",      "1qaz2wsx3edc",
    "1qazxsw23edc",     "456789123456",      "741852963741",     "789456123789",      "987654321098",
    "a1z2e3r4t5y6",     "aaaaaaaaaaaa",      "abc123456789",     "abc123abc123",      "abcabcabcabc",
    "abcd1234abcd",     "abcdefghijkl",      "abcdefghijklm",    "admin1234567",      "admin12345678",
    "adminadmin123",    "administrateur",    "administrateur1",  "administrateur123", "administrator",
    "administrator1",   "administrator123",  "asdfasdfasdf",     "asdfghjkl123",      "automne2025",
    "autumn202512",     "azerty123456",      "azerty12345678",   "azertyazerty",      "azertyuiop12",
    "azertyuiop123",    "azertyuiopqs",      "azertyuiopqsdf",   "baseball1234",      "bienvenue123",
    "bienvenue1234",    "bienvenue2024",     "bienvenue2025",    "bienvenue2026",     "bonjour12345",
    "bonjour123456",    "bonjourbonjour",    "camille12345",     "changeme1234",      "changemenow1",
    "changemenow123",   "chocolat1234",      "chocolat12345",    "commune12345",      "comptabilite1",
    "comptabilite123",  "decembre2025",      "decembre2026",     "doudou123456",      "dragon123456",
    "entreprise123",    "fevrier2026",       "football1234",     "football12345",     "habilis12345",
    "habilis123456",    "hiver2025hiver",    "iloveyou1234",     "iloveyou12345",     "iloveyouiloveyou",
    "janvier2025",      "janvier2026",       "jetaime123456",    "jetaimejetaime",    "letmein12345",
    "letmein123456",    "mairie123456",      "marseille1234",    "marseille13013",    "master123456",
    "monkey123456",     "monmotdepasse",     "monmotdepasse1",   "monmotdepasse123",  "motdepasse12",
    "motdepasse123",    "motdepasse1234",    "motdepasse2024",   "motdepasse2025",    "motdepasse2026",
    "motdepasseoublie", "mypassword123",     "nicolas12345",     "nouveaumotdepasse", "novembre2025",
    "novembre2026",     "octobre2025",       "p@ssw0rd1234",     "p@ssword1234",      "paris1234567",
    "parisparis12",     "passw0rd1234",      "password123!",     "password1234",      "password1234!",
    "password12345",    "password123456",    "password2024",     "password2025",      "password2026",
    "passwordpassword", "portail12345",      "princess1234",     "printemps2025",     "q1w2e3r4t5y6",
    "qazwsxedcrfv",     "qwerty123456",      "qwerty12345678",   "qwerty1234567890",  "qwertyqwerty",
    "qwertyuiop12",     "qwertyuiop123",     "qwertyuiopas",     "qwertyuiopasdf",    "qwertyuiopasdfgh",
    "secretariat1",     "secretariat123",    "secretpassword",   "septembre2025",     "shadow123456",
    "soleil123456",     "soleilsoleil",      "spring202512",     "starwars1234",      "summer202512",
    "sunshine1234",     "superman1234",      "thisismypassword", "trustno11234",      "utilisateur1",
    "utilisateur123",   "welcome12345",      "welcome123456",    "welcomewelcome",    "winter202512",
    "zaq12wsxcde3",     "zxcvbnm12345",      "zxcvzxcvzxcv",
};

}  // namespace

bool IsCommonPassword(absl::string_view lowered_password) {
  return std::binary_search(std::begin(kCommonPasswords), std::end(kCommonPasswords), lowered_password);
}

}  // namespace habilis::domain
