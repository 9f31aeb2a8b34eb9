// harness/measure/pacer.hpp — the open-loop sender's schedule (`--rate`). Message k is due at
// start + k / rate, fixed in advance; a message is stamped with that *intended* time, so
// when the channel or the receiver falls behind, the wait shows up as latency instead of
// silently slowing the sender (no coordinated omission; see wrk2, Aeron's load rig).
//
// To hit each due time without burning a CPU for the whole period, the sender sleeps
// until `margin` before it (how late its sleeps wake) and busy-waits the rest. A sender
// already late does not wait at all: it catches up back to back. The margin is learnt from
// the run's own sleeps (SleepMargin): a calibration of a few short sleeps before the run
// came out anywhere between a few and about 20 µs on this project's VMs, so the sender's
// busy-wait, and with it the CPU per message of every open-loop row, varied from run to run
// (0.2 to 18.7 µs per message at 10,000 msgs/s).
#pragma once

#include <array>
#include <cstddef>
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

// How long before a due time the sender stops sleeping: the 90th percentile of how late its
// last kWindow sleeps woke, plus kSlack, recomputed every kWindow sleeps. Starts at the value
// it is given (calibrate_sleep_margin_ns()).
class SleepMargin {
 public:
  static constexpr std::size_t kWindow = 64;
  static constexpr std::uint64_t kSlack = 5'000;

  explicit SleepMargin(std::uint64_t initial_ns) : margin_(initial_ns) {}
  std::uint64_t ns() const { return margin_; }
  // A sleep meant to end at t woke at t + late_ns.
  void observe(std::uint64_t late_ns);

 private:
  std::uint64_t margin_;
  std::array<std::uint64_t, kWindow> late_{};
  std::size_t seen_ = 0;
};

// Waits until `due` on `clock` (now(), sleep_until(t)), telling `margin` how late its sleep
// woke; returns the ns spent busy-waiting.
template <class Clock>
std::uint64_t wait_until(Clock& clock, std::uint64_t due, SleepMargin& margin) {
  std::uint64_t now = clock.now();
  if (now >= due) return 0;
  if (due - now > margin.ns()) {
    const std::uint64_t wake = due - margin.ns();
    clock.sleep_until(wake);
    now = clock.now();
    margin.observe(now > wake ? now - wake : 0);
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

// How late a sleep of this process wakes up (a high percentile of a few short sleeps), the
// margin the sender starts with. Measures with the timer slack as it is: peers lower it to 1 ns
// when they start (run_peer), else the default 50 µs would be most of the result.
std::uint64_t calibrate_sleep_margin_ns();

}  // namespace ipcmark
