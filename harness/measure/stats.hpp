// harness/measure/stats.hpp — summary statistics over repetitions, used by the results file and
// the console table alike: Google Benchmark's aggregates, plus criterion's bootstrap
// confidence interval and Tukey's outlier fences.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace ipcmark {

double median(std::vector<double> values);                // 0 for none
double mean(const std::vector<double>& values);           // 0 for none
double sample_stddev(const std::vector<double>& values);  // n-1, as Google Benchmark; 0 below two
// Quantile q in [0, 1] with linear interpolation between order statistics (R's type 7).
double quantile(std::vector<double> values, double q);

struct Interval {
  double low = 0, high = 0;
};

// Percentile bootstrap: `statistic` over `resamples` resamples (with replacement) of
// `values`; the 2.5th and 97.5th percentiles of those. Deterministic for a given seed.
// With few values it is wide, as it should be (3 repetitions: about their range).
Interval bootstrap_ci95(const std::vector<double>& values,
                        const std::function<double(const std::vector<double>&)>& statistic,
                        std::uint64_t seed = 0x1BADB002, int resamples = 2000);

// Tukey's fences on values: outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR] is mild, outside
// 3 IQR severe. Flagged, never dropped. Fewer than four values: none flagged.
enum class Outlier { None, Mild, Severe };
std::string_view to_string(Outlier outlier);
std::vector<Outlier> tukey_outliers(const std::vector<double>& values);

}  // namespace ipcmark
