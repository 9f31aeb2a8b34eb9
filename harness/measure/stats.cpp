#include "harness/measure/stats.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace ipcmark {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / double(v.size());
}

double sample_stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double sq = 0;
  for (double x : v) sq += (x - m) * (x - m);
  return std::sqrt(sq / double(v.size() - 1));
}

}  // namespace ipcmark

namespace ipcmark {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double position = std::clamp(q, 0.0, 1.0) * double(v.size() - 1);
  const std::size_t below = static_cast<std::size_t>(position);
  const std::size_t above = std::min(below + 1, v.size() - 1);
  return v[below] + (position - double(below)) * (v[above] - v[below]);
}

Interval bootstrap_ci95(const std::vector<double>& values,
                        const std::function<double(const std::vector<double>&)>& statistic,
                        std::uint64_t seed, int resamples) {
  if (values.empty()) return {};
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<std::size_t> pick(0, values.size() - 1);
  std::vector<double> estimates, sample(values.size());
  estimates.reserve(static_cast<std::size_t>(resamples));
  for (int r = 0; r < resamples; ++r) {
    for (double& x : sample) x = values[pick(random)];
    estimates.push_back(statistic(sample));
  }
  return {quantile(estimates, 0.025), quantile(estimates, 0.975)};
}

std::string_view to_string(Outlier outlier) {
  switch (outlier) {
    case Outlier::None: return "none";
    case Outlier::Mild: return "mild";
    case Outlier::Severe: return "severe";
  }
  return "none";
}

std::vector<Outlier> tukey_outliers(const std::vector<double>& values) {
  std::vector<Outlier> flags(values.size(), Outlier::None);
  if (values.size() < 4) return flags;  // quartiles of three values fence nothing meaningful
  const double q1 = quantile(values, 0.25), q3 = quantile(values, 0.75), iqr = q3 - q1;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double x = values[i];
    if (x < q1 - 3 * iqr || x > q3 + 3 * iqr) flags[i] = Outlier::Severe;
    else if (x < q1 - 1.5 * iqr || x > q3 + 1.5 * iqr) flags[i] = Outlier::Mild;
  }
  return flags;
}

}  // namespace ipcmark
