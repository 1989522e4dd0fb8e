// Identifiers that look alike are one identifier (service names, logins).
//
// A person reads a name, not its bytes: "Finances" with a Cyrillic "а", a zero-width space, a right-to-left
// override or fullwidth letters must not pass for a new name beside "Finances". Two defences, both from ICU
// (Debian's libicu), not our own tables:
// - NormalizeIdentifier: Unicode NFKC (fullwidth and compatibility forms become the plain ones, a no-break
//   space a space) and a refusal of invisible characters: default-ignorable code points (zero-width spaces
//   and joiners, ...), bidirectional controls (LRO, RLO, isolates, marks) and other format or control
//   characters.
// - ConfusableSkeleton: UTS #39's skeleton of the case-folded name; two names with one skeleton look alike,
//   and uniqueness is decided on it.
#ifndef HABILIS_SERVER_DOMAIN_KERNEL_IDENTIFIERS_H_
#define HABILIS_SERVER_DOMAIN_KERNEL_IDENTIFIERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace habilis::domain {

// `text` in NFKC, or INVALID_ARGUMENT (reason INVISIBLE_CHARACTER, naming the code point, or
// INVALID_UTF8) for `field`.
[[nodiscard]] absl::StatusOr<std::string> NormalizeIdentifier(absl::string_view text, absl::string_view field);

// The UTS #39 confusable skeleton of the case-folded NFKC form of `text` (UTF-8). Equal skeletons: the two
// texts look alike.
std::string ConfusableSkeleton(absl::string_view text);

// SEARCH: the form of a name a search compares, accent- and case-insensitive: NFKD, combining marks removed,
// case-folded, white space collapsed. "Élodie  LEFÈVRE" and "elodie lefevre" have one key; "Œ" folds to "œ".
std::string SearchKey(absl::string_view text);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_KERNEL_IDENTIFIERS_H_
