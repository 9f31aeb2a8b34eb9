// ArrivalForecast: when a blocking reader wakes for the next message, from the waits it was shown.
#include "transports/shm/arrival_forecast.hpp"

#include <gtest/gtest.h>

namespace ipcmark::shm {
namespace {

using std::chrono::microseconds;
using Outcome = Anticipation::Outcome;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::seconds(1000);

Anticipation wait_ending(Clock::time_point arrived, Outcome outcome = Outcome::Unplanned,
                         std::chrono::nanoseconds timer_late = {}) {
  Anticipation plan;
  plan.arrived_at = arrived;
  plan.outcome = outcome;
  plan.timer_late = timer_late;
  return plan;
}

// `count` arrivals every `beat`, from kStart; returns the last one's time.
Clock::time_point feed(ArrivalForecast& forecast, std::size_t count, std::chrono::nanoseconds beat,
                       Clock::time_point from = kStart) {
  Clock::time_point t = from;
  for (std::size_t i = 0; i < count; ++i, t += beat) forecast.waited(wait_ending(t));
  return t - beat;
}

TEST(ArrivalForecast, GuessesOnlyAfterEnoughRegularArrivals) {
  ArrivalForecast forecast;
  EXPECT_EQ(forecast.wake_at(), Clock::time_point{});
  feed(forecast, ArrivalForecast::kGaps, microseconds(100));
  EXPECT_EQ(forecast.wake_at(), Clock::time_point{}) << "one gap short of a guess";
  const Clock::time_point last = feed(forecast, 1, microseconds(100), kStart + 8 * microseconds(100));
  // One beat after the last arrival, less the margin (no timer wake seen yet: the initial one).
  EXPECT_EQ(forecast.margin(), ArrivalForecast::kInitialMargin);
  EXPECT_EQ(forecast.wake_at(), last + microseconds(100) - ArrivalForecast::kInitialMargin);
}

TEST(ArrivalForecast, IrregularArrivalsGetNoGuess) {
  ArrivalForecast forecast;
  Clock::time_point t = kStart;
  for (int i = 0; i < 20; ++i) {
    forecast.waited(wait_ending(t));
    t += microseconds(i % 2 == 0 ? 30 : 270);
    EXPECT_EQ(forecast.wake_at(), Clock::time_point{}) << "arrival " << i;
  }
}

TEST(ArrivalForecast, AMessageTakenWithoutSleepingBreaksTheBeat) {
  ArrivalForecast forecast;
  const Clock::time_point last = feed(forecast, 12, microseconds(200));
  ASSERT_NE(forecast.wake_at(), Clock::time_point{});
  forecast.interrupted();
  EXPECT_EQ(forecast.wake_at(), Clock::time_point{});
  // A wait that never slept has no arrival time: the same.
  feed(forecast, 12, microseconds(200), last + microseconds(200));
  ASSERT_NE(forecast.wake_at(), Clock::time_point{});
  forecast.waited(Anticipation{});
  EXPECT_EQ(forecast.wake_at(), Clock::time_point{});
  // And it takes a full run of arrivals to guess again.
  feed(forecast, ArrivalForecast::kGaps, microseconds(200), last + microseconds(5000));
  EXPECT_EQ(forecast.wake_at(), Clock::time_point{});
}

TEST(ArrivalForecast, ACaughtArrivalIsTheNewAnchorAndWakingTooLateWakesEarlierNextTime) {
  ArrivalForecast forecast;
  const auto beat = microseconds(500);
  Clock::time_point t = feed(forecast, 10, beat);
  const Clock::time_point due = t + beat;
  ASSERT_EQ(forecast.wake_at(), due - forecast.margin());
  // The writer's wake-up came first: the message was due earlier than we thought, and this
  // arrival is late by a wake-up. Expect the next one a beat after the last expectation, earlier.
  forecast.waited(wait_ending(due + microseconds(30), Outcome::Preempted));
  EXPECT_EQ(forecast.wake_at(), due + beat - ArrivalForecast::kStep - forecast.margin());
  // Our timer woke us and the message was there already: earlier again.
  const Clock::time_point due2 = due + beat - ArrivalForecast::kStep;
  forecast.waited(wait_ending(due2 + microseconds(40), Outcome::Late, microseconds(45)));
  EXPECT_EQ(forecast.wake_at(), due2 + beat - ArrivalForecast::kStep - forecast.margin());
  // Caught while polling: that arrival is exact, the next is one beat after it.
  const Clock::time_point caught = due2 + beat + microseconds(3);
  forecast.waited(wait_ending(caught, Outcome::Caught, microseconds(20)));
  EXPECT_EQ(forecast.wake_at(), caught + beat - forecast.margin());
}

TEST(ArrivalForecast, TheMarginIsTheNinetiethPercentileOfRecentTimerLatenessPlusFiveMicroseconds) {
  ArrivalForecast forecast;
  Clock::time_point t = kStart;
  for (int late : {10, 30, 20}) {
    forecast.waited(wait_ending(t += microseconds(500), Outcome::Caught, microseconds(late)));
    EXPECT_EQ(forecast.margin(), ArrivalForecast::kInitialMargin) << "fewer than four known";
  }
  for (int late : {40, 15, 25, 35, 5, 45, 50, 12, 22, 32, 42, 18, 28}) {
    forecast.waited(wait_ending(t += microseconds(500), Outcome::Caught, microseconds(late)));
  }
  // The last 16: 10 30 20 40 15 25 35 5 45 50 12 22 32 42 18 28; sorted, index 14 of 16 is 45.
  EXPECT_EQ(forecast.margin(), microseconds(45) + ArrivalForecast::kExtraMargin);
  // Only the last 16 count: a run of small ones replaces them.
  for (int i = 0; i < 16; ++i)
    forecast.waited(wait_ending(t += microseconds(500), Outcome::Caught, microseconds(2)));
  EXPECT_EQ(forecast.margin(), microseconds(2) + ArrivalForecast::kExtraMargin);
}

TEST(ArrivalForecast, NoGuessForABeatTooShortToSleepThroughOrLongerThanTheLongestSleep) {
  ArrivalForecast short_beat;
  feed(short_beat, 20, ArrivalForecast::kInitialMargin + ArrivalForecast::kMinSleep - microseconds(1));
  EXPECT_EQ(short_beat.wake_at(), Clock::time_point{});
  ArrivalForecast long_beat;
  feed(long_beat, 20, kMaxSleep + ArrivalForecast::kInitialMargin + microseconds(1));
  EXPECT_EQ(long_beat.wake_at(), Clock::time_point{});
  ArrivalForecast just_right;
  feed(just_right, 20, ArrivalForecast::kInitialMargin + ArrivalForecast::kMinSleep);
  EXPECT_NE(just_right.wake_at(), Clock::time_point{});
}

}  // namespace
}  // namespace ipcmark::shm
