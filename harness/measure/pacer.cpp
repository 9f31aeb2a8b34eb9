#include "harness/measure/pacer.hpp"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "harness/measure/clock.hpp"

namespace ipcmark {

std::uint64_t MonotonicClock::now() const { return now_ns(); }

void MonotonicClock::sleep_until(std::uint64_t t) const {
  timespec ts{static_cast<time_t>(t / 1'000'000'000u), static_cast<long>(t % 1'000'000'000u)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

void SleepMargin::observe(std::uint64_t late_ns) {
  late_[seen_++ % kWindow] = late_ns;
  if (seen_ % kWindow != 0) return;
  std::array<std::uint64_t, kWindow> sorted = late_;
  auto p90 = sorted.begin() + kWindow * 9 / 10;
  std::nth_element(sorted.begin(), p90, sorted.end());
  margin_ = *p90 + kSlack;
}

std::uint64_t calibrate_sleep_margin_ns() {
  const MonotonicClock clock;
  std::vector<std::uint64_t> late;
  for (int i = 0; i < 20; ++i) {
    const std::uint64_t due = clock.now() + 20'000;
    clock.sleep_until(due);
    late.push_back(clock.now() - due);
  }
  std::sort(late.begin(), late.end());
  return late[late.size() * 9 / 10] + SleepMargin::kSlack;  // p90 plus a little
}

}  // namespace ipcmark
