// The two status macros Debian's abseil does not ship.
#ifndef HABILIS_SERVER_COMMON_STATUS_MACROS_H_
#define HABILIS_SERVER_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define HABILIS_CONCAT_INNER_(a, b) a##b
#define HABILIS_CONCAT_(a, b) HABILIS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` yields a non-OK absl::Status.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status habilis_status_ = (expr);           \
    if (!habilis_status_.ok()) return habilis_status_; \
  } while (0)

// `lhs` = value of the absl::StatusOr `expr`, or returns its error from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL_(HABILIS_CONCAT_(habilis_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(var, lhs, expr) \
  auto var = (expr);                           \
  if (!var.ok()) return var.status();          \
  lhs = std::move(var).value()

#endif  // HABILIS_SERVER_COMMON_STATUS_MACROS_H_
