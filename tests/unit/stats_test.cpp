#include "harness/measure/stats.hpp"

#include <gtest/gtest.h>

namespace ipcmark {
namespace {

const auto median_of = [](const std::vector<double>& v) { return median(v); };

TEST(Stats, QuantileInterpolatesBetweenOrderStatistics) {
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({1, 2, 3, 4, 5}, 0.25), 2.0);
  EXPECT_DOUBLE_EQ(quantile({}, 0.5), 0.0);
}

TEST(Stats, BootstrapIsDeterministicForASeedAndBracketsTheMedian) {
  const std::vector<double> v{10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  const Interval a = bootstrap_ci95(v, median_of, 7), b = bootstrap_ci95(v, median_of, 7);
  EXPECT_DOUBLE_EQ(a.low, b.low);
  EXPECT_DOUBLE_EQ(a.high, b.high);
  EXPECT_LT(a.low, 15.0);
  EXPECT_GT(a.high, 15.0);
  EXPECT_GE(a.low, 10.0);
  EXPECT_LE(a.high, 20.0);
  EXPECT_LT(a.high - a.low, 10.0);  // narrower than the data's range
}

TEST(Stats, BootstrapOfIdenticalValuesHasNoWidthAndOfNoneIsZero) {
  const Interval same = bootstrap_ci95({5, 5, 5, 5}, median_of);
  EXPECT_DOUBLE_EQ(same.low, 5.0);
  EXPECT_DOUBLE_EQ(same.high, 5.0);
  const Interval none = bootstrap_ci95({}, median_of);
  EXPECT_DOUBLE_EQ(none.low, 0.0);
  EXPECT_DOUBLE_EQ(none.high, 0.0);
}

TEST(Stats, TukeyFencesFlagMildAndSevereOutliersOnly) {
  // Q1 = 11, Q3 = 12, IQR = 1: mild beyond 13.5, severe beyond 15.
  const std::vector<double> v{10, 11, 12, 11, 12, 14, 30, 10, 11, 12};
  const std::vector<Outlier> flags = tukey_outliers(v);
  EXPECT_EQ(flags[0], Outlier::None);
  EXPECT_EQ(flags[5], Outlier::Mild);
  EXPECT_EQ(flags[6], Outlier::Severe);
  EXPECT_EQ(flags[7], Outlier::None);
  EXPECT_EQ(to_string(Outlier::Severe), "severe");
}

TEST(Stats, TukeyNeedsFourValues) {
  for (Outlier o : tukey_outliers({1, 2, 1000})) EXPECT_EQ(o, Outlier::None);
}

}  // namespace
}  // namespace ipcmark
