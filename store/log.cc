#include "store/log.h"

#include <optional>

#include "store/encoding.h"

namespace habilis::store {

std::string LogEntryKey(absl::string_view log, Revision revision, uint64_t position) {
  std::string key(log);
  AppendUint64(&key, revision);
  AppendUint64(&key, position);
  return key;
}

namespace {

constexpr size_t kEntrySuffix = 16;  // revision and position, 8 bytes each

// Decodes an entry of `log` from its key.
std::optional<LogEntry> Decode(absl::string_view log, absl::string_view key, absl::string_view value) {
  if (key.size() != log.size() + kEntrySuffix || key.substr(0, log.size()) != log) return std::nullopt;
  absl::string_view rest = key.substr(log.size());
  std::optional<uint64_t> revision = ConsumeUint64(&rest);
  std::optional<uint64_t> position = ConsumeUint64(&rest);
  if (!revision || !position) return std::nullopt;
  return LogEntry{*revision, *position, value, key};
}

absl::Status Undecodable() { return absl::DataLossError("a log entry's key does not decode"); }

}  // namespace

absl::Status ScanLogFamilyBefore(Reader& reader, absl::string_view family, absl::string_view after_id, Revision before,
                                 absl::FunctionRef<bool(const LogEntry&)> visit) {
  std::string cursor(after_id.empty() ? family : after_id);
  if (!after_id.empty()) cursor.push_back('\0');
  const std::string family_end = PrefixEnd(family);
  while (true) {
    std::string first;
    absl::Status found = reader.Scan(cursor, family_end, [&](absl::string_view key, absl::string_view) {
      first = std::string(key);
      return false;
    });
    if (!found.ok()) return found;
    if (first.empty()) return absl::OkStatus();
    if (first.size() < family.size() + kEntrySuffix) return Undecodable();
    const std::string log = first.substr(0, first.size() - kEntrySuffix);
    std::string stop = log;
    AppendUint64(&stop, before);
    bool stopped = false;
    absl::Status decoded = absl::OkStatus();
    absl::Status scanned = reader.Scan(first, stop, [&](absl::string_view key, absl::string_view value) {
      std::optional<LogEntry> entry = Decode(log, key, value);
      if (!entry) decoded = Undecodable();
      stopped = !entry || !visit(*entry);
      return !stopped;
    });
    if (!scanned.ok()) return scanned;
    if (!decoded.ok() || stopped) return decoded;
    cursor = PrefixEnd(log);
  }
}

absl::Status ScanLog(Reader& reader, absl::string_view log, Revision from,
                     absl::FunctionRef<bool(const LogEntry&)> visit) {
  std::string begin(log);
  AppendUint64(&begin, from);
  absl::Status decoded = absl::OkStatus();
  absl::Status scanned = reader.Scan(begin, PrefixEnd(log), [&](absl::string_view key, absl::string_view value) {
    std::optional<LogEntry> entry = Decode(log, key, value);
    if (!entry) {
      decoded = Undecodable();
      return false;
    }
    return visit(*entry);
  });
  if (!scanned.ok()) return scanned;
  return decoded;
}

}  // namespace habilis::store
