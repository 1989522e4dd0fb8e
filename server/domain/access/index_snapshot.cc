// The access index's snapshot (AccessIndex::SaveSnapshot, AttachFrom): what a restart starts from instead of
// reading and decoding every account, login, membership and habilitation of the store (issue 16: start-up
// within 2 s on a 1M-account store, whatever its compaction state).
//
// The format is the index's own tables, in id order, so that the ids and slots a load hands out are the ones
// saved: fixed-width little-endian integers, strings with a 32-bit length; then where the logins begin (so that
// the other core reads them while this one reads the accounts) and a CRC-32 (zlib) of everything before it. It is a
// cache, not a record: it names the store it was taken from (Store::Id), the store's format and its revision, and any
// doubt (another store, another format, a damaged file, commits the store no longer keeps) sends the start back to
// reading the store.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/domain/access/access_index.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

constexpr absl::string_view kMagic = "habilis access index\n";
constexpr uint32_t kSnapshotVersion = 2;  // 2: the logins' offset before the checksum
// The file ends with the logins' offset (8 bytes) and the checksum (4).
constexpr uint64_t kTrailerBytes = sizeof(uint64_t) + sizeof(uint32_t);

// Writes through a buffer of about 1 MiB, with the CRC-32 of what went through: the index is never copied
// whole (1.2 GB at 10M accounts).
class Encoder {
 public:
  explicit Encoder(int fd) : fd_(fd) { buffer_.reserve(kFlushBytes + (64 << 10)); }
  template <typename T>
  void Fixed(T value) {
    static_assert(std::is_integral_v<T>);
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));  // the machine's order: a snapshot is read where it was written
    Raw(absl::string_view(bytes, sizeof(T)));
  }
  // How many bytes went through so far: the offset of the next.
  uint64_t offset() const { return offset_; }
  void Text(absl::string_view text) {
    Fixed(static_cast<uint32_t>(text.size()));
    Raw(text);
  }
  void Raw(absl::string_view bytes) {
    buffer_.append(bytes.data(), bytes.size());
    offset_ += bytes.size();
    if (buffer_.size() >= kFlushBytes) Flush();
  }
  // Ends the file with the CRC-32 of everything before it. False if a write failed (errno says why).
  bool Finish() {
    Flush();
    const uint32_t crc = static_cast<uint32_t>(crc_);
    buffer_.assign(reinterpret_cast<const char*>(&crc), sizeof(crc));
    WriteBuffer();
    return ok_;
  }

 private:
  static constexpr size_t kFlushBytes = 1 << 20;
  void Flush() {
    crc_ = crc32_z(crc_, reinterpret_cast<const Bytef*>(buffer_.data()), buffer_.size());
    WriteBuffer();
  }
  void WriteBuffer() {
    size_t written = 0;
    while (ok_ && written < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
      if (n < 0 && errno == EINTR) continue;
      ok_ = n > 0;
      if (ok_) written += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

  const int fd_;
  std::string buffer_;
  uLong crc_ = crc32_z(0, nullptr, 0);
  uint64_t offset_ = 0;
  bool ok_ = true;
};

// Reads exactly `size` bytes from `offset` of `fd` into `at`; false at an error or the file's end. pread: the
// threads of a restore share one descriptor, each at its own offset.
bool ReadFully(int fd, uint64_t offset, char* at, size_t size) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, at, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Whether the file's `data_bytes` are followed by their CRC-32.
bool ChecksumMatches(int fd, uint64_t data_bytes) {
  std::vector<char> piece(4 << 20);
  uLong crc = crc32_z(0, nullptr, 0);
  uint64_t offset = 0;
  bool ok = true;
  while (ok && offset < data_bytes) {
    const size_t size = static_cast<size_t>(std::min<uint64_t>(data_bytes - offset, piece.size()));
    ok = ReadFully(fd, offset, piece.data(), size);
    crc = crc32_z(crc, reinterpret_cast<const Bytef*>(piece.data()), size);
    offset += size;
  }
  uint32_t stored = 0;
  ok = ok && ReadFully(fd, data_bytes, reinterpret_cast<char*>(&stored), sizeof(stored));
  return ok && stored == static_cast<uint32_t>(crc);
}

// Faults in the pages of `regions` for writing, which is the kernel zeroing them (a tenth of a 10M restore's
// time), so that another core does it ahead of the writes. Advice only: where the kernel lacks
// MADV_POPULATE_WRITE (before 5.14) the writes fault them in as before.
void PrefaultForWriting(const std::vector<std::pair<void*, size_t>>& regions) {
  for (auto [at, bytes] : regions) ::madvise(at, bytes, MADV_POPULATE_WRITE);
}

absl::Status Damaged(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("the snapshot is damaged: ", what));
}

