#include "harness/measure/pacer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ipcmark {
namespace {

// A clock that moves only when read (by `step` ns) or slept on.
struct MockClock {
  std::uint64_t t = 0, step = 100;
  std::vector<std::uint64_t> sleeps;
  std::uint64_t now() { return t += step; }
  void sleep_until(std::uint64_t until) {
    sleeps.push_back(until);
    if (until > t) t = until + 3'000;  // wakes 3 µs late, as real sleeps do
  }
};

TEST(SendSchedule, DueTimesAreExactWithoutDrift) {
  const SendSchedule s(1'000, 3);  // 3 per second: 333,333,333.3 ns apart
  EXPECT_EQ(s.due(0), 1'000u);
  EXPECT_EQ(s.due(1), 1'000u + 333'333'333u);
  EXPECT_EQ(s.due(3), 1'000u + 1'000'000'000u);  // whole seconds land exactly
  EXPECT_EQ(s.due(3'000'000'001), 1'000u + 1'000'000'000'000'000'000u + 333'333'333u);  // no overflow, no drift
  EXPECT_EQ(SendSchedule(0, 10'000).period_ns(), 100'000u);
  EXPECT_EQ(SendSchedule(0, 1'000'000'000).due(7), 7u);
}

TEST(WaitUntil, SleepsUntilTheMarginThenSpinsToTheDueTime) {
  MockClock clock;
  SleepMargin margin(50'000);
  const std::uint64_t spun = wait_until(clock, 1'000'000, margin);
  ASSERT_EQ(clock.sleeps.size(), 1u);
  EXPECT_EQ(clock.sleeps[0], 950'000u);
  EXPECT_GE(clock.t, 1'000'000u);              // never returns early
  EXPECT_LT(clock.t, 1'000'000u + clock.step);  // nor much later
  EXPECT_GT(spun, 0u);
  EXPECT_LE(spun, 50'000u);
}

TEST(WaitUntil, ANearDueTimeIsOnlySpunAndALateOneNotWaitedFor) {
  MockClock clock;
  clock.t = 990'000;
  SleepMargin margin(50'000);
  wait_until(clock, 1'000'000, margin);
  EXPECT_TRUE(clock.sleeps.empty());
  EXPECT_GE(clock.t, 1'000'000u);

  clock.t = 2'000'000;  // behind schedule: catch up at once
  EXPECT_EQ(wait_until(clock, 1'500'000, margin), 0u);
  EXPECT_TRUE(clock.sleeps.empty());
  EXPECT_EQ(clock.t, 2'000'100u);  // one clock read, no more
}

TEST(SleepMargin, FollowsHowLateTheRunsOwnSleepsWake) {
  SleepMargin margin(20'000);  // a calibration that came out high
  for (std::size_t i = 0; i + 1 < SleepMargin::kWindow; ++i) margin.observe(3'000);
  EXPECT_EQ(margin.ns(), 20'000u);  // unchanged until a whole window has been seen
  margin.observe(3'000);
  EXPECT_EQ(margin.ns(), 3'000u + SleepMargin::kSlack);
}

TEST(SleepMargin, IsTheNinetiethPercentileSoRareLongSleepsDoNotSetIt) {
  SleepMargin margin(0);
  // 6 of 64 sleeps (under 10%) wake 100 µs late, the rest 1..58 µs.
  for (std::size_t i = 0; i < SleepMargin::kWindow; ++i) margin.observe(i < 6 ? 100'000 : (i - 5) * 1'000);
  EXPECT_EQ(margin.ns(), 58'000u + SleepMargin::kSlack);  // the 58th of 64 sorted: 58 µs, not 100
}

TEST(SleepMargin, GrowsWhenSleepsWakeLaterThanItAllows) {
  MockClock clock;  // wakes 3 µs late: a margin of 1 µs makes every send late until it learns
  SleepMargin margin(1'000);
  std::uint64_t late_sends = 0;
  for (std::uint64_t k = 1; k <= 4 * SleepMargin::kWindow; ++k) {
    const std::uint64_t due = k * 100'000;
    wait_until(clock, due, margin);
    if (clock.t > due + clock.step) ++late_sends;
  }
  EXPECT_EQ(margin.ns(), 3'000u + clock.step + SleepMargin::kSlack);  // the clock read after waking counts too
  EXPECT_EQ(late_sends, SleepMargin::kWindow);  // only while it was still learning
}

TEST(AchievedRate, CountsIntervalsBetweenTheFirstAndLastSend) {
  EXPECT_DOUBLE_EQ(achieved_rate(11, 0, 1'000'000), 10'000.0);  // 10 intervals in 1 ms
  EXPECT_DOUBLE_EQ(achieved_rate(1, 0, 5), 0.0);
  EXPECT_DOUBLE_EQ(achieved_rate(10, 5, 5), 0.0);
}

}  // namespace
}  // namespace ipcmark
