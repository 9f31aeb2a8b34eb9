#include "transports/shm/region_guard.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#include <cerrno>
#include <string>
#include <utility>

#include "transports/transport.hpp"

namespace ipcmark::shm {
namespace {

enum : std::uint32_t { kFree, kClaimed, kLive };

// Only atomics, so the handler may read them at any moment (they are all lock-free here).
struct Slot {
  std::atomic<std::uint32_t> state{kFree};
  std::atomic<std::uint32_t> handlers{0};  // handlers at work on this slot; unregistering waits for 0
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::size_t> length{0};
  std::atomic<std::uint32_t> truncated{0};
};
static_assert(std::atomic<std::uintptr_t>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free);

Slot g_slots[kGuardedMappings];
// Written once, before our handler is installed; read only by the handler.
struct sigaction g_previous {};

// The previous disposition, as if we had never been there.
void chain(int sig, siginfo_t* info, void* context) {
  if ((g_previous.sa_flags & SA_SIGINFO) != 0) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
    return;
  }
  // SIG_IGN does not hold for a fault (the kernel kills anyway): both end in the default action.
  if (g_previous.sa_handler == SIG_IGN && info->si_code <= 0) return;  // sent by kill(): ignored
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  ::sigemptyset(&fallback.sa_mask);
  ::sigaction(SIGBUS, &fallback, nullptr);
  // A fault happens again on return, now with the default action; a sent signal must be resent
  // (it stays pending until this handler returns, SIGBUS being blocked in it).
  if (info->si_code <= 0) ::raise(SIGBUS);
}

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  // BUS_ADRERR: an access past the end of the object (the kernel's word for "truncated").
  if (info->si_code == BUS_ADRERR) {
    const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    for (Slot& slot : g_slots) {
      if (slot.state.load(std::memory_order_acquire) != kLive) continue;
      // seq_cst, with the seq_cst state store in release(): either it sees us here and waits, or
      // we see the slot is no longer live and leave its range alone.
      slot.handlers.fetch_add(1, std::memory_order_seq_cst);
      bool handled = false;
      if (slot.state.load(std::memory_order_seq_cst) == kLive) {
        const std::uintptr_t begin = slot.begin.load(std::memory_order_relaxed);
        const std::size_t length = slot.length.load(std::memory_order_relaxed);
        if (address - begin < length) {
          // The same addresses, now private zero pages: the access retries and reads 0.
          void* p = ::mmap(reinterpret_cast<void*>(begin), length, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
          if (p != MAP_FAILED) {
            slot.truncated.store(1, std::memory_order_relaxed);
            handled = true;
          }
        }
      }
      slot.handlers.fetch_sub(1, std::memory_order_release);
      if (handled) {
        errno = saved_errno;
        return;
      }
    }
  }
  errno = saved_errno;
  chain(sig, info, context);
}

void install() {
  static const int error = [] {
    struct sigaction ours {};
    ours.sa_sigaction = &on_sigbus;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK;
    ::sigemptyset(&ours.sa_mask);
    return ::sigaction(SIGBUS, &ours, &g_previous) == 0 ? 0 : errno;
  }();
  if (error != 0) {
    errno = error;
    throw_system_error("cannot install the SIGBUS handler that guards shared memory");
  }
}

}  // namespace

const std::atomic<std::uint32_t> GuardedMapping::kNever{0};

GuardedMapping::GuardedMapping(void* begin, std::size_t length) {
  install();
  for (int i = 0; i < kGuardedMappings; ++i) {
    Slot& slot = g_slots[i];
    std::uint32_t free = kFree;
    if (!slot.state.compare_exchange_strong(free, kClaimed, std::memory_order_acquire)) continue;
    slot.begin.store(reinterpret_cast<std::uintptr_t>(begin), std::memory_order_relaxed);
    slot.length.store(length, std::memory_order_relaxed);
    slot.truncated.store(0, std::memory_order_relaxed);
    slot.state.store(kLive, std::memory_order_seq_cst);  // release: the handler sees the range with it
    slot_ = i;
    flag_ = &slot.truncated;
    return;
  }
  throw Error(Errc::System, "cannot guard another shared memory mapping: all " + std::to_string(kGuardedMappings) +
                                " slots are in use");
}

GuardedMapping::GuardedMapping(GuardedMapping&& other) noexcept
    : slot_(std::exchange(other.slot_, -1)), flag_(std::exchange(other.flag_, &kNever)) {}

GuardedMapping& GuardedMapping::operator=(GuardedMapping&& other) noexcept {
  if (this != &other) {
    release();
    slot_ = std::exchange(other.slot_, -1);
    flag_ = std::exchange(other.flag_, &kNever);
  }
  return *this;
}

void GuardedMapping::release() noexcept {
  if (slot_ < 0) return;
  Slot& slot = g_slots[std::exchange(slot_, -1)];
  flag_ = &kNever;
  slot.state.store(kClaimed, std::memory_order_seq_cst);
  // A handler that got in before the store above may be mapping over the range right now: the
  // caller unmaps it next, so wait (a handler is a few syscalls long, and runs on another thread).
  while (slot.handlers.load(std::memory_order_seq_cst) != 0) ::sched_yield();
  slot.state.store(kFree, std::memory_order_release);
}

bool region_truncated(const void* address) noexcept {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  for (const Slot& slot : g_slots) {
    if (slot.state.load(std::memory_order_acquire) != kLive) continue;
    if (at - slot.begin.load(std::memory_order_relaxed) < slot.length.load(std::memory_order_relaxed))
      return slot.truncated.load(std::memory_order_relaxed) != 0;
  }
  return false;
}

}  // namespace ipcmark::shm