absl::Status CannotWrite(const std::string& file) {
  return absl::UnavailableError(absl::StrCat("cannot write ", file, ": ", std::strerror(errno)));
}

// Makes `temporary` (written, not yet synced) the new `file`, durably: a crash leaves the old file or the new
// one, never a part.
absl::Status Publish(int fd, const std::string& temporary, const std::string& file) {
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(temporary.c_str(), file.c_str()) != 0) {
    absl::Status failed = CannotWrite(file);
    ::unlink(temporary.c_str());
    return failed;
  }
  const std::string directory = file.find('/') == std::string::npos ? "." : file.substr(0, file.rfind('/') + 1);
  const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {  // the rename is durable once the directory is synced
    ::fsync(dir);
    ::close(dir);
  }
  return absl::OkStatus();
}

}  // namespace

// Reads the bytes of the snapshot file from `begin` to `end` through a buffer of 4 MiB: the index is never
// copied whole.
class SnapshotDecoder {
 public:
  SnapshotDecoder(int fd, uint64_t begin, uint64_t end)
      : fd_(fd), offset_(begin), left_(end - begin), buffer_(kBufferBytes) {
    at_ = end_ = buffer_.data();
  }
  template <typename T>
  bool Fixed(T& value) {
    if (!Need(sizeof(T))) return false;
    std::memcpy(&value, at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  // `text` stays valid until the next call.
  bool Text(absl::string_view& text) {
    uint32_t size = 0;
    if (!Fixed(size) || !Need(size)) return false;
    text = absl::string_view(at_, size);
    at_ += size;
    return true;
  }
  // A count of items each at least `least_bytes` long: no more than what is left could hold.
  bool Count(uint32_t& count, size_t least_bytes) { return Fixed(count) && count <= Remaining() / least_bytes; }
  bool done() const { return Remaining() == 0; }

 private:
  static constexpr size_t kBufferBytes = 4 << 20;
  uint64_t Remaining() const { return static_cast<uint64_t>(end_ - at_) + left_; }
  // Whether `bytes` more can be read at at_, refilling the buffer if needed.
  bool Need(size_t bytes) {
    const size_t buffered = static_cast<size_t>(end_ - at_);
    if (buffered >= bytes) return true;
    if (bytes > Remaining() || bytes > kBufferBytes) return false;  // no field is that long: a damaged file
    std::memmove(buffer_.data(), at_, buffered);
    const size_t wanted = static_cast<size_t>(std::min<uint64_t>(kBufferBytes - buffered, left_));
    if (!ReadFully(fd_, offset_, buffer_.data() + buffered, wanted)) return false;
    offset_ += wanted;
    left_ -= wanted;
    at_ = buffer_.data();
    end_ = at_ + buffered + wanted;
    return true;
  }

  const int fd_;
  uint64_t offset_;  // of the next byte to read into the buffer
  uint64_t left_;
  std::vector<char> buffer_;
  const char* at_ = nullptr;
  const char* end_ = nullptr;
};

bool AccessIndex::WriteSnapshot(int fd) const {
  Encoder e(fd);
  e.Raw(kMagic);
  e.Fixed(kSnapshotVersion);
  e.Text(store_.Id());
  e.Fixed(store::kFormatVersion);
  e.Fixed(revision_);

  std::vector<absl::string_view> applications(application_ids_.size());
  for (const auto& [name, id] : application_ids_) applications[id] = name;
  e.Fixed(static_cast<uint32_t>(applications.size()));
  for (absl::string_view name : applications) e.Text(name);

  e.Fixed(static_cast<uint32_t>(profiles_.size()));
  for (const Profile& profile : profiles_) {
    e.Text(profile.name);
    e.Fixed(static_cast<uint8_t>(profile.exists | profile.retired << 1));
    e.Fixed(profile.application);
    e.Fixed(static_cast<uint32_t>(profile.permissions.size()));
    for (const std::string& permission : profile.permissions) e.Text(permission);
  }

  e.Fixed(static_cast<uint32_t>(sirets_.size()));
  for (uint32_t ref : sirets_) e.Text(siret_ids_.TextAt(ref));

  e.Fixed(static_cast<uint32_t>(subscriptions_.size()));
  subscriptions_.ForEach([&](SiretId siret, ApplicationId application) {
    e.Fixed(static_cast<uint64_t>(siret) << 32 | application);  // as format 2 has it
  });

  e.Fixed(static_cast<uint32_t>(accounts_.size()));
  for (uint32_t slot = 0; slot < accounts_.size(); ++slot) {
    const Account& account = accounts_.At(slot);
    e.Fixed(account.number_);
    e.Fixed(account.locked_until_micros);
    e.Fixed(account.password_expire_micros);
    e.Fixed(static_cast<uint8_t>(account.state_));
    e.Fixed(static_cast<uint8_t>(account.exists | account.privacy_consent << 1));
    e.Fixed(static_cast<uint32_t>(account.memberships().size()));
    for (SiretId held : account.memberships()) e.Fixed(held);
    e.Fixed(static_cast<uint32_t>(account.grants().size()));
    for (const Grant& grant : account.grants()) {
      e.Fixed(grant.expire_micros);
      e.Fixed(grant.siret);
      e.Fixed(grant.profile);
    }
  }

  const uint64_t logins_at = e.offset();
  e.Fixed(static_cast<uint32_t>(logins_.size()));
  logins_.ForEach([&](absl::string_view login, uint32_t slot) {
    e.Text(login);
    e.Fixed(slot);
  });
  e.Fixed(logins_at);
  return e.Finish();
}

absl::Status AccessIndex::Restore(int fd, uint64_t file_bytes) {
  if (file_bytes < kTrailerBytes) return Damaged("it is too short");
  const uint64_t logins_end = file_bytes - kTrailerBytes;
  uint64_t logins_at = 0;
  const bool located =
      ReadFully(fd, logins_end, reinterpret_cast<char*>(&logins_at), sizeof(logins_at)) && logins_at <= logins_end;
  SnapshotDecoder d(fd, 0, located ? logins_at : logins_end);
  RETURN_IF_ERROR(DecodeHeader(d));  // another version, store or format is said as such, not as damage
  if (!located) return Damaged("where its logins begin");

  // The checksum, the logins and the rest at once, on two cores (and DecodeAccounts has the account chunks
  // faulted in on a fourth thread). A damaged file is then only decoded in vain: the decoding checks every
  // count and id it reads, so it cannot go astray.
  bool checksum_matches = false;
  std::thread verifier([&] { checksum_matches = ChecksumMatches(fd, file_bytes - sizeof(uint32_t)); });
  absl::Status logins;
  uint32_t highest_slot = 0;
  // This thread holds mu_ for both, and touches no login until the join.
  std::thread login_reader(
      [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { logins = DecodeLogins(fd, logins_at, logins_end, highest_slot); });
  absl::Status rest = DecodeCatalog(d);
  if (rest.ok()) rest = DecodeAccounts(d);
  login_reader.join();
  verifier.join();
  RETURN_IF_ERROR(rest);
  RETURN_IF_ERROR(logins);
  if (logins_.size() > 0 && highest_slot >= accounts_.size()) return Damaged("a login");
  if (!checksum_matches) return Damaged("its checksum does not match");
  return absl::OkStatus();
}

absl::Status AccessIndex::DecodeHeader(SnapshotDecoder& d) {
  for (char expected : kMagic) {
    char c = 0;
    if (!d.Fixed(c) || c != expected) return Damaged("not an access index snapshot");
  }
  uint32_t version = 0;
  absl::string_view store_id_text;
  uint64_t format = 0;
  if (!d.Fixed(version) || !d.Text(store_id_text)) return Damaged("its header");
  const std::string store_id(store_id_text);  // copied: the text is valid only until the next read
  if (!d.Fixed(format) || !d.Fixed(revision_)) return Damaged("its header");
  if (version != kSnapshotVersion) return absl::FailedPreconditionError("another snapshot version");
  if (store_id != store_.Id()) return absl::FailedPreconditionError("the snapshot of another store");
  if (format != store::kFormatVersion) return absl::FailedPreconditionError("the snapshot of another store format");
  return absl::OkStatus();
}

absl::Status AccessIndex::DecodeAccounts(SnapshotDecoder& d) {
  uint32_t count = 0;
  if (!d.Count(count, 34)) return Damaged("accounts");
  accounts_.Reserve(count);
  std::thread prefault([regions = accounts_.ChunkMemory()] { PrefaultForWriting(regions); });
  absl::Status decoded = absl::OkStatus();
  for (uint32_t slot = 0; slot < count && decoded.ok(); ++slot) decoded = DecodeAccount(d, slot);
  prefault.join();
  RETURN_IF_ERROR(decoded);
  if (!d.done()) return Damaged("bytes between its accounts and its logins");
  return absl::OkStatus();
}

absl::Status AccessIndex::DecodeLogins(int fd, uint64_t begin, uint64_t end, uint32_t& highest_slot) {
  SnapshotDecoder d(fd, begin, end);
  absl::Status decoded = absl::OkStatus();
  uint32_t count = 0;
  if (!d.Count(count, 8)) decoded = Damaged("logins");
  if (decoded.ok()) logins_.Reserve(count);
  for (uint32_t i = 0; decoded.ok() && i < count; ++i) {
    absl::string_view login;
    uint32_t slot = 0;
    if (!d.Text(login) || !d.Fixed(slot) || !logins_.Add(login, slot)) decoded = Damaged("a login");
    highest_slot = std::max(highest_slot, slot);
  }
  if (decoded.ok() && !d.done()) decoded = Damaged("bytes after its logins");
  return decoded;
}

absl::Status AccessIndex::DecodeCatalog(SnapshotDecoder& d) {
  uint32_t count = 0;
  if (!d.Count(count, 4)) return Damaged("applications");
  for (uint32_t id = 0; id < count; ++id) {
    absl::string_view name;
    if (!d.Text(name) || ApplicationFor(name) != id) return Damaged("an application");
  }
  if (!d.Count(count, 13)) return Damaged("profiles");
  for (uint32_t id = 0; id < count; ++id) RETURN_IF_ERROR(DecodeProfile(d, id));
  if (!d.Count(count, 4)) return Damaged("structures");
  for (uint32_t id = 0; id < count; ++id) {
    absl::string_view siret;
    if (!d.Text(siret) || SiretFor(siret) != id) return Damaged("a structure");
  }
  if (!d.Count(count, 8)) return Damaged("subscriptions");
  subscriptions_.Reserve(sirets_.size());
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t subscription = 0;
    if (!d.Fixed(subscription)) return Damaged("a subscription");
    const auto siret = static_cast<SiretId>(subscription >> 32);
    const auto application = static_cast<ApplicationId>(subscription);
    // Ids the catalog gave: a bit table sized by anything else would be as large as the number says.
    if (siret >= sirets_.size() || application >= application_ids_.size()) return Damaged("a subscription");
    subscriptions_.Set(siret, application, true);
  }
  return absl::OkStatus();
}

absl::Status AccessIndex::DecodeProfile(SnapshotDecoder& d, ProfileId id) {
  Profile profile;
  absl::string_view name;
  uint8_t flags = 0;
  uint32_t permissions = 0;
  if (!d.Text(name) || !d.Fixed(flags) || !d.Fixed(profile.application) || !d.Count(permissions, 4) ||
      profile.application >= application_ids_.size() || !profile_ids_.try_emplace(name, id).second) {
    return Damaged("a profile");
  }
  profile.name = std::string(name);
  profile.exists = flags & 1;
  profile.retired = flags & 2;
  for (uint32_t i = 0; i < permissions; ++i) {
    absl::string_view permission;
    if (!d.Text(permission)) return Damaged("a permission");
    profile.permissions.emplace_back(permission);
  }
  profiles_.push_back(std::move(profile));
  return absl::OkStatus();
}

absl::Status AccessIndex::DecodeAccount(SnapshotDecoder& d, uint32_t slot) {
  uint64_t number = 0;
  uint8_t state = 0, flags = 0;
  uint32_t memberships = 0;
  if (!d.Fixed(number) || accounts_.Append(number) != slot) return Damaged("an account");
  Account& account = accounts_.At(slot);
  if (!d.Fixed(account.locked_until_micros) || !d.Fixed(account.password_expire_micros) || !d.Fixed(state) ||
      !d.Fixed(flags) || !d.Count(memberships, sizeof(SiretId))) {
    return Damaged("an account");
  }
  account.state_ = state;
  account.exists = flags & 1;
  account.privacy_consent = flags & 2;
  for (uint32_t i = 0; i < memberships; ++i) {
    SiretId held = 0;
    if (!d.Fixed(held) || (held & ~Account::kSuspendedBit) >= sirets_.size()) return Damaged("a membership");
    account.SetMembership(held & ~Account::kSuspendedBit, held);
  }
  uint32_t grants = 0;
  if (!d.Count(grants, sizeof(Grant))) return Damaged("an account's habilitations");
  auto application_of = [this](const Grant& held)
                            ABSL_NO_THREAD_SAFETY_ANALYSIS { return profiles_[held.profile].application; };
  for (uint32_t i = 0; i < grants; ++i) {
    Grant grant;
    if (!d.Fixed(grant.expire_micros) || !d.Fixed(grant.siret) || !d.Fixed(grant.profile) ||
        grant.siret >= sirets_.size() || grant.profile >= profiles_.size()) {
      return Damaged("a habilitation");
    }
    account.SetGrant(grant.siret, application_of(grant), grant, application_of);
  }
  if (account.spill_ != nullptr) ++spilled_accounts_;
  return absl::OkStatus();
}

absl::StatusOr<store::Revision> AccessIndex::SaveSnapshot(const std::string& file) const {
  const std::string temporary = file + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return CannotWrite(temporary);
  store::Revision revision = 0;
  {
    // Commits wait while the index is written into the page cache; the sync to disk happens after.
    absl::ReaderMutexLock lock(&mu_);
    if (!broken_.empty() || !WriteSnapshot(fd)) {
      absl::Status failed =
          broken_.empty() ? CannotWrite(temporary) : absl::FailedPreconditionError("the access index missed a change");
      ::close(fd);
      ::unlink(temporary.c_str());
      return failed;
    }
    revision = revision_;
  }
  RETURN_IF_ERROR(Publish(fd, temporary, file));
  return revision;
}

absl::StatusOr<std::unique_ptr<AccessIndex>> AccessIndex::AttachFrom(store::Store& store,
                                                                     const std::string& snapshot_file, Origin* origin) {
  absl::Status restored = absl::NotFoundError("no snapshot file configured");
  if (!snapshot_file.empty()) {
    std::unique_ptr<AccessIndex> index(new AccessIndex(store));
    const int fd = ::open(snapshot_file.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat about {};
    if (fd < 0) {
      restored = absl::NotFoundError(absl::StrCat("no snapshot at ", snapshot_file));
    } else if (::fstat(fd, &about) != 0) {
      restored = Damaged(absl::StrCat("it cannot be read: ", std::strerror(errno)));
    } else {
      absl::MutexLock lock(&index->mu_);
      restored = index->Restore(fd, static_cast<uint64_t>(about.st_size));
    }
    if (fd >= 0) ::close(fd);
    store::Revision revision = 0;
    if (restored.ok()) {
      revision = index->revision();
      restored = store.Resume(*index, revision);  // applies the later commits through OnCommit
    }
    if (restored.ok()) {
      origin->restored = true;
      origin->snapshot = revision;
      return index;
    }
  }
  origin->why_not = std::string(restored.message());
  return Attach(store);
}

}  // namespace habilis::domain
