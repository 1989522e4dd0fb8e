#include "store/encoding.h"

namespace habilis::store {

void AppendUint64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

void AppendString(std::string* out, absl::string_view value) {
  for (char c : value) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xFF');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

std::optional<uint64_t> ConsumeUint64(absl::string_view* in) {
  if (in->size() < 8) return std::nullopt;
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(8);
  return value;
}

std::optional<std::string> ConsumeString(absl::string_view* in) {
  std::string value;
  for (size_t i = 0; i < in->size(); ++i) {
    char c = (*in)[i];
    if (c != '\0') {
      value.push_back(c);
      continue;
    }
    if (i + 1 >= in->size()) return std::nullopt;
    char next = (*in)[i + 1];
    if (next == '\x01') {
      in->remove_prefix(i + 2);
      return value;
    }
    if (next != '\xFF') return std::nullopt;
    value.push_back('\0');
    ++i;
  }
  return std::nullopt;
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xFF) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace habilis::store
