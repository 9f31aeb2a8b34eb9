// harness/pacer.hpp — the open-loop sender's schedule (`--rate`). Message k is due at
// start + k / rate, fixed in advance; a message is stamped with that *intended* time, so
// when the channel or the receiver falls behind, the wait shows up as latency instead of
// silently slowing the sender (no coordinated omission; see wrk2, Aeron's load rig).
//
// To hit each due time without burning a CPU for the whole period, the sender sleeps
// until `margin` before it (the sleep's measured overshoot) and busy-waits the rest. A
// sender already late does not wait at all: it catches up back to back.
#pragma once

#include <cstdint>

namespace ipcmark {

class SendSchedule {
 public:
  SendSchedule(std::uint64_t start_ns, std::uint64_t messages_per_second)
      : start_(start_ns), rate_(messages_per_second) {}

  // Exact integer arithmetic in whole seconds plus the rest: no drift however long the
  // run, no overflow for any rate up to 10^9/s.
  std::uint64_t due(std::uint64_t k) const {
    return start_ + k / rate_ * 1'000'000'000u + k % rate_ * 1'000'000'000u / rate_;
  }
  std::uint64_t period_ns() const { return 1'000'000'000u / rate_; }

 private:
  std::uint64_t start_, rate_;
};

// Waits until `due` on `clock` (now(), sleep_until(t)); returns the ns spent busy-waiting.
template <class Clock>
std::uint64_t wait_until(Clock& clock, std::uint64_t due, std::uint64_t margin_ns) {
  std::uint64_t now = clock.now();
  if (now >= due) return 0;
  if (due - now > margin_ns) {
    clock.sleep_until(due - margin_ns);
    now = clock.now();
  }
  const std::uint64_t spin_start = now;
  while (now < due) now = clock.now();
  return now - spin_start;
}

// Messages per second actually sent: `messages` sends spread from the first to the last.
inline double achieved_rate(std::uint64_t messages, std::uint64_t first_send_ns, std::uint64_t last_send_ns) {
  if (messages < 2 || last_send_ns <= first_send_ns) return 0.0;
  return double(messages - 1) * 1e9 / double(last_send_ns - first_send_ns);
}

// CLOCK_MONOTONIC with clock_nanosleep(TIMER_ABSTIME).
struct MonotonicClock {
  std::uint64_t now() const;
  void sleep_until(std::uint64_t t) const;
};

// How late a sleep of this process wakes up (a high percentile of a few short sleeps),
// the margin the sender keeps for busy-waiting. Lowers the timer slack first.
std::uint64_t calibrate_sleep_margin_ns();

}  // namespace ipcmark
