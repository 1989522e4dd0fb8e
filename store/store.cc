#include "store/store.h"

#include "store/encoding.h"

namespace habilis::store {

absl::Status ScanPrefix(Reader& reader, absl::string_view prefix, ScanVisitor visit) {
  return reader.Scan(prefix, PrefixEnd(prefix), visit);
}

}  // namespace habilis::store
