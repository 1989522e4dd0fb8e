// One structured line per RPC (docs/OPERATIONS.md "Logs"): JSON on standard error, written by a thread of its
// own so that a call pays for formatting and a short lock, never for the write.
//
// What a line holds: time, level, method, code, reason, latency, principal, request id. Never a request's or a
// response's content: no password, token, key, code, link or personal data reaches this file.
#ifndef HABILIS_SERVER_COMMON_CALL_LOG_H_
#define HABILIS_SERVER_COMMON_CALL_LOG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace habilis {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning" or "error"; nullopt-like false for anything else.
bool ParseLogLevel(absl::string_view name, LogLevel* level);

// Lines below `level` are not written (and cost one comparison). Default: info.
void SetLogLevel(LogLevel level);
bool Logs(LogLevel level);

struct CallRecord {
  absl::string_view method;  // "habilis.v1.Service/Method"
  absl::Status status;       // its code and ErrorInfo reason are logged, not its message
  absl::Time received;       // when the call arrived (latency counts the wait for a worker)
  std::string principal;     // "accounts/…", "operators/…", "applications/…", or "" when anonymous
  absl::string_view request_id;
  // Client applications' access checks are frequent and routine: DEBUG, so that INFO logs the rest.
  bool routine = false;
};

// The level of a call's line: ERROR for a server fault (INTERNAL, UNKNOWN, DATA_LOSS), WARNING when the server
// could not serve (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED), otherwise INFO (or DEBUG if routine):
// a refused or invalid request is the caller's business, not an incident.
LogLevel LevelOf(const CallRecord& call);

// Queues the call's line if its level is logged.
void LogCall(const CallRecord& call);

// The line LogCall writes, without its newline (for tests).
std::string FormatCallLine(const CallRecord& call, absl::Time now);

// A JSON string literal of `text`, quotes included, with every control character, quote and backslash
// escaped. Written here rather than taken from a JSON library: the lines are flat and this is the only
// encoding they need; invalid UTF-8 (which protobuf refuses in requests) is replaced, never copied.
std::string JsonString(absl::string_view text);

// Writes out what is queued (at exit, and for tests).
void FlushLog();

}  // namespace habilis

#endif  // HABILIS_SERVER_COMMON_CALL_LOG_H_
