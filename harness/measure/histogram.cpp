// harness/measure/histogram.cpp — see histogram.hpp for the bucketing scheme and its error bound.
#include "harness/measure/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace ipcmark {

namespace {

std::uint64_t power_of_ten(int digits) {
  std::uint64_t r = 1;
  for (int i = 0; i < digits; ++i) r *= 10;
  return r;
}

[[noreturn]] void bad_json(const std::string& what) {
  throw std::invalid_argument("histogram JSON: " + what);
}

// JSON numbers written by to_json() are unsigned integers; a number built in C++
// from an int is stored signed, so accept both but never a float, bool or negative.
std::uint64_t as_u64(const nlohmann::json& v, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    const auto s = v.get<std::int64_t>();
    if (s < 0) bad_json(what + " must not be negative, got " + std::to_string(s));
    return static_cast<std::uint64_t>(s);
  }
  std::string msg = what + " must be an unsigned integer, got " + v.type_name();
  if (v.is_number_float()) msg += ' ' + v.dump();  // show 2.5, not just "number"
  bad_json(msg);
}

}  // namespace

LatencyHistogram::LatencyHistogram(int significant_digits) : digits_(significant_digits) {
  if (significant_digits < kMinSignificantDigits || significant_digits > kMaxSignificantDigits) {
    throw std::invalid_argument("histogram: significant digits must be " +
                                std::to_string(kMinSignificantDigits) + ".." +
                                std::to_string(kMaxSignificantDigits) + ", got " +
                                std::to_string(significant_digits));
  }
  // S = smallest power of two >= 2 * 10^d, so that H = S/2 >= 10^d (see header).
  const unsigned k = static_cast<unsigned>(std::bit_width(2 * power_of_ten(significant_digits) - 1));
  half_magnitude_ = k - 1;
  sub_bucket_mask_ = (std::uint64_t{1} << k) - 1;
  counts_.assign(index_of(kHighestTrackableNs) + 1, 0);
}

std::uint64_t LatencyHistogram::lowest_of_index(std::size_t index) const noexcept {
  std::size_t shift = index >> half_magnitude_;
  if (shift > 0) --shift;  // the first 2H slots all have width 1
  return static_cast<std::uint64_t>(index - (shift << half_magnitude_)) << shift;
}

std::uint64_t LatencyHistogram::width_of_index(std::size_t index) const noexcept {
  std::size_t shift = index >> half_magnitude_;
  if (shift > 0) --shift;
  return std::uint64_t{1} << shift;
}

std::uint64_t LatencyHistogram::lowest_equivalent(std::uint64_t value_ns) const noexcept {
  return lowest_of_index(index_of(std::min(value_ns, kHighestTrackableNs)));
}

std::uint64_t LatencyHistogram::highest_equivalent(std::uint64_t value_ns) const noexcept {
  const std::size_t i = index_of(std::min(value_ns, kHighestTrackableNs));
  return lowest_of_index(i) + width_of_index(i) - 1;
}

void LatencyHistogram::record_n(std::uint64_t value_ns, std::uint64_t count) noexcept {
  if (count == 0) return;  // must not move min/max
  if (value_ns > kHighestTrackableNs) {
    value_ns = kHighestTrackableNs;
    clamped_ += count;
  }
  counts_[index_of(value_ns)] += count;
  count_ += count;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
}

double LatencyHistogram::mean() const noexcept {
  if (count_ == 0) return 0.0;
  long double sum = 0;
  const double lo = static_cast<double>(min_);
  const double hi = static_cast<double>(max_);
  for (std::size_t i = index_of(min_), last = index_of(max_); i <= last; ++i) {
    if (counts_[i] == 0) continue;
    // Midpoint halves the worst-case error; the clamp makes a histogram of one
    // repeated value report that value exactly.
    const double mid = static_cast<double>(lowest_of_index(i)) +
                       static_cast<double>(width_of_index(i) - 1) / 2.0;
    sum += static_cast<long double>(counts_[i]) * std::clamp(mid, lo, hi);
  }
  return static_cast<double>(sum / static_cast<long double>(count_));
}

std::uint64_t LatencyHistogram::percentile(double p) const {
  if (!(p >= 0.0 && p <= 100.0)) {  // also rejects NaN
    throw std::invalid_argument("histogram: percentile must be in [0, 100], got " + std::to_string(p));
  }
  if (count_ == 0) return 0;
  if (p == 0.0) return min_;
  if (p == 100.0) return max_;

  // rank = ceil(p/100 * count). Percentiles such as 99.9 are not exact in binary, so
  // p/100 * count can land a hair above an integer that was meant exactly (99.9% of
  // 1000 must be rank 999, not 1000); snap to an integer within a few ulps.
  const long double x = static_cast<long double>(p) / 100.0L * static_cast<long double>(count_);
  const long double nearest = std::nearbyint(x);
  const long double rank_f =
      std::fabs(x - nearest) <= 1e-13L * std::max(1.0L, x) ? nearest : std::ceil(x);
  const auto rank = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(rank_f), 1, count_);

  std::uint64_t seen = 0;
  for (std::size_t i = index_of(min_), last = index_of(max_); i <= last; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t highest = lowest_of_index(i) + width_of_index(i) - 1;
      return std::clamp(highest, min_, max_);
    }
  }
  return max_;  // unreachable: the counts add up to count_
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.digits_ != digits_) {
    throw std::invalid_argument("histogram: cannot merge " + std::to_string(other.digits_) +
                                "-digit histogram into a " + std::to_string(digits_) + "-digit one");
  }
  if (other.count_ == 0) return;
  // Walk only the other's occupied range: repetitions usually cover a narrow band.
  for (std::size_t i = other.index_of(other.min_), last = other.index_of(other.max_); i <= last; ++i) {
    counts_[i] += other.counts_[i];
  }
  count_ += other.count_;
  clamped_ += other.clamped_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  clamped_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

