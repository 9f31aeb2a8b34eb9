// tests/support/pid_namespace.hpp — a body run as pid 1 of a new pid namespace (root only).
//
// Runs a body as pid 1 of a new pid namespace, with its own /proc, where no other
// process takes pids, so that a test can make the kernel give a dead process's pid to a new one
// (write pid - 1 to /proc/sys/kernel/ns_last_pid, then fork). Needs root (CAP_SYS_ADMIN).
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <string>

namespace ipcmark::testing {

// What the body returned, or nullopt with `why` set when no namespace could be made (not root).
// The body runs in a forked process: it reports by its return value, not by gtest assertions.
inline std::optional<std::string> in_new_pid_namespace(const std::function<std::string()>& body, std::string& why) {
  int report[2];
  if (::pipe(report) != 0) {
    why = std::string("pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  const pid_t outer = ::fork();
  if (outer < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (outer == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // with the test: nothing outlives it
    ::close(report[0]);
    const auto fail = [&](const char* what) {
      const std::string text = std::string("unavailable: ") + what + ": " + std::strerror(errno);
      [[maybe_unused]] const ssize_t n = ::write(report[1], text.data(), text.size());
      ::_exit(10);
    };
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) fail("unshare(CLONE_NEWPID | CLONE_NEWNS)");
    // Our /proc must not show up outside.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail("mount --make-rprivate /");
    const pid_t init = ::fork();  // pid 1 of the new namespace
    if (init < 0) fail("fork");
    if (init == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) fail("mount /proc");
      const std::string text = body();
      const bool written = ::write(report[1], text.data(), text.size()) == static_cast<ssize_t>(text.size());
      ::_exit(written ? 0 : 12);
    }
    int status = 0;
    ::waitpid(init, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 13);
  }
  ::close(report[1]);
  std::string text;
  char buffer[512];
  for (ssize_t n; (n = ::read(report[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(report[0]);
  int status = 0;
  ::waitpid(outer, &status, 0);
  if (text.rfind("unavailable: ", 0) == 0) {
    why = text;
    return std::nullopt;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    text += " [namespace ended with status " + std::to_string(status) + "]";
  return text;
}

// In a pid namespace of one's own: makes the next fork get `pid` (if it is free).
inline bool next_pid_will_be(pid_t pid) {
  const int fd = ::open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::string text = std::to_string(pid - 1);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return written;
}

}  // namespace ipcmark::testing
