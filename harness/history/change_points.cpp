// harness/history/change_points.cpp — E-divisive means with a permutation test (change_points.hpp).
#include "harness/history/change_points.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <utility>

namespace ipcmark {
namespace {

// Counts and sums of the values inserted so far, by rank (1-based).
class RankSums {
 public:
  explicit RankSums(std::size_t ranks) : count_(ranks + 1, 0), sum_(ranks + 1, 0) {}
  void clear() {
    std::fill(count_.begin(), count_.end(), 0);
    std::fill(sum_.begin(), sum_.end(), 0);
    total_count_ = 0;
    total_sum_ = 0;
  }
  // Σ|value − v| over the values inserted so far (equal values add 0 on either side).
  double distance_sum(double value, std::size_t rank) const {
    double below_count = 0, below_sum = 0;
    for (std::size_t i = rank; i > 0; i -= i & (~i + 1)) {
      below_count += count_[i];
      below_sum += sum_[i];
    }
    return value * below_count - below_sum + (total_sum_ - below_sum) - value * (total_count_ - below_count);
  }
  void insert(double value, std::size_t rank) {
    for (std::size_t i = rank; i < count_.size(); i += i & (~i + 1)) {
      count_[i] += 1;
      sum_[i] += value;
    }
    total_count_ += 1;
    total_sum_ += value;
  }

 private:
  std::vector<double> count_, sum_;
  double total_count_ = 0, total_sum_ = 0;
};

struct Point {
  double value;
  std::size_t rank;
};

// Points of `values` with dense ranks (equal values share one), and how many ranks there are.
std::pair<std::vector<Point>, std::size_t> ranked(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<Point> points(values.size());
  std::size_t rank = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (k == 0 || values[order[k]] != values[order[k - 1]]) ++rank;
    points[order[k]] = {values[order[k]], rank};
  }
  return {std::move(points), rank};
}

double pairs(double k) { return k * (k - 1) / 2; }

// Scratch space reused across the shuffles of one segment.
struct Scanner {
  RankSums sums;
  std::vector<double> within_left, within_right;
  explicit Scanner(std::size_t ranks) : sums(ranks) {}

  BestSplit best(const std::vector<Point>& points, std::size_t min_segment) {
    const std::size_t t = points.size();
    if (min_segment == 0) min_segment = 1;
    if (t < 2 * min_segment) return {};
    within_left.assign(t + 1, 0);
    within_right.assign(t + 1, 0);
    sums.clear();
    for (std::size_t i = 0; i < t; ++i) {
      within_left[i + 1] = within_left[i] + sums.distance_sum(points[i].value, points[i].rank);
      sums.insert(points[i].value, points[i].rank);
    }
    sums.clear();
    for (std::size_t i = t; i-- > 0;) {
      within_right[i] = within_right[i + 1] + sums.distance_sum(points[i].value, points[i].rank);
      sums.insert(points[i].value, points[i].rank);
    }
    const double all = within_left[t];
    BestSplit best;
    for (std::size_t tau = min_segment; tau + min_segment <= t; ++tau) {
      const double m = double(tau), n = double(t - tau);
      const double between = all - within_left[tau] - within_right[tau];
      double energy = 2 * between / (m * n);
      if (m >= 2) energy -= within_left[tau] / pairs(m);
      if (n >= 2) energy -= within_right[tau] / pairs(n);
      const double q = m * n / (m + n) * energy;
      if (best.index == 0 || q > best.q) best = {tau, q};
    }
    return best;
  }
};

struct Segment {
  std::size_t begin, end;
  BestSplit split;
};

Segment scanned(const std::vector<double>& series, std::size_t begin, std::size_t end, std::size_t min_segment) {
  return {begin, end, best_split(std::vector<double>(series.begin() + long(begin), series.begin() + long(end)), min_segment)};
}

double p_value(const std::vector<double>& series, const Segment& s, const ChangePointOptions& o, std::mt19937_64& rng) {
  auto [points, ranks] = ranked(std::vector<double>(series.begin() + long(s.begin), series.begin() + long(s.end)));
  Scanner scanner(ranks);
  // Enough exceedances make p > max_p_value whatever the rest do: stop there.
  const double allowed = o.max_p_value * double(o.permutations + 1) - 1;
  int exceeded = 0;
  int done = 0;
  for (; done < o.permutations; ++done) {
    std::shuffle(points.begin(), points.end(), rng);
    if (scanner.best(points, o.min_segment).q >= s.split.q) ++exceeded;
    if (double(exceeded) > allowed) return double(1 + exceeded) / double(2 + done);
  }
  return double(1 + exceeded) / double(1 + o.permutations);
}

double mean(const std::vector<double>& series, std::size_t begin, std::size_t end) {
  return std::accumulate(series.begin() + long(begin), series.begin() + long(end), 0.0) / double(end - begin);
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The series with every value beyond kClipMads median absolute deviations of the median brought
// back to that bound (change_points.hpp says why).
std::vector<double> clipped(const std::vector<double>& series) {
  constexpr double kClipMads = 5;
  const double median = median_of(series);
  std::vector<double> deviations;
  for (double x : series) deviations.push_back(std::abs(x - median));
  const double reach = kClipMads * median_of(deviations);
  std::vector<double> out(series);
  if (reach > 0)
    for (double& x : out) x = std::clamp(x, median - reach, median + reach);
  return out;
}

}  // namespace

BestSplit best_split(const std::vector<double>& segment, std::size_t min_segment) {
  auto [points, ranks] = ranked(segment);
  return Scanner(ranks).best(points, min_segment);
}

std::vector<ChangePoint> find_change_points(const std::vector<double>& values, const ChangePointOptions& o) {
  std::mt19937_64 rng(o.seed);
  const std::vector<double> series = clipped(values);
  std::vector<Segment> segments{scanned(series, 0, series.size(), o.min_segment)};
  std::vector<std::pair<std::size_t, double>> found;  // index, p-value
  for (;;) {
    auto best = std::max_element(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) {
      return (a.split.index == 0 ? -1.0 : a.split.q) < (b.split.index == 0 ? -1.0 : b.split.q);
    });
    if (best == segments.end() || best->split.index == 0) break;
    const double p = p_value(series, *best, o, rng);
    if (p > o.max_p_value) break;
    const Segment s = *best;
    const std::size_t at = s.begin + s.split.index;
    found.emplace_back(at, p);
    segments.erase(best);
    segments.push_back(scanned(series, s.begin, at, o.min_segment));
    segments.push_back(scanned(series, at, s.end, o.min_segment));
  }
  std::sort(found.begin(), found.end());
  std::vector<ChangePoint> points;
  for (std::size_t k = 0; k < found.size(); ++k) {
    const std::size_t before = k == 0 ? 0 : found[k - 1].first;
    const std::size_t after = k + 1 == found.size() ? series.size() : found[k + 1].first;
    const std::size_t at = found[k].first;
    points.push_back({at, found[k].second, mean(values, before, at), mean(values, at, after)});
  }
  return points;
}

}  // namespace ipcmark
