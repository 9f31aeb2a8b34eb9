#include "transports/shm/wait.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

namespace ipcmark::shm {
namespace {

long futex(const std::uint32_t* word, int op, std::uint32_t value, const timespec* timeout) noexcept {
  // Shared futex (no FUTEX_PRIVATE_FLAG): the kernel keys it by the mapped page, so both processes
  // mapping the region meet on the same word.
  return ::syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
}

// kill(pid, 0) still succeeds for a zombie, and a peer that is our own child stays one until we
// reap it, which we will not do while we wait for it: so also look at its state in /proc.
bool is_zombie(pid_t pid) noexcept {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // no /proc: rely on kill() alone
  char text[512];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return false;
  text[n] = '\0';
  // "pid (comm) S ...": comm may hold spaces and parentheses, so find the last ')'.
  const char* end_of_comm = std::strrchr(text, ')');
  if (end_of_comm == nullptr || end_of_comm[1] != ' ') return false;
  const char state = end_of_comm[2];
  return state == 'Z' || state == 'X';
}

}  // namespace

bool process_is_gone(pid_t pid) noexcept {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  return is_zombie(pid);  // EPERM also means "exists" (another user's process)
}

void futex_wait(const std::uint32_t* word, std::uint32_t expected, std::chrono::nanoseconds timeout) noexcept {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const timespec relative{static_cast<time_t>(seconds.count()), static_cast<long>((timeout - seconds).count())};
  // EAGAIN (word changed), ETIMEDOUT and EINTR all mean "go and look again".
  futex(word, FUTEX_WAIT, expected, &relative);
}

void futex_wake_all(const std::uint32_t* word) noexcept { futex(word, FUTEX_WAKE, INT_MAX, nullptr); }

void wake_sleeper(SleepSlot slot) noexcept {
  // release: a waiter whose acquire load sees this bump also sees the index we published before.
  std::atomic_ref(*slot.word).fetch_add(1, std::memory_order_release);
  futex_wake_all(slot.word);
}

bool Patience::keep_waiting() {
  now_ = Clock::now();
  if (!started_) {
    started_ = true;
    next_liveness_check_ = now_ + kLivenessPeriod;
  }
  // acquire: after seeing "closed", the caller's last ready() sees all the peer published before.
  if (spec_.peer.closed != nullptr &&
      std::atomic_ref(*spec_.peer.closed).load(std::memory_order_acquire) != 0) {
    peer_closed_ = true;
    return false;
  }
  if (now_ >= spec_.deadline) return false;
  if (spec_.peer.pid != 0 && now_ >= next_liveness_check_) {
    next_liveness_check_ = now_ + kLivenessPeriod;
    if (process_is_gone(spec_.peer.pid)) {
      peer_gone_ = true;
      return false;
    }
  }
  return true;
}

std::chrono::nanoseconds Patience::sleep_budget(std::chrono::nanoseconds cap) const noexcept {
  // keep_waiting() returned true, so now_ < deadline and the subtraction cannot overflow.
  const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(spec_.deadline - now_);
  return left < cap ? left : cap;
}

void Patience::give_up() const {
  const std::string pid = std::to_string(spec_.peer.pid);
  if (peer_closed_)
    throw Error(Errc::PeerGone, spec_.peer.pid != 0 ? "peer process " + pid + " closed the channel"
                                                    : "peer closed the channel");
  if (peer_gone_) throw Error(Errc::PeerGone, "peer process " + pid + " is gone");
  throw Error(Errc::Timeout, std::string("timed out waiting for ") + spec_.what);
}

}  // namespace ipcmark::shm
