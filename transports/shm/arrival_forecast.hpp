// transports/shm/arrival_forecast.hpp — when a blocking reader should wake for a message that
// arrives on a regular beat.
//
// A reader that sleeps on a futex until the writer wakes it pays a cross-CPU wake-up per message
// (25-35 µs on a 2-vCPU VM, most of a message's one-way latency at 10,000 msgs/s). When messages
// come at a steady rate, the reader can instead set a timer for a little before the next one is
// due and poll from then on: the message then finds it awake, and the writer skips its FUTEX_WAKE.
// This is the hybrid polling of Linux's block layer (sleep for part of the expected completion
// time, then poll). The forecast is the arithmetic: it learns the beat from the arrivals it is
// shown and how late this thread's timer wakes come, and says when to wake, or that it has no
// guess (too few arrivals, irregular ones, a beat too short to sleep through).
//
// An arrival is known only as when the reader saw it: late by a wake-up when the writer had to wake
// the reader, exact when the reader caught it polling. So the next message is expected one beat
// after a caught arrival, and otherwise one beat after the last expectation, kStep earlier when
// the reader woke too late for it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "transports/shm/wait.hpp"
#include "transports/transport.hpp"

namespace ipcmark::shm {

class ArrivalForecast {
 public:
  using Duration = std::chrono::nanoseconds;
  static constexpr std::size_t kGaps = 8;  // arrivals in a row before the first guess, minus one
  static constexpr std::size_t kLatenesses = 16;
  // Before four timer wakes have been seen: Linux's default timer slack plus this VM's lateness.
  static constexpr Duration kInitialMargin{std::chrono::microseconds(60)};
  static constexpr Duration kExtraMargin{std::chrono::microseconds(5)};
  static constexpr Duration kStep{std::chrono::microseconds(10)};
  // Shorter sleeps are not worth a timer: the wait's own polling covers them.
  static constexpr Duration kMinSleep{std::chrono::microseconds(20)};

  // When to wake for the next message; the epoch when there is no guess.
  Clock::time_point wake_at() const noexcept { return wake_at_; }

  // A wait planned from wake_at() (or unplanned: an epoch wake_at) has ended.
  void waited(const Anticipation& plan) noexcept;
  // A message came without a wait (it was there already): the beat, if any, is broken.
  void interrupted() noexcept {
    streak_ = 0;
    wake_at_ = {};
  }

  // p90 of the recent timer latenesses plus kExtraMargin (kInitialMargin before four are known).
  Duration margin() const noexcept;

 private:
  // The median of the recent gaps when they are regular, else zero.
  Duration beat() const noexcept;

  std::array<Duration, kGaps> gaps_{};
  std::array<Duration, kLatenesses> latenesses_{};
  std::size_t streak_ = 0;  // arrivals in a row, each one waited for
  std::size_t lateness_count_ = 0;
  Clock::time_point last_{};  // the last arrival
  Clock::time_point due_{};   // when the next message is expected
  Clock::time_point wake_at_{};
};

}  // namespace ipcmark::shm
