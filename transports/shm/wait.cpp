#include "transports/shm/wait.hpp"

#include <fcntl.h>
#include <sched.h>
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

#include "transports/shm/doorbell.hpp"
#include "transports/shm/region.hpp"

namespace ipcmark::shm {
namespace {

long futex(const std::uint32_t* word, int op, std::uint32_t value, const timespec* timeout) noexcept {
  // Shared futex (no FUTEX_PRIVATE_FLAG): the kernel keys it by the mapped page, so both processes
  // mapping the region meet on the same word.
  return ::syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
}

}  // namespace

bool futex_wait(const std::uint32_t* word, std::uint32_t expected, std::chrono::nanoseconds timeout) noexcept {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const timespec relative{static_cast<time_t>(seconds.count()), static_cast<long>((timeout - seconds).count())};
  // EAGAIN (word changed), ETIMEDOUT and EINTR all mean "go and look again".
  return futex(word, FUTEX_WAIT, expected, &relative) != 0 && errno == ETIMEDOUT;
}

void futex_wake_all(const std::uint32_t* word) noexcept { futex(word, FUTEX_WAKE, INT_MAX, nullptr); }

void wake_sleeper(SleepSlot slot) noexcept {
  if (slot.bell != nullptr) return ring(*slot.bell);
  // release: a waiter whose acquire load sees this bump also sees the index we published before.
  std::atomic_ref(*slot.word).fetch_add(1, std::memory_order_release);
  futex_wake_all(slot.word);
}

bool doorbell_wait(const Doorbell& bell, std::chrono::nanoseconds timeout, Patience& patience) {
  switch (sleep_on(bell, timeout)) {
    case BellSleep::Rung: return false;
    case BellSleep::TimedOut: return true;
    case BellSleep::HungUp: patience.peer_hung_up(); return false;
    case BellSleep::Corrupt: break;
  }
  throw Error(Errc::Corrupt, "corrupt region: the semaphore this side sleeps on is not a process-shared one");
}

bool Patience::keep_waiting() {
  now_ = Clock::now();
  if (!started_) {
    started_ = true;
    next_liveness_check_ = now_ + kLivenessPeriod;
  }
  // First: a truncated region reads zeros, the peer's closed word included.
  if (spec_.peer.region != nullptr && spec_.peer.region->truncated()) {
    truncated_ = true;
    return false;
  }
  // acquire: after seeing "closed", the caller's last ready() sees all the peer published before.
  if (peer_closed_ || (spec_.peer.closed != nullptr &&
                       std::atomic_ref(*spec_.peer.closed).load(std::memory_order_acquire) != 0)) {
    peer_closed_ = true;
    return false;
  }
  if (now_ >= spec_.deadline) return false;
  if (spec_.peer.pid != 0 && now_ >= next_liveness_check_) {
    next_liveness_check_ = now_ + kLivenessPeriod;
    const PeerProcess* process = spec_.peer.process;
    if (process != nullptr ? process->gone() : process_is_gone(spec_.peer.pid)) {
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
  if (truncated_) spec_.peer.region->throw_truncated();
  const std::string pid = std::to_string(spec_.peer.pid);
  if (peer_closed_)
    throw Error(Errc::PeerGone, spec_.peer.pid != 0 ? "peer process " + pid + " closed the channel"
                                                    : "peer closed the channel");
  if (peer_gone_) throw Error(Errc::PeerGone, "peer process " + pid + " is gone");
  throw Error(Errc::Timeout, std::string("timed out waiting for ") + spec_.what);
}

bool shares_only_cpu_with(pid_t pid) noexcept {
  cpu_set_t mine, theirs;
  CPU_ZERO(&mine);
  CPU_ZERO(&theirs);
  if (pid <= 0 || ::sched_getaffinity(0, sizeof mine, &mine) != 0 || ::sched_getaffinity(pid, sizeof theirs, &theirs) != 0)
    return false;
  return CPU_COUNT(&mine) == 1 && CPU_EQUAL(&mine, &theirs);
}

}  // namespace ipcmark::shm