nlohmann::json LatencyHistogram::to_json() const {
  nlohmann::json buckets = nlohmann::json::array();
  if (count_ > 0) {
    for (std::size_t i = index_of(min_), last = index_of(max_); i <= last; ++i) {
      if (counts_[i] != 0) buckets.push_back({lowest_of_index(i), counts_[i]});
    }
  }
  nlohmann::json j = {
      {"significant_digits", digits_},
      {"unit", "ns"},
      {"min", min()},
      {"max", max()},
      {"count", count_},
      {"buckets", std::move(buckets)},
  };
  // Only when it happened, so the common file keeps the documented six keys.
  if (clamped_ > 0) j["clamped"] = clamped_;
  return j;
}

LatencyHistogram LatencyHistogram::from_json(const nlohmann::json& j) {
  if (!j.is_object()) bad_json(std::string("expected an object, got ") + j.type_name());
  for (const auto& [key, value] : j.items()) {
    (void)value;
    if (key != "significant_digits" && key != "unit" && key != "min" && key != "max" &&
        key != "count" && key != "buckets" && key != "clamped") {
      bad_json("unknown key '" + key + "'");
    }
  }
  for (const char* key : {"significant_digits", "unit", "min", "max", "count", "buckets"}) {
    if (!j.contains(key)) bad_json(std::string("missing key '") + key + "'");
  }

  const std::uint64_t digits = as_u64(j["significant_digits"], "'significant_digits'");
  if (digits < kMinSignificantDigits || digits > kMaxSignificantDigits) {
    bad_json("'significant_digits' must be " + std::to_string(kMinSignificantDigits) + ".." +
             std::to_string(kMaxSignificantDigits) + ", got " + std::to_string(digits));
  }
  const auto& unit = j["unit"];
  if (!unit.is_string() || unit.get<std::string>() != "ns") bad_json("'unit' must be \"ns\", got " + unit.dump());
  const std::uint64_t min = as_u64(j["min"], "'min'");
  const std::uint64_t max = as_u64(j["max"], "'max'");
  const std::uint64_t count = as_u64(j["count"], "'count'");
  const std::uint64_t clamped = j.contains("clamped") ? as_u64(j["clamped"], "'clamped'") : 0;
  if (min > kHighestTrackableNs || max > kHighestTrackableNs) {
    bad_json("'min' and 'max' must not exceed " + std::to_string(kHighestTrackableNs));
  }

  LatencyHistogram h(static_cast<int>(digits));
  const auto& buckets = j["buckets"];
  if (!buckets.is_array()) bad_json(std::string("'buckets' must be an array, got ") + buckets.type_name());
  std::uint64_t total = 0;
  std::size_t first = 0, last = 0;
  for (std::size_t n = 0; n < buckets.size(); ++n) {
    const auto& b = buckets[n];
    const std::string where = "bucket " + std::to_string(n);
    if (!b.is_array() || b.size() != 2) bad_json(where + " must be [lower_bound, count], got " + b.dump());
    const std::uint64_t lower = as_u64(b[0], where + " lower bound");
    const std::uint64_t c = as_u64(b[1], where + " count");
    if (lower > kHighestTrackableNs || h.lowest_equivalent(lower) != lower) {
      bad_json(where + " lower bound " + std::to_string(lower) + " is not the lowest value of a bucket");
    }
    if (c == 0) bad_json(where + " has count 0 (only non-empty buckets are written)");
    const std::size_t i = h.index_of(lower);
    if (n > 0 && i <= last) bad_json(where + " is not above the previous bucket");
    if (n == 0) first = i;
    last = i;
    if (total > std::numeric_limits<std::uint64_t>::max() - c) bad_json("bucket counts overflow");
    total += c;
    h.counts_[i] = c;
  }
  if (total != count) {
    bad_json("'count' is " + std::to_string(count) + " but the buckets hold " + std::to_string(total));
  }
  if (count == 0) {
    if (min != 0 || max != 0) bad_json("an empty histogram must have 'min' and 'max' 0");
  } else {
    if (min > max) bad_json("'min' is above 'max'");
    if (h.index_of(min) != first) bad_json("'min' is not in the first bucket");
    if (h.index_of(max) != last) bad_json("'max' is not in the last bucket");
    if (count == 1 && min != max) bad_json("one value but 'min' differs from 'max'");
  }
  if (clamped > 0) {
    // Clamped values were recorded as kHighestTrackableNs, so they sit in the top bucket.
    if (max != kHighestTrackableNs || clamped > h.counts_[h.index_of(kHighestTrackableNs)]) {
      bad_json("'clamped' is more than the values recorded at the top of the range");
    }
  }
  h.count_ = count;
  h.clamped_ = clamped;
  h.min_ = count == 0 ? UINT64_MAX : min;
  h.max_ = max;
  return h;
}

LatencySummary summarize(const LatencyHistogram& h) {
  return LatencySummary{
      .min = h.min(),
      .p50 = h.percentile(50.0),
      .p90 = h.percentile(90.0),
      .p99 = h.percentile(99.0),
      .p999 = h.percentile(99.9),
      .p9999 = h.percentile(99.99),
      .max = h.max(),
      .mean = h.mean(),
      .count = h.count(),
  };
}

}  // namespace ipcmark
