// libFuzzer target: the CSV reader (server/csv) fed arbitrary bytes, cut into pieces where the input says.
// It must never crash, never report a line before an earlier one, and read the same records whatever the
// cuts: the first byte chooses the piece size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/csv/csv.h"

namespace {

struct Seen {
  int64_t line;
  std::vector<std::string> fields;
  bool error;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> ReadAll(absl::string_view bytes, size_t piece) {
  habilis::csv::Reader reader(habilis::csv::ReaderLimits{.max_field_bytes = 256, .max_fields = 16});
  std::vector<Seen> seen;
  auto visit = [&](const habilis::csv::Record& record) {
    Seen s{record.line, {}, record.error.has_value()};
    for (absl::string_view field : record.fields) s.fields.emplace_back(field);
    if (!seen.empty() && s.line <= seen.back().line) std::abort();  // lines only grow
    seen.push_back(std::move(s));
  };
  for (size_t at = 0; at < bytes.size(); at += piece) reader.Feed(bytes.substr(at, piece), visit);
  reader.Finish(visit);
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 17;
  absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (ReadAll(bytes, piece) != ReadAll(bytes, bytes.size() + 1)) std::abort();  // cuts change nothing
  return 0;
}
