#include "transports/shm/region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "transports/names.hpp"
#include "transports/transport.hpp"

namespace ipcmark::shm {
namespace {

std::string object_name(const std::string& name) { return "/" + name; }

struct Descriptor {  // closes on every way out; the mapping does not need it
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

struct Mapping {
  std::byte* data = nullptr;
  GuardedMapping guard;
};

Mapping map(int fd, std::size_t size, const std::string& name) {
  if (size == 0) return {};  // mmap refuses 0 bytes; an empty object is simply no bytes
  // MAP_POPULATE faults every page in now, so neither side takes page faults inside a measured loop.
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) throw_system_error("cannot map shared memory channel '" + name + "'");
  try {
    return {static_cast<std::byte*>(p), GuardedMapping(p, size)};
  } catch (...) {
    ::munmap(p, size);
    throw;
  }
}

// The kernel's estimate of memory available without swapping (/proc/meminfo MemAvailable), or
// none when it cannot be read.
std::optional<unsigned long long> memory_available_bytes() {
  std::FILE* meminfo = std::fopen("/proc/meminfo", "re");
  if (meminfo == nullptr) return std::nullopt;
  std::optional<unsigned long long> bytes;
  char line[256];
  unsigned long long kib = 0;
  while (!bytes && std::fgets(line, sizeof line, meminfo) != nullptr)
    if (std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1) bytes = kib * 1024;
  std::fclose(meminfo);
  return bytes;
}

// Refuses, before creating anything, a region larger than the room left in /dev/shm: a clear
// message naming both sizes instead of posix_fallocate() filling the whole tmpfs (it reserves
// page by page before it fails) and pushing other users' pages out. posix_fallocate below still
// catches the race with another process taking the room in between. tmpfs pages are memory, and
// a /dev/shm can be sized above it (24 GiB of tmpfs on a 23 GiB machine here): a region larger
// than the memory available is refused too, rather than reserved until the OOM killer ends us.
void check_room(const std::string& name, std::size_t size) {
  const std::string refused =
      "cannot create shared memory channel '" + name + "' of " + std::to_string(size) + " bytes: ";
  struct statvfs fs {};
  // No /dev/shm to ask, or a tmpfs without a size limit (it reports 0 blocks): let shm_open decide.
  if (::statvfs("/dev/shm", &fs) == 0 && fs.f_blocks != 0) {
    const auto free_bytes = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize;
    if (size > free_bytes)
      throw Error(Errc::System, refused + "/dev/shm has only " + std::to_string(free_bytes) +
                                    " bytes free (see `df -h /dev/shm`; a container may need a larger --shm-size)");
  }
  if (const auto available = memory_available_bytes(); available && size > *available)
    throw Error(Errc::System, refused + "its /dev/shm pages are memory, and only " + std::to_string(*available) +
                                  " bytes are available (MemAvailable in /proc/meminfo)");
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Refuses an object we did not make for ourselves: another user's (they could rewrite it under us
// at any moment, or read what we write), or ours but open to others. `st` comes from the fd we
// would map (fstat, so nobody can swap the object between the check and the mmap), or from the
// path when the kernel refused to open it at all (nothing gets mapped then anyway).
void check_owner(const std::string& name, const struct stat& st) {
  const uid_t us = ::geteuid();
  if (st.st_uid == us && (st.st_mode & 077) == 0) return;
  // Removing it takes its owner or root (/dev/shm is sticky): say so when that is not us.
  const std::string clean = "`ipcmark clean --channel " + name + "`";
  throw Error(Errc::Corrupt, "shared memory channel '" + name + "' (/dev/shm/" + name + ") is owned by uid " +
                                 std::to_string(st.st_uid) + " with mode " + octal_mode(st.st_mode) +
                                 ", not by us (uid " + std::to_string(us) +
                                 ") with mode 0600: refusing to map it; " +
                                 (st.st_uid == us || us == 0 ? "remove it with " + clean
                                                             : "its owner or root must remove it: " + clean));
}

}  // namespace

SharedRegion SharedRegion::create(const std::string& name, std::size_t size, bool replace) {
  validate_channel_name(name);
  if (size == 0 || size > static_cast<std::size_t>(std::numeric_limits<off_t>::max()))
    throw Error(Errc::InvalidArgument,
                "cannot create shared memory channel '" + name + "' of " + std::to_string(size) + " bytes");
  if (replace) remove(name);
  check_room(name, size);
  const std::string object = object_name(name);
  Descriptor d{::shm_open(object.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600)};
  if (d.fd < 0) {
    if (errno == EEXIST)
      throw_channel_exists("shared memory", name, "/dev/shm/" + name);
    throw_system_error("cannot create shared memory channel '" + name + "'");
  }
  // The name is ours from here on: take it back on any failure.
  try {
    if (::ftruncate(d.fd, static_cast<off_t>(size)) != 0)
      throw_system_error("cannot size shared memory channel '" + name + "' to " + std::to_string(size) + " bytes");
    // ftruncate only sets the size: tmpfs hands out pages on first touch, and a touch that finds
    // /dev/shm full is a SIGBUS. Reserving them now turns that into this error instead.
    if (const int err = ::posix_fallocate(d.fd, 0, static_cast<off_t>(size)); err != 0)
      throw Error(Errc::System, "cannot reserve " + std::to_string(size) + " bytes in /dev/shm for channel '" +
                                    name + "': " + std::strerror(err) + " (see `df -h /dev/shm`)");
    struct stat st {};
    if (::fstat(d.fd, &st) != 0) throw_system_error("cannot inspect shared memory channel '" + name + "'");
    Mapping mapping = map(d.fd, size, name);
    return SharedRegion(name, mapping.data, size, std::move(mapping.guard), /*owner=*/true, st.st_dev, st.st_ino);
  } catch (...) {
    ::shm_unlink(object.c_str());
    throw;
  }
}

std::size_t SharedRegion::largest_possible() noexcept {
  struct statvfs fs {};
  if (::statvfs("/dev/shm", &fs) == 0 && fs.f_blocks != 0)
    return static_cast<std::size_t>(fs.f_blocks) * fs.f_frsize;
  return static_cast<std::size_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

SharedRegion SharedRegion::open(const std::string& name, std::size_t max_size) {
  validate_channel_name(name);
  Descriptor d{::shm_open(object_name(name).c_str(), O_RDWR | O_CLOEXEC, 0)};
  if (d.fd < 0) {
    if (errno == ENOENT)
      throw Error(Errc::DoesNotExist, "shared memory channel '" + name + "' does not exist (is the server running?)");
    const int err = errno;
    struct stat st {};
    if (err == EACCES && ::stat(("/dev/shm/" + name).c_str(), &st) == 0) check_owner(name, st);
    errno = err;
    throw_system_error("cannot open shared memory channel '" + name + "'");
  }
  struct stat st {};
  if (::fstat(d.fd, &st) != 0) throw_system_error("cannot inspect shared memory channel '" + name + "'");
  check_owner(name, st);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > max_size)
    throw Error(Errc::Corrupt, "shared memory channel '" + name + "' (/dev/shm/" + name + ") is " +
                                   std::to_string(size) + " bytes, more than the " + std::to_string(max_size) +
                                   " bytes a channel can be: refusing to map it; remove it with `ipcmark clean "
                                   "--channel " + name + "`");
  Mapping mapping = map(d.fd, size, name);
  return SharedRegion(name, mapping.data, size, std::move(mapping.guard), /*owner=*/false, st.st_dev, st.st_ino);
}

void SharedRegion::remove(const std::string& name) {
  validate_channel_name(name);
  if (::shm_unlink(object_name(name).c_str()) != 0 && errno != ENOENT)
    throw_system_error("cannot remove shared memory channel '" + name + "'");
}

void SharedRegion::throw_truncated() const {
  throw Error(Errc::Corrupt, "shared memory channel '" + name_ +
                                 "' was truncated by another process while mapped here: what it held is lost");
}

SharedRegion::SharedRegion(std::string name, std::byte* data, std::size_t size, GuardedMapping guard, bool owner,
                           dev_t device, ino_t inode) noexcept
    : name_(std::move(name)),
      data_(data),
      size_(size),
      guard_(std::move(guard)),
      owner_(owner),
      device_(device),
      inode_(inode) {}

SharedRegion::SharedRegion(SharedRegion&& other) noexcept
    : name_(std::move(other.name_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      guard_(std::move(other.guard_)),
      owner_(std::exchange(other.owner_, false)),
      device_(other.device_),
      inode_(other.inode_) {}

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    release();
    name_ = std::move(other.name_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    guard_ = std::move(other.guard_);
    owner_ = std::exchange(other.owner_, false);
    device_ = other.device_;
    inode_ = other.inode_;
  }
  return *this;
}

SharedRegion::~SharedRegion() { release(); }

void SharedRegion::release() noexcept {
  guard_.release();  // first: the SIGBUS handler must not map over the range once it is given back
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  if (!owner_) return;
  owner_ = false;
  // Unlink only the object we created: after `--replace` by another server the name is theirs.
  // (A replacement between this check and the unlink would still lose; that window is microseconds.)
  const std::string object = object_name(name_);
  Descriptor d{::shm_open(object.c_str(), O_RDONLY | O_CLOEXEC, 0)};
  struct stat st {};
  if (d.fd >= 0 && ::fstat(d.fd, &st) == 0 && st.st_dev == device_ && st.st_ino == inode_)
    ::shm_unlink(object.c_str());
}

}  // namespace ipcmark::shm
