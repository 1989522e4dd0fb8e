// The access index's snapshot (AccessIndex::SaveSnapshot, AttachFrom): what a restart starts from instead of
// reading and decoding every account, login, membership and habilitation of the store (issue 16: start-up
// within 2 s on a 1M-account store, whatever its compaction state).
//
// The format is the index's own tables, in id order, so that the ids and slots a load hands out are the ones
// saved: fixed-width little-endian integers, strings with a 32-bit length, a CRC-32 (zlib) of everything before
// it at the end. It is a cache, not a record: it names the store it was taken from (Store::Id), the store's
// format and its revision, and any doubt (another store, another format, a damaged file, commits the store no
// longer keeps) sends the start back to reading the store.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/domain/access/access_index.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

constexpr absl::string_view kMagic = "habilis access index\n";
constexpr uint32_t kSnapshotVersion = 1;

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
  void Text(absl::string_view text) {
    Fixed(static_cast<uint32_t>(text.size()));
    Raw(text);
  }
  void Raw(absl::string_view bytes) {
    buffer_.append(bytes.data(), bytes.size());
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
  bool ok_ = true;
};

// Reads from a mapped file, handing back each 16 MiB read (`release`): resident memory does not grow by the
// file's size while the index fills.
class Decoder {
 public:
  Decoder(absl::string_view in, absl::FunctionRef<void(absl::string_view)> release)
      : in_(in), released_to_(in.data()), release_(release) {}
  template <typename T>
  bool Fixed(T& value) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(&value, in_.data(), sizeof(T));
    Advance(sizeof(T));
    return true;
  }
  // `text` stays valid until the next call (its bytes may be released after).
  bool Text(absl::string_view& text) {
    uint32_t size = 0;
    if (!Fixed(size) || in_.size() < size) return false;
    text = in_.substr(0, size);
    Advance(size);
    return true;
  }
  // A count of items each at least `least_bytes` long: no more than what is left could hold.
  bool Count(uint32_t& count, size_t least_bytes) { return Fixed(count) && count <= in_.size() / least_bytes; }
  bool done() const { return in_.empty(); }

 private:
  static constexpr size_t kReleaseBytes = 16 << 20;
  void Advance(size_t bytes) {
    in_.remove_prefix(bytes);
    // Released one step behind: the text just read stays readable until the next call.
    if (in_.data() - released_to_ >= static_cast<ptrdiff_t>(2 * kReleaseBytes)) {
      release_(absl::string_view(released_to_, kReleaseBytes));
      released_to_ += kReleaseBytes;
    }
  }

  absl::string_view in_;
  const char* released_to_;
  absl::FunctionRef<void(absl::string_view)> release_;
};

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

// A snapshot file mapped read-only; its pages leave the process's memory as Release hands them back.
class MappedSnapshot {
 public:
  static absl::StatusOr<std::unique_ptr<MappedSnapshot>> Open(const std::string& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::NotFoundError(absl::StrCat("no snapshot at ", file));
    struct stat about {};
    void* at = MAP_FAILED;
    if (::fstat(fd, &about) == 0 && about.st_size > 0) {
      at = ::mmap(nullptr, static_cast<size_t>(about.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);
    if (at == MAP_FAILED) return absl::UnavailableError(absl::StrCat("cannot read ", file));
    ::madvise(at, static_cast<size_t>(about.st_size), MADV_SEQUENTIAL);
    return std::unique_ptr<MappedSnapshot>(new MappedSnapshot(static_cast<const char*>(at), about.st_size));
  }
  ~MappedSnapshot() { ::munmap(const_cast<char*>(bytes_.data()), bytes_.size()); }
  absl::string_view bytes() const { return bytes_; }
  // Drops the pages wholly inside `part` from the process (they stay in the page cache).
  void Release(absl::string_view part) const {
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(part.data()) + page - 1) / page * page;
    const uintptr_t end = (reinterpret_cast<uintptr_t>(part.data()) + part.size()) / page * page;
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  }
  // Whether the file ends with the CRC-32 of what comes before it; read in pieces, each released after.
  bool ChecksumMatches() const {
    if (bytes_.size() < sizeof(uint32_t)) return false;
    absl::string_view body = bytes_.substr(0, bytes_.size() - sizeof(uint32_t));
    uLong crc = crc32_z(0, nullptr, 0);
    for (size_t at = 0; at < body.size(); at += kPiece) {
      absl::string_view piece = body.substr(at, kPiece);
      crc = crc32_z(crc, reinterpret_cast<const Bytef*>(piece.data()), piece.size());
      Release(piece);
    }
    uint32_t stored = 0;
    std::memcpy(&stored, bytes_.data() + body.size(), sizeof(stored));
    return stored == static_cast<uint32_t>(crc);
  }

 private:
  static constexpr size_t kPiece = 16 << 20;
  MappedSnapshot(const char* at, off_t size) : bytes_(at, static_cast<size_t>(size)) {}
  absl::string_view bytes_;
};

}  // namespace

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
  for (uint64_t subscription : subscriptions_) e.Fixed(subscription);

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

  e.Fixed(static_cast<uint32_t>(logins_.size()));
  logins_.ForEach([&](absl::string_view login, uint32_t slot) {
    e.Text(login);
    e.Fixed(slot);
  });
  return e.Finish();
}

