// transports/shm/wait.hpp — how a ring side waits for its peer: two duck-typed policies.
//
//   SpinWait   busy-polls with `pause`; reads the clock and checks the peer only every
//              kPollsPerCheck polls, so a poll is a load or two and a pause, never a syscall.
//   BlockWait  polls kBlockSpinPolls times (≈13 µs here; none for --wait futex, eventfd, sem and
//              uds, which sleep at once), then sleeps on a futex in the shared region (or on the
//              SleepSlot's doorbell: doorbell.hpp), waking at least every kMaxSleep to look at the clock and the peer. It does
//              not poll when both processes are confined to one and the same CPU. Given a time to
//              wake (Anticipation, from an ArrivalForecast), it sleeps at once, wakes then by
//              itself and polls for up to kAnticipationPolls before sleeping again.
//
// Both expose `static auto until(Ready ready, const WaitSpec&, SleepSlot)`: return what `ready()`
// returned once it tests true (the ring's reader gets the record header it saw, so it need not load
// that contended line again); throw Timeout when the deadline passes, PeerGone when the peer died or closed.
// The ring instantiates its hot loops with one of them, chosen once per Connection.
//
// Sleeping without lost wake-ups (a Dekker handshake; both fences are seq_cst):
//   waiter:    sleeping = 1; fence; seq = word (acquire); if ready() return; FUTEX_WAIT(word, seq)
//   publisher: index = new (release); fence; if sleeping { word += 1 (release); FUTEX_WAKE(word) }
// The two fences order each side's store before its load, so at least one side sees the other:
//  - the waiter's ready() sees the new index, and does not sleep; or
//  - the publisher sees sleeping == 1, and bumps the word. If the bump came before the waiter read
//    `seq`, that acquire read makes the new index visible to ready(). If it came after, the kernel
//    finds word != seq and FUTEX_WAIT returns at once, or the waiter is already queued and the
//    FUTEX_WAKE wakes it.
// Sleeps are still capped at kMaxSleep so the deadline and the peer are re-checked regularly.
// The futex is a shared one (no FUTEX_PRIVATE_FLAG): the two sides are different processes.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "transports/common/process.hpp"
#include "transports/transport.hpp"

