#include "transports/shm/arrival_forecast.hpp"

#include <algorithm>

namespace ipcmark::shm {

void ArrivalForecast::waited(const Anticipation& plan) noexcept {
  if (plan.timer_late != Duration::zero()) latenesses_[lateness_count_++ % kLatenesses] = plan.timer_late;
  const Clock::time_point when = plan.arrived_at;
  if (when == Clock::time_point{}) return interrupted();  // it never slept: no arrival time
  if (streak_ != 0) gaps_[(streak_ - 1) % kGaps] = when - last_;
  ++streak_;
  last_ = when;
  wake_at_ = {};
  const Duration period = beat();
  if (period == Duration::zero()) return;
  using Outcome = Anticipation::Outcome;
  const bool woke_too_late = plan.outcome == Outcome::Preempted || plan.outcome == Outcome::Late;
  if (woke_too_late && due_ != Clock::time_point{}) due_ += period - kStep;
  else due_ = when + period;  // caught: exact; otherwise the best we have
  // Not worth a timer when short; beyond kMaxSleep the wait wakes anyway, early.
  const Clock::time_point wake = due_ - margin();
  if (wake - when < kMinSleep || wake - when > kMaxSleep) return;
  wake_at_ = wake;
}

ArrivalForecast::Duration ArrivalForecast::margin() const noexcept {
  const std::size_t known = std::min(lateness_count_, kLatenesses);
  if (known < 4) return kInitialMargin;
  std::array<Duration, kLatenesses> sorted = latenesses_;
  std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(known));
  return sorted[known * 9 / 10] + kExtraMargin;
}

ArrivalForecast::Duration ArrivalForecast::beat() const noexcept {
  if (streak_ <= kGaps) return Duration::zero();
  std::array<Duration, kGaps> sorted = gaps_;
  std::sort(sorted.begin(), sorted.end());
  const Duration median = sorted[kGaps / 2];
  // Regular: all but the shortest and the longest gap within half the median of it (an arrival
  // after a futex wake-up is late by that wake-up, whose jitter is tens of µs on a VM).
  if (sorted[1] * 2 < median || sorted[kGaps - 2] * 2 > median * 3) return Duration::zero();
  return median;
}

}  // namespace ipcmark::shm
