// tests/bench/raw_shm_support.hpp — what the raw shared-memory benchmarks share (issue 19): one
// private SysV segment attached before fork() and marked for removal at once, a busy-poll wait
// that notices a dead child, and the child process itself.
#pragma once

#include <signal.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "raw_pingpong_support.hpp"

namespace raw_bench {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// A shared segment and the fork()ed child that uses it with us. The segment is IPC_PRIVATE and
// marked IPC_RMID right after attaching: it goes away with the last detach (our exit and the
// child's), so nothing is left behind whatever happens. Derived classes lay out the bytes.
class SharedChild {
 public:
  SharedChild(const SharedChild&) = delete;
  SharedChild& operator=(const SharedChild&) = delete;

  const char* error() const { return error_.empty() ? nullptr : error_.c_str(); }

  // Polls `ready` (a busy loop with PAUSE) until it is true; false once the child has died. The
  // child is looked at only every kPollsPerCheck polls, far from the fast path.
  template <class Ready>
  bool spin_until(Ready&& ready) {
    for (;;) {
      for (unsigned i = 0; i < kPollsPerCheck; ++i) {
        if (ready()) return true;
        cpu_relax();
      }
      if (child_gone()) return false;
    }
  }

 protected:
  explicit SharedChild(std::size_t bytes) {
    id_ = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
    if (id_ < 0) {
      fail("shmget");
      return;
    }
    void* at = shmat(id_, nullptr, 0);
    shmctl(id_, IPC_RMID, nullptr);
    if (at == reinterpret_cast<void*>(-1)) {
      fail("shmat");
      return;
    }
    base_ = static_cast<std::byte*>(at);  // page-aligned, zero-filled
  }
  ~SharedChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    if (base_ != nullptr) shmdt(base_);
  }

  // Forks the child, pinned to `cpu`, running `body` (no return) in it.
  template <class Body>
  void start_child(int cpu, Body&& body) {
    if (base_ == nullptr) return;
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent || !pin(cpu)) _exit(1);
      body();
      _exit(0);
    }
    if (pid_ < 0) fail("fork");
  }

  std::byte* base_ = nullptr;

 private:
  static constexpr unsigned kPollsPerCheck = 1u << 16;

  bool child_gone() {
    if (pid_ <= 0) return true;
    if (waitpid(pid_, nullptr, WNOHANG) == 0) return false;
    pid_ = -1;
    return true;
  }
  void fail(const char* what) { error_ = std::string(what) + ": " + std::strerror(errno); }

  int id_ = -1;
  pid_t pid_ = -1;
  std::string error_;
};

// A word of the segment seen atomically (the segment is plain bytes shared with another process).
inline std::atomic_ref<std::uint64_t> shared_word(std::byte* at) {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(at));
}

}  // namespace raw_bench
