// harness/measure/histogram.hpp — a log-linear latency histogram (HdrHistogram's scheme, own code).
//
// Bucketing. With d significant digits let S = 2^k be the smallest power of two
// >= 2 * 10^d (d = 3: S = 2048) and H = S / 2. Values 0..S-1 get one slot each, so
// they are exact. Above that every power-of-two range [2^m, 2^(m+1)) is cut into H
// equal slots of width 2^(m-k+1). A value's slot is
//     shift = floor(log2(v | (S-1))) - (k-1)        // 0 for v < S
//     index = shift * H + (v >> shift)
// which is an OR, a count-leading-zeros, a subtraction and two shifts: cheap enough
// for the measuring loop, and one flat array of counters needs no pointer chasing.
//
// Error bound. A slot of width w = 2^shift only holds values >= H * w, so any two
// values sharing a slot differ by less than w <= v / H <= v / 10^d: reporting a
// slot's highest value is off by less than 10^-d relative (0.1% for d = 3).
//
// Range. Values 0..kHighestTrackableNs (one hour) are kept; a larger value is
// recorded *as* kHighestTrackableNs and counted in clamped(), so min/max/mean and
// the buckets always agree with each other and a hung run shows up as "1 h", never UB.
// d = 3 needs 33,421 counters (261 KiB); d = 5 needs 26 MiB.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ipcmark {

class LatencyHistogram {
 public:
  static constexpr std::uint64_t kHighestTrackableNs = 3'600'000'000'000ULL;  // 1 hour
  static constexpr int kMinSignificantDigits = 1;
  static constexpr int kMaxSignificantDigits = 5;

  // Allocates every counter now so record() never allocates.
  // Throws std::invalid_argument unless 1 <= significant_digits <= 5.
  explicit LatencyHistogram(int significant_digits = 3);

  // Hot path: O(1), no allocation, no branch except the (unlikely) clamp.
  void record(std::uint64_t value_ns) noexcept {
    if (value_ns > kHighestTrackableNs) [[unlikely]] {
      value_ns = kHighestTrackableNs;
      ++clamped_;
    }
    ++counts_[index_of(value_ns)];
    ++count_;
    if (value_ns < min_) min_ = value_ns;
    if (value_ns > max_) max_ = value_ns;
  }

  // Records `value` `count` times (count 0 does nothing).
  void record_n(std::uint64_t value_ns, std::uint64_t count) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t clamped() const noexcept { return clamped_; }  // values recorded as kHighestTrackableNs
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }  // exact; 0 when empty
  std::uint64_t max() const noexcept { return max_; }                    // exact; 0 when empty
  int significant_digits() const noexcept { return digits_; }

  // Mean from the buckets (each bucket's midpoint, kept within [min, max]), so it
  // stays the same after merge() and a JSON round trip; within 10^-d/2 relative of
  // the exact mean. 0 when empty.
  double mean() const noexcept;

  // Nearest rank: the smallest recorded value v with at least p% of values <= v,
  // reported as the highest value of v's bucket but clamped to [min(), max()].
  // p = 0 gives min(), p = 100 gives max(); 0 when empty.
  // Throws std::invalid_argument unless 0 <= p <= 100.
  std::uint64_t percentile(double p) const;

  // Adds `other`'s counts; exact. Throws std::invalid_argument if the significant
  // digits differ.
  void merge(const LatencyHistogram& other);

  // Forgets every value, keeps the allocation.
  void reset() noexcept;

  // The range of values that share `value_ns`'s bucket (values above the range are
  // clamped first).
  std::uint64_t lowest_equivalent(std::uint64_t value_ns) const noexcept;
  std::uint64_t highest_equivalent(std::uint64_t value_ns) const noexcept;

  // {"significant_digits": d, "unit": "ns", "min", "max", "count",
  //  "buckets": [[lowest value of bucket, count], ...]} with non-empty buckets in
  // ascending order, plus "clamped": n only when n > 0.
  nlohmann::json to_json() const;

  // Rebuilds exactly what to_json() wrote. Strict: a missing, unknown or mistyped
  // key, a negative or fractional number, a bucket bound that is not a bucket's
  // lowest value, unsorted or empty buckets, or min/max/count that disagree with
  // the buckets throw std::invalid_argument with a one-line message.
  static LatencyHistogram from_json(const nlohmann::json& j);

  bool operator==(const LatencyHistogram&) const = default;

 private:
  std::size_t index_of(std::uint64_t v) const noexcept {
    // "| 1" changes nothing (the mask's low bit is set) but proves the operand is
    // non-zero, so the compiler drops countl_zero's zero-input branch.
    const unsigned magnitude = 63U - static_cast<unsigned>(std::countl_zero(v | sub_bucket_mask_ | 1U));
    const unsigned shift = magnitude - half_magnitude_;
    return (static_cast<std::size_t>(shift) << half_magnitude_) + static_cast<std::size_t>(v >> shift);
  }
  std::uint64_t lowest_of_index(std::size_t index) const noexcept;
  std::uint64_t width_of_index(std::size_t index) const noexcept;

  int digits_;
  unsigned half_magnitude_;        // log2(H) = k - 1
  std::uint64_t sub_bucket_mask_;  // S - 1
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t clamped_ = 0;
  std::uint64_t min_ = UINT64_MAX;  // sentinel so the first record() sets it without a branch on count_
  std::uint64_t max_ = 0;
};

// Every percentile is 0 for an empty histogram.
struct LatencySummary {
  std::uint64_t min, p50, p90, p99, p999, p9999, max;
  double mean;
  std::uint64_t count;
};

LatencySummary summarize(const LatencyHistogram& h);

}  // namespace ipcmark
