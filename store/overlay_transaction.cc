#include "store/overlay_transaction.h"

namespace habilis::store {

absl::StatusOr<std::string> OverlayTransaction::Get(absl::string_view key) {
  auto it = writes_.find(key);
  if (it == writes_.end()) return snapshot_.Get(key);
  if (!it->second) return absl::NotFoundError("no entry");
  return *it->second;
}

absl::Status OverlayTransaction::Scan(absl::string_view begin, absl::string_view end, ScanVisitor visit) {
  auto next = writes_.lower_bound(begin);
  auto in_range = [&](absl::string_view key) { return end.empty() || key < end; };
  bool stopped = false;
  // Visits the overlay's puts before `key` (all that are left in range when `key` is null).
  auto visit_writes_before = [&](const absl::string_view* key) {
    for (; !stopped && next != writes_.end() && in_range(next->first) && (key == nullptr || next->first < *key);
         ++next) {
      if (next->second && !visit(next->first, *next->second)) stopped = true;
    }
  };
  absl::Status scanned = snapshot_.Scan(begin, end, [&](absl::string_view key, absl::string_view value) {
    visit_writes_before(&key);
    if (stopped) return false;
    if (next != writes_.end() && next->first == key) {
      const std::optional<std::string>& written = (next++)->second;
      if (!written) return true;  // deleted here
      stopped = !visit(key, *written);
    } else {
      stopped = !visit(key, value);
    }
    return !stopped;
  });
  if (!scanned.ok()) return scanned;
  visit_writes_before(nullptr);
  return absl::OkStatus();
}

absl::Status OverlayTransaction::Put(absl::string_view key, absl::string_view value) {
  writes_.insert_or_assign(std::string(key), std::string(value));
  return absl::OkStatus();
}

absl::Status OverlayTransaction::Delete(absl::string_view key) {
  writes_.insert_or_assign(std::string(key), std::nullopt);
  return absl::OkStatus();
}

absl::Status OverlayTransaction::AppendToLog(absl::string_view, absl::string_view) { return absl::OkStatus(); }

absl::Status OverlayTransaction::ProtectRange(absl::string_view) { return absl::OkStatus(); }

}  // namespace habilis::store
