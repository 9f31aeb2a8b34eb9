#include "transports/common/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

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

}  // namespace ipcmark
