#include "server/csv/record_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace habilis::csv {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

absl::Status IoError(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat("import spool: ", what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RecordSpool>> RecordSpool::Create(size_t records_per_batch) {
  const char* dir = std::getenv("TMPDIR");
  if (dir == nullptr || *dir == '\0') dir = "/tmp";
  int fd = ::open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // A file system without O_TMPFILE: a named file, unlinked at once, is as private once unlinked.
    std::string path = absl::StrCat(dir, "/habilis-import-XXXXXX");
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(path.c_str());
  }
  if (fd < 0) return IoError(absl::StrCat("cannot make a temporary file in ", dir));
  return std::unique_ptr<RecordSpool>(new RecordSpool(fd, records_per_batch == 0 ? 1 : records_per_batch));
}

RecordSpool::~RecordSpool() { ::close(fd_); }

absl::Status RecordSpool::Append(absl::string_view record) {
  if (records_ % records_per_batch_ == 0) batch_offsets_.push_back(bytes());
  const uint32_t length = static_cast<uint32_t>(record.size());  // host order: the file never leaves the process
  buffer_.append(reinterpret_cast<const char*>(&length), sizeof length);
  buffer_.append(record.data(), record.size());
  ++records_;
  return buffer_.size() >= kFlushBytes ? Flush() : absl::OkStatus();
}

absl::Status RecordSpool::Seal() { return Flush(); }

absl::Status RecordSpool::Flush() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::pwrite(fd_, buffer_.data() + done, buffer_.size() - done, static_cast<off_t>(written_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot write");
    done += static_cast<size_t>(n);
  }
  written_ += buffer_.size();
  buffer_.clear();
  if (buffer_.capacity() > 2 * kFlushBytes) std::string().swap(buffer_);
  return absl::OkStatus();
}

absl::Status RecordSpool::ReadBatch(size_t batch, absl::FunctionRef<absl::Status(absl::string_view)> visit) const {
  if (batch >= batch_offsets_.size()) return absl::OutOfRangeError("no such batch");
  const uint64_t begin = batch_offsets_[batch];
  const uint64_t end = batch + 1 < batch_offsets_.size() ? batch_offsets_[batch + 1] : written_;
  std::string data(end - begin, '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pread(fd_, data.data() + done, data.size() - done, static_cast<off_t>(begin + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot read");
    done += static_cast<size_t>(n);
  }
  absl::string_view rest(data);
  while (!rest.empty()) {
    if (rest.size() < 4) return absl::DataLossError("import spool: a record is cut");
    uint32_t length;
    std::memcpy(&length, rest.data(), sizeof length);
    rest.remove_prefix(4);
    if (rest.size() < length) return absl::DataLossError("import spool: a record is cut");
    absl::Status status = visit(rest.substr(0, length));
    if (!status.ok()) return status;
    rest.remove_prefix(length);
  }
  return absl::OkStatus();
}

}  // namespace habilis::csv
