#include "transports/common/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace ipcmark {

bool process_is_gone(pid_t pid) noexcept {
  if (pid <= 0 || pid == ::getpid()) return false;
  if (::kill(pid, 0) != 0) return errno == ESRCH;  // EPERM: exists (another user's process)
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  char text[512];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return false;
  text[n] = '\0';
  // "pid (comm) S ...": comm may hold spaces and parentheses, so find the last ')'.
  const char* end_of_comm = std::strrchr(text, ')');
  return end_of_comm != nullptr && end_of_comm[1] == ' ' && (end_of_comm[2] == 'Z' || end_of_comm[2] == 'X');
}

PeerProcess::PeerProcess(pid_t pid) noexcept : pid_(pid) {
  if (pid <= 0 || pid == ::getpid()) return;  // as process_is_gone: never gone
#ifdef SYS_pidfd_open
  // The raw syscall rather than glibc's wrapper (2.36+): builds against any glibc. The fd comes
  // with close-on-exec set.
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    fd_ = static_cast<int>(fd);
    return;
  }
  if (errno == ESRCH) gone_at_open_ = true;
  // Anything else (ENOSYS, EPERM, EMFILE, ENOMEM...): process_is_gone(pid) in gone().
#endif
}

PeerProcess::PeerProcess(PeerProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      fd_(std::exchange(other.fd_, -1)),
      gone_at_open_(std::exchange(other.gone_at_open_, false)) {}

PeerProcess& PeerProcess::operator=(PeerProcess&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    pid_ = std::exchange(other.pid_, 0);
    fd_ = std::exchange(other.fd_, -1);
    gone_at_open_ = std::exchange(other.gone_at_open_, false);
  }
  return *this;
}

PeerProcess::~PeerProcess() {
  if (fd_ >= 0) ::close(fd_);
}

bool PeerProcess::gone_within(std::chrono::milliseconds limit) const noexcept {
  using Steady = std::chrono::steady_clock;
  const Steady::time_point end = Steady::now() + limit;
  for (;;) {
    if (gone()) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Steady::now());
    if (left.count() <= 0 || pid_ <= 0) return false;
    if (fd_ >= 0) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0) return true;
    } else {
      ::usleep(1000);
    }
  }
}

bool PeerProcess::gone() const noexcept {
  if (gone_at_open_) return true;
  if (fd_ < 0) return process_is_gone(pid_);
  pollfd p{fd_, POLLIN, 0};
  // Readable once the process has exited. EINTR: say "not yet"; the caller asks again soon.
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

}  // namespace ipcmark
