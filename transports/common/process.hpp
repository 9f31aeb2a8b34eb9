// transports/common/process.hpp — is the peer process still there?
#pragma once

#include <sys/types.h>

#include <chrono>

namespace ipcmark {

// True once `pid` has exited: kill(pid, 0) says ESRCH, or it is a zombie nobody has reaped
// yet (which kill() alone would miss). False for pid <= 0 and for ourselves. A few
// syscalls: for slow paths (a waiter checking every few milliseconds) only.
// Asks about a number, not a process: once the kernel has given the pid to a new process, that
// one is the answer. Prefer PeerProcess, which holds on to the process itself.
bool process_is_gone(pid_t pid) noexcept;

// The peer process, held from the moment its pid becomes known (connect, accept), so that its
// exit is seen even after the kernel has given its pid to another process.
//
// Holds a pidfd (pidfd_open, Linux 5.3+), which refers to that very process for as long as it is
// open: it polls readable once the process has exited (a zombie included), whoever has the pid
// since. Where there is no pidfd, gone() is process_is_gone(pid), with its blind spot:
//  * ENOSYS (older kernel), EPERM (a seccomp filter that refuses it, e.g. an old container
//    profile), and running out of descriptors or memory: the pid-based check.
//  * ESRCH: no such process at open time: gone from the start (it exited and was reaped).
// The window between the peer writing its pid and our open remains: a peer that died and whose
// pid was reused before we open it is taken for the new process. Opening early keeps it short.
class PeerProcess {
 public:
  // No peer (pid 0: a server before accept(), in-process tests): never gone.
  PeerProcess() noexcept = default;
  explicit PeerProcess(pid_t pid) noexcept;
  PeerProcess(PeerProcess&& other) noexcept;
  PeerProcess& operator=(PeerProcess&& other) noexcept;
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;
  ~PeerProcess();

  // True once the process has exited. One poll() of the pidfd (or process_is_gone): for slow
  // paths, like process_is_gone.
  bool gone() const noexcept;
  // Whether the process is gone, or goes within `limit` (one poll() of the pidfd with that
  // timeout; without a pidfd, process_is_gone every millisecond). For a peer known to be dying:
  // the kernel hands a robust mutex its owner's death (exit_mm) before it makes the pidfd
  // readable (exit_notify), so a waiter woken by the first can ask gone() too early.
  bool gone_within(std::chrono::milliseconds limit) const noexcept;
  pid_t pid() const noexcept { return pid_; }
  // Whether gone() asks a pidfd (false: the pid-based fallback, or no peer).
  bool has_pidfd() const noexcept { return fd_ >= 0; }

 private:
  pid_t pid_ = 0;
  int fd_ = -1;
  bool gone_at_open_ = false;  // ESRCH at open: it had already exited and been reaped
};

}  // namespace ipcmark