namespace ipcmark::shm {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// ~13 ns per pause on this project's Xeon (≈55 µs between checks), ~40 ns on Skylake-class cores
// (≈165 µs): clock reads stay far below 1 % of polls, the deadline is still honoured to ~0.2 ms.
inline constexpr unsigned kPollsPerCheck = 4096;
// BlockWait polls this many times before sleeping: ≈13 µs here, ≈45 µs on Skylake-class cores.
// It must outlast a futex wake-up (a few µs on bare metal, 10 µs and more in a VM): otherwise once
// one side sleeps, the other gives up spinning before the sleeper has replied and sleeps too, and
// ping-pong stays in that regime. Measured on this 2-vCPU VM, 8-byte ping-pong: 256 polls (3 µs)
// 3.5–4.5 µs per round trip; 512 polls 0.36–0.42 µs; 1024 polls 0.35–0.37 µs, as fast as SpinWait.
inline constexpr unsigned kBlockSpinPolls = 1024;
// Longest single futex sleep: the deadline and the peer's liveness are re-checked at least this often.
inline constexpr std::chrono::milliseconds kMaxSleep{10};
// How long BlockWait polls after waking at an anticipated time before it sleeps again: ≈40 µs
// here, room for this VM's timer jitter (p10-p90 of a timed futex wait's lateness: 23-54 µs).
inline constexpr unsigned kAnticipationPolls = 3 * kBlockSpinPolls;
// How often a waiter asks the kernel whether the peer process still exists (a BlockWait that
// sleeps asks once per wake-up, so every kMaxSleep at most).
inline constexpr std::chrono::milliseconds kLivenessPeriod{1};

// A blocking reader's plan for one wait, and what came of it (see arrival_forecast.hpp).
struct Anticipation {
  enum class Outcome {
    Unplanned,   // no wake_at, or too late to sleep first
    Preempted,   // the writer's wake-up (or the data) came before our timer: we woke too late
    Late,        // our timer woke us, and the data was there already: too late
    Caught,      // our timer woke us, and the data came while we polled: as planned
    Missed,      // our timer woke us, and nothing came while we polled: too early, or a pause
  };
  Clock::time_point wake_at{};  // in: sleep until then, then poll; the epoch: no plan
  // out: when the wait saw its data after having slept (the epoch if it never slept), how late
  // our timer woke us (0 unless it did), and how the plan went.
  Clock::time_point arrived_at{};
  std::chrono::nanoseconds timer_late{};
  Outcome outcome = Outcome::Unplanned;
};

class SharedRegion;  // region.hpp

// The other side of a wait. pid 0 (in-process tests; a server before accept()) skips the process
// check; `closed` (nullable) points at the peer's "I have gone" word in the shared header.
struct Peer {
  pid_t pid = 0;
  std::uint32_t* closed = nullptr;
  // BlockWait's polls before sleeping. None when both processes may run only on the same one
  // CPU: the peer cannot make progress while we poll, so polling only delays it.
  unsigned block_spin_polls = kBlockSpinPolls;
  // BlockWait's plan for this wait (nullable): a reader with a forecast of its next message.
  Anticipation* anticipation = nullptr;
  // The region the wait is in (nullable: a plain buffer in tests). Once a peer has truncated it,
  // it reads zeros, so the wait ends with Corrupt rather than waiting for data that cannot come.
  const SharedRegion* region = nullptr;
  // The peer's process, opened when `pid` became known (nullable: then process_is_gone(pid),
  // which a reused pid fools). Owned by the Connection.
  const PeerProcess* process = nullptr;
};

// True when this process and `pid` are each allowed exactly one CPU, the same one.
bool shares_only_cpu_with(pid_t pid) noexcept;

struct WaitSpec {
  Deadline deadline;
  Peer peer;
  const char* what;  // what we wait for, for the Timeout message: "data", "space", "the client"
};

struct Doorbell;  // doorbell.hpp
class Patience;

// Where a waiter sleeps: the futex word its peer bumps, and the flag that asks the peer to bump it.
// With a doorbell (--wait eventfd, sem, uds), the waiter sleeps on that instead and the peer rings
// it instead of bumping the word; the flag and the handshake below are the same.
struct SleepSlot {
  std::uint32_t* word;
  std::uint32_t* sleeping;
  const Doorbell* bell = nullptr;
};

// FUTEX_WAIT on a shared word: returns when woken, when *word != expected, on a signal, or
// after `timeout` (then true). Callers re-check their condition in every case.
bool futex_wait(const std::uint32_t* word, std::uint32_t expected, std::chrono::nanoseconds timeout) noexcept;
// The same for a doorbell: true after `timeout`. A hang-up is told to `patience`; a semaphore that
// is not one throws Corrupt.
bool doorbell_wait(const Doorbell& bell, std::chrono::nanoseconds timeout, Patience& patience);
void futex_wake_all(const std::uint32_t* word) noexcept;
using ipcmark::process_is_gone;  // transports/common/process.hpp
// Bumps the slot's word (release) and wakes its sleeper: the slow half of wake_if_sleeping().
void wake_sleeper(SleepSlot slot) noexcept;

// Publisher side, right after the release store of its index (see the handshake above).
inline void wake_if_sleeping(SleepSlot slot) noexcept {
  // seq_cst fence: our index store must be globally visible before we read the flag (StoreLoad);
  // a release store alone would let this load pass it and miss a waiter that just announced itself.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (std::atomic_ref(*slot.sleeping).load(std::memory_order_relaxed) != 0) wake_sleeper(slot);
}

// The slow-path bookkeeping of one wait: deadline, peer liveness. Reads no clock until asked.
class Patience {
 public:
  explicit Patience(const WaitSpec& spec) noexcept : spec_(spec) {}
  // False once the deadline has passed, the peer is gone (closed, exited or a zombie) or the
  // region was truncated.
  bool keep_waiting();
  // How long the next sleep may last: at most `cap`, at most until the deadline.
  std::chrono::nanoseconds sleep_budget(std::chrono::nanoseconds cap) const noexcept;
  // The time keep_waiting() last read.
  Clock::time_point now() const noexcept { return now_; }
  // After keep_waiting() returned false (and a last look at the condition failed).
  [[noreturn]] void give_up() const;
  // The peer hung up its end of our doorbell: keep_waiting() says no from now on.
  void peer_hung_up() noexcept { peer_closed_ = true; }

