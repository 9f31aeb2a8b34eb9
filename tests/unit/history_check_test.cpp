// Series from stored points (the figure each row uses, medians per run) and the check's verdict.
#include <gtest/gtest.h>

#include <random>

#include "harness/history/check.hpp"
#include "harness/history/series.hpp"

namespace ipcmark {
namespace {

RowPoint point(std::int64_t run, const std::string& name, double real_time, std::optional<double> x_floor) {
  RowPoint p;
  p.run_id = run;
  p.git_commit = "c" + std::to_string(run);
  p.name = name;
  p.real_time_ns = real_time;
  p.x_floor = x_floor;
  return p;
}

TEST(HistorySeries, MedianPerRunOfTheFirstFigureEveryRunHas) {
  const std::vector<RowPoint> points{
      point(1, "a", 10, 2.0), point(1, "a", 30, 4.0), point(1, "a", 20, 9.0), point(1, "b", 7, std::nullopt),
      point(2, "a", 11, 3.0), point(2, "b", 8, 1.0),
  };
  const std::vector<Series> series = series_of(points);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].row, "a");
  EXPECT_EQ(series[0].figure, "x_floor");
  ASSERT_EQ(series[0].points.size(), 2u);
  EXPECT_EQ(series[0].points[0].value, 4.0);
  EXPECT_EQ(series[0].points[0].repetitions, 3);
  EXPECT_EQ(series[0].points[1].git_commit, "c2");
  EXPECT_EQ(series[1].figure, "real_time_ns");  // run 1 of b has no x_floor
  EXPECT_EQ(series[1].points[1].value, 8.0);
}

TEST(HistorySeries, AFigureAskedForIsUsedAndRowsWithoutItAreLeftOut) {
  const std::vector<RowPoint> points{point(1, "a", 10, 2.0), point(1, "b", 7, std::nullopt), point(2, "a", 11, 3.0)};
  const std::vector<Series> by_time = series_of(points, "real_time_ns");
  ASSERT_EQ(by_time.size(), 2u);
  EXPECT_EQ(by_time[0].points[1].value, 11.0);
  const std::vector<Series> by_floor = series_of(points, "x_floor");
  ASSERT_EQ(by_floor.size(), 1u);
  EXPECT_EQ(by_floor[0].row, "a");
}

TEST(HistorySeries, ARowWhoseFloorChangedFallsBackToItsP50) {
  std::vector<RowPoint> points{point(1, "a", 10, 0.005), point(2, "a", 11, 0.005), point(3, "a", 12, 1.1)};
  for (RowPoint& p : points) p.latency_p50_ns = 130;
  points[0].x_floor_of = points[1].x_floor_of = "futex";  // shm block before its floor changed
  points[2].x_floor_of = "cacheline";
  const std::vector<Series> series = series_of(points);
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].figure, "latency_p50_ns");
  EXPECT_TRUE(series_of(points, "x_floor").empty());
  points[2].x_floor_of = "futex";
  EXPECT_EQ(series_of(points)[0].figure, "x_floor");
}

std::vector<RowPoint> noisy_row(const std::string& name, int runs, int step_at, double step, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<RowPoint> out;
  for (int r = 0; r < runs; ++r)
    out.push_back(point(r + 1, name, 100, (1 + noise(rng)) * (r >= step_at ? 1 + step : 1.0)));
  return out;
}

TEST(HistoryCheck, ARecentRiseAboveTheThresholdFails) {
  auto points = noisy_row("a", 40, 36, 0.10, 1);
  const CheckResult r = check_series(series_of(points), {});
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].after.run_id, 37);
  EXPECT_EQ(r.findings[0].before.git_commit, "c36");
  EXPECT_TRUE(r.findings[0].regression);
  EXPECT_TRUE(r.findings[0].recent);
  EXPECT_TRUE(r.failed());
}

TEST(HistoryCheck, AnOldRiseOrARecentDropDoesNotFail) {
  auto old_rise = noisy_row("a", 40, 20, 0.10, 2);
  auto drop = noisy_row("b", 40, 36, -0.10, 3);
  old_rise.insert(old_rise.end(), drop.begin(), drop.end());
  const CheckResult r = check_series(series_of(old_rise), {});
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_TRUE(r.findings[0].regression);
  EXPECT_FALSE(r.findings[0].recent);
  EXPECT_FALSE(r.findings[1].regression);
  EXPECT_TRUE(r.findings[1].recent);
  EXPECT_FALSE(r.failed());
}

TEST(HistoryCheck, ARiseBelowTheThresholdIsNotARegression) {
  const CheckResult r = check_series(series_of(noisy_row("a", 40, 36, 0.10, 4)), {.change_points = {}, .threshold = 0.2});
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_FALSE(r.findings[0].regression);
  EXPECT_FALSE(r.failed());
}

}  // namespace
}  // namespace ipcmark