absl::Status AccessIndex::DecodeSnapshot(absl::string_view snapshot,
                                         absl::FunctionRef<void(absl::string_view)> release) {
  if (snapshot.size() < kMagic.size() + sizeof(uint32_t) || !absl::StartsWith(snapshot, kMagic)) {
    return Damaged("not an access index snapshot");
  }
  snapshot.remove_suffix(sizeof(uint32_t));  // the checksum, verified before
  Decoder d(snapshot.substr(kMagic.size()), release);

  uint32_t version = 0;
  absl::string_view store_id;
  uint64_t format = 0;
  if (!d.Fixed(version) || version != kSnapshotVersion)
    return absl::FailedPreconditionError("another snapshot version");
  if (!d.Text(store_id) || store_id != store_.Id())
    return absl::FailedPreconditionError("the snapshot of another store");
  if (!d.Fixed(format) || format != store::kFormatVersion) {
    return absl::FailedPreconditionError("the snapshot of another store format");
  }
  if (!d.Fixed(revision_)) return Damaged("no revision");

  uint32_t count = 0;
  if (!d.Count(count, 4)) return Damaged("applications");
  for (uint32_t id = 0; id < count; ++id) {
    absl::string_view name;
    if (!d.Text(name) || ApplicationFor(name) != id) return Damaged("an application");
  }

  if (!d.Count(count, 13)) return Damaged("profiles");
  for (uint32_t id = 0; id < count; ++id) {
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
  }

  if (!d.Count(count, 4)) return Damaged("structures");
  for (uint32_t id = 0; id < count; ++id) {
    absl::string_view siret;
    if (!d.Text(siret) || SiretFor(siret) != id) return Damaged("a structure");
  }

  if (!d.Count(count, 8)) return Damaged("subscriptions");
  subscriptions_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t subscription = 0;
    if (!d.Fixed(subscription)) return Damaged("a subscription");
    subscriptions_.insert(subscription);
  }

  if (!d.Count(count, 34)) return Damaged("accounts");
  accounts_.Reserve(count);
  auto application_of = [this](const Grant& held)
                            ABSL_NO_THREAD_SAFETY_ANALYSIS { return profiles_[held.profile].application; };
  for (uint32_t slot = 0; slot < count; ++slot) {
    uint64_t number = 0;
    uint8_t state = 0, flags = 0;
    uint32_t memberships = 0;
    if (!d.Fixed(number) || accounts_.FindOrAdd(number) != slot) return Damaged("an account");
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
    for (uint32_t i = 0; i < grants; ++i) {
      Grant grant;
      if (!d.Fixed(grant.expire_micros) || !d.Fixed(grant.siret) || !d.Fixed(grant.profile) ||
          grant.siret >= sirets_.size() || grant.profile >= profiles_.size()) {
        return Damaged("a habilitation");
      }
      account.SetGrant(grant.siret, application_of(grant), grant, application_of);
    }
    if (account.spill_ != nullptr) ++spilled_accounts_;
  }

  if (!d.Count(count, 8)) return Damaged("logins");
  logins_.Reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    absl::string_view login;
    uint32_t slot = 0;
    if (!d.Text(login) || !d.Fixed(slot) || slot >= accounts_.size() || !logins_.Set(login, slot)) {
      return Damaged("a login");
    }
  }
  if (!d.done()) return Damaged("bytes after its end");
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
    absl::StatusOr<std::unique_ptr<MappedSnapshot>> snapshot = MappedSnapshot::Open(snapshot_file);
    restored = snapshot.status();
    if (snapshot.ok()) {
      const MappedSnapshot& mapped = **snapshot;
      restored = mapped.ChecksumMatches() ? absl::OkStatus() : Damaged("its checksum does not match");
      if (restored.ok()) {
        absl::MutexLock lock(&index->mu_);
        restored = index->DecodeSnapshot(mapped.bytes(), [&](absl::string_view done) { mapped.Release(done); });
      }
      snapshot->reset();
    }
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