 private:
  WaitSpec spec_;
  Clock::time_point now_{};
  Clock::time_point next_liveness_check_{};
  bool started_ = false;
  bool peer_gone_ = false;
  bool peer_closed_ = false;
  bool truncated_ = false;
};

struct SpinWait {
  template <class Ready>
  static auto until(Ready&& ready, const WaitSpec& spec, SleepSlot /*unused: never sleeps*/) {
    Patience patience(spec);
    for (;;) {
      for (unsigned i = 0; i < kPollsPerCheck; ++i) {
        if (auto seen = ready()) return seen;
        cpu_relax();
      }
      // A last look after giving up: a peer may publish and then exit, and the data still counts.
      if (!patience.keep_waiting()) {
        if (auto seen = ready()) return seen;
        patience.give_up();
      }
    }
  }
};

struct BlockWait {
  // The polling inline, in the caller's loop (out of line, the poll reloaded the lambda's captures
  // and stored its result on every iteration: shm/pingpong/4096 block 2.1 -> 2.3 µs); the sleeping
  // out of line.
  template <class Ready>
  [[gnu::always_inline]] static inline auto until(Ready&& ready, const WaitSpec& spec, SleepSlot slot) {
    const Anticipation* const plan = spec.peer.anticipation;
    // Not when the peer shares our only CPU (no polls before sleeping): polling after waking
    // would keep the writer off the CPU it needs to send (same-CPU open loop: p99 1.7-3.8 ms).
    const bool anticipating =
        plan != nullptr && plan->wake_at != Clock::time_point{} && spec.peer.block_spin_polls != 0;
    if (!anticipating)
      if (auto seen = poll(ready, spec.peer.block_spin_polls)) return seen;
    return sleep_until(ready, spec, slot, anticipating);
  }

 private:
  template <class Ready>
  [[gnu::noinline]] static auto sleep_until(Ready& ready, const WaitSpec& spec, SleepSlot slot, bool anticipating)
      -> decltype(ready()) {
    Anticipation* const plan = spec.peer.anticipation;
    std::atomic_ref sleeping(*slot.sleeping);
    std::atomic_ref word(*slot.word);
    struct Unannounce {  // the flag must not stay set on any way out, a throw included
      std::atomic_ref<std::uint32_t>& flag;
      ~Unannounce() { flag.store(0, std::memory_order_relaxed); }  // a stale 1 costs one spurious wake
    } unannounce{sleeping};
    Patience patience(spec);
    bool slept = false;
    const auto arrived = [&](auto seen) {
      if (plan != nullptr && slept) plan->arrived_at = Clock::now();
      return seen;
    };
    for (;;) {
      if (!patience.keep_waiting()) {
        if (auto seen = ready()) return arrived(seen);
        patience.give_up();
      }
      auto budget = patience.sleep_budget(kMaxSleep);
      bool sleeps_until_wake = false;  // rather than until kMaxSleep or the deadline, whichever is first
      if (anticipating) {
        const auto until_wake = plan->wake_at - patience.now();
        if (until_wake <= std::chrono::nanoseconds::zero()) {  // too late to sleep first: poll now
          anticipating = false;
          if (auto seen = poll(ready, spec.peer.block_spin_polls)) return seen;
          continue;
        }
        sleeps_until_wake = until_wake <= budget;
        budget = std::min<std::chrono::nanoseconds>(budget, until_wake);
      }
      sleeping.store(1, std::memory_order_relaxed);
      // seq_cst fence: pairs with the publisher's (see the top of this file); orders the flag store
      // before the loads of `word` and of the peer's index below.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      // acquire: read `seq` before ready() re-reads the index, and if this sees a bump, ready()
      // sees the index published before it.
      const std::uint32_t seq = word.load(std::memory_order_acquire);
      if (auto seen = ready()) return arrived(seen);
      const bool timed_out =
          slot.bell != nullptr ? doorbell_wait(*slot.bell, budget, patience) : futex_wait(slot.word, seq, budget);
      slept = true;
      if (!anticipating || (timed_out && !sleeps_until_wake)) continue;
      // Woken at (or before) the anticipated time: poll through the message's expected arrival,
      // unannounced, so the writer need not wake us.
      anticipating = false;
      sleeping.store(0, std::memory_order_relaxed);
      using Outcome = Anticipation::Outcome;
      if (!timed_out) {
        plan->outcome = Outcome::Preempted;
      } else {
        const Clock::time_point woke = Clock::now();
        if (woke > plan->wake_at) plan->timer_late = woke - plan->wake_at;
        plan->outcome = ready() ? Outcome::Late : Outcome::Caught;
      }
      if (auto seen = poll(ready, kAnticipationPolls)) return arrived(seen);
      if (plan->outcome == Outcome::Caught) plan->outcome = Outcome::Missed;
    }
  }

  // What ready() returned once it tested true, or a false one after `polls` tries.
  template <class Ready>
  [[gnu::always_inline]] static inline auto poll(Ready& ready, unsigned polls) -> decltype(ready()) {
    for (unsigned i = 0; i < polls; ++i) {
      if (auto seen = ready()) return seen;
      cpu_relax();
    }
    return {};
  }
};

}  // namespace ipcmark::shm
