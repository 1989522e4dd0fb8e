#include "server/common/call_log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "server/common/errors.h"

namespace habilis {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

constexpr absl::string_view kLevelNames[] = {"debug", "info", "warning", "error"};

constexpr absl::string_view kCodeNames[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

// Lines wait here; a writer thread empties the buffer every 50 ms, or sooner when it grows.
class LineQueue {
 public:
  void Push(std::string line) {
    absl::MutexLock lock(&mu_);
    if (buffer_.size() > kMaxBuffered) {
      ++dropped_;  // the writer cannot keep up: drop rather than grow without bound, and say so
      return;
    }
    absl::StrAppend(&buffer_, line, "\n");
    StartWriterLocked();
  }

  void Flush() {
    absl::MutexLock write_lock(&write_mu_);  // lines leave in the order they came
    std::string out;
    {
      absl::MutexLock lock(&mu_);
      out.swap(buffer_);
      if (dropped_ > 0) {
        absl::StrAppend(&out, FormatDropped(dropped_), "\n");
        dropped_ = 0;
      }
    }
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::write(STDERR_FILENO, out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
  }

 private:
  static constexpr size_t kMaxBuffered = 8 << 20;

  static std::string FormatDropped(int64_t dropped) {
    return absl::StrCat(
        "{\"time\":", JsonString(absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())),
        ",\"level\":\"warning\",\"message\":\"log lines dropped\",\"dropped\":", dropped, "}");
  }

  void StartWriterLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writer_started_) return;
    writer_started_ = true;
    std::thread([this] {
      while (true) {
        absl::SleepFor(absl::Milliseconds(50));
        Flush();
      }
    }).detach();  // lives as long as the process; FlushLog writes what is left at exit
  }

  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool writer_started_ ABSL_GUARDED_BY(mu_) = false;
};

LineQueue& Queue() {
  static LineQueue* queue = new LineQueue();
  return *queue;
}

}  // namespace

bool ParseLogLevel(absl::string_view name, LogLevel* level) {
  for (int i = 0; i < 4; ++i) {
    if (kLevelNames[i] == name) {
      *level = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

void SetLogLevel(LogLevel level) { min_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool Logs(LogLevel level) { return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed); }

LogLevel LevelOf(const CallRecord& call) {
  switch (call.status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return LogLevel::kError;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kDeadlineExceeded:
      return LogLevel::kWarning;
    default:
      return call.routine ? LogLevel::kDebug : LogLevel::kInfo;
  }
}

namespace {

// The length of the well-formed UTF-8 sequence at text[i] (2 to 4), or 0 if there is none.
size_t Utf8SequenceAt(absl::string_view text, size_t i) {
  const unsigned char c = static_cast<unsigned char>(text[i]);
  const size_t length = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (const size_t length = Utf8SequenceAt(text, i); length != 0) {
      out.append(text.data() + i, length);  // a well-formed UTF-8 sequence is copied
      i += length - 1;
    } else {
      out.append("\\ufffd");  // anything else becomes U+FFFD
    }
  }
  out.push_back('"');
  return out;
}

std::string FormatCallLine(const CallRecord& call, absl::Time now) {
  const int code = static_cast<int>(call.status.code());
  std::string line = absl::StrCat(
      "{\"time\":", JsonString(absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone())), ",\"level\":\"",
      kLevelNames[static_cast<int>(LevelOf(call))], "\",\"method\":", JsonString(call.method), ",\"code\":\"",
      code >= 0 && code <= 16 ? kCodeNames[code] : "UNKNOWN", "\"");
  const std::string reason = ErrorReason(call.status);
  if (!reason.empty()) absl::StrAppend(&line, ",\"reason\":", JsonString(reason));
  absl::StrAppend(&line, ",\"latency_us\":", absl::ToInt64Microseconds(now - call.received));
  if (!call.principal.empty()) absl::StrAppend(&line, ",\"principal\":", JsonString(call.principal));
  if (!call.request_id.empty()) absl::StrAppend(&line, ",\"request_id\":", JsonString(call.request_id));
  line.push_back('}');
  return line;
}

void LogCall(const CallRecord& call) {
  if (!Logs(LevelOf(call))) return;
  Queue().Push(FormatCallLine(call, absl::Now()));
}

void FlushLog() { Queue().Flush(); }

}  // namespace habilis
