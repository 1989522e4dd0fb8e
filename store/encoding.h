// Order-preserving encodings for the parts of a key.
//
// Encoded keys compare bytewise in the same order as the tuples they encode, component by component:
// - uint64: 8 bytes big-endian.
// - string: its bytes with 0x00 escaped as 0x00 0xFF, then the terminator 0x00 0x01. The terminator sorts
//   below every escaped byte, so "ab" < "abc", and no encoded string is a prefix of another.
#ifndef HABILIS_STORE_ENCODING_H_
#define HABILIS_STORE_ENCODING_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace habilis::store {

void AppendUint64(std::string* out, uint64_t value);
void AppendString(std::string* out, absl::string_view value);

// Each reads one component from the front of *in and advances *in past it; nullopt if malformed.
std::optional<uint64_t> ConsumeUint64(absl::string_view* in);
std::optional<std::string> ConsumeString(absl::string_view* in);

// The smallest key greater than every key starting with `prefix`; empty if there is none (all 0xFF).
std::string PrefixEnd(absl::string_view prefix);

}  // namespace habilis::store

#endif  // HABILIS_STORE_ENCODING_H_
