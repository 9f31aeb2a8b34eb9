// tests/unit/histogram_test.cpp — LatencyHistogram against exact references.
#include "harness/measure/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ipcmark {
namespace {

using nlohmann::json;
constexpr std::uint64_t kTop = LatencyHistogram::kHighestTrackableNs;

std::uint64_t power_of_ten(int d) {
  std::uint64_t r = 1;
  while (d-- > 0) r *= 10;
  return r;
}

// Percentiles in thousandths of a percent, so the reference rank is exact integer
// arithmetic while the histogram gets the (inexact) double p = milli / 1000.
std::vector<std::uint64_t> percentiles_milli() {
  std::vector<std::uint64_t> ps = {0,     1,     10,    100,   999,   1000,  25000, 33333,
                                   50000, 66667, 75000, 90000, 99000, 99900, 99990, 99999, 100000};
  for (std::uint64_t p = 0; p <= 100000; p += 250) ps.push_back(p);
  return ps;
}

// Nearest rank on a sorted vector: the smallest value with at least p% of values <= it.
std::uint64_t reference_percentile(const std::vector<std::uint64_t>& sorted, std::uint64_t p_milli) {
  const std::uint64_t n = sorted.size();
  std::uint64_t rank = (p_milli * n + 99999) / 100000;  // ceil(p/100 * n)
  rank = std::clamp<std::uint64_t>(rank, 1, n);
  return sorted[rank - 1];
}

std::uint64_t to_ns(double x) {
  if (!(x >= 0)) return 0;
  if (x >= static_cast<double>(kTop)) return kTop;
  return static_cast<std::uint64_t>(x);
}

struct Distribution {
  std::string name;
  std::function<std::uint64_t(std::mt19937_64&)> draw;
};

std::vector<Distribution> distributions() {
  return {
      {"UniformSmall", [](std::mt19937_64& g) { return std::uniform_int_distribution<std::uint64_t>(0, 5000)(g); }},
      {"UniformWide", [](std::mt19937_64& g) { return std::uniform_int_distribution<std::uint64_t>(0, kTop)(g); }},
      {"Exponential", [](std::mt19937_64& g) { return to_ns(std::exponential_distribution<double>(1.0 / 20000)(g)); }},
      {"LogNormal", [](std::mt19937_64& g) { return to_ns(std::lognormal_distribution<double>(9.0, 1.5)(g)); }},
      {"ParetoHeavyTail",  // alpha 1.1: infinite variance, a few samples near the one-hour cap
       [](std::mt19937_64& g) {
         const double u = 1.0 - std::uniform_real_distribution<double>(0.0, 1.0)(g);  // (0, 1]
         return to_ns(800.0 * std::pow(u, -1.0 / 1.1));
       }},
      {"LogUniformWholeRange",
       [](std::mt19937_64& g) {
         return to_ns(std::exp(std::uniform_real_distribution<double>(0.0, std::log(static_cast<double>(kTop)))(g)));
       }},
      {"Bimodal",  // a fast path and a rare slow path, like a wakeup after sleeping
       [](std::mt19937_64& g) {
         if (std::bernoulli_distribution(0.01)(g)) return to_ns(std::normal_distribution<double>(5e6, 1e5)(g));
         return to_ns(std::normal_distribution<double>(700, 40)(g));
       }},
  };
}

// --- buckets ----------------------------------------------------------------------------

TEST(LatencyHistogram, SmallValuesUpTo2047AreExact) {
  LatencyHistogram h;
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 0; v < 2048; ++v) {
    EXPECT_EQ(h.lowest_equivalent(v), v);
    EXPECT_EQ(h.highest_equivalent(v), v);
    for (std::uint64_t k = 0; k < v % 3 + 1; ++k) {
      h.record(v);
      values.push_back(v);
    }
  }
  for (std::uint64_t p : percentiles_milli()) {
    EXPECT_EQ(h.percentile(static_cast<double>(p) / 1000.0), reference_percentile(values, p)) << "p=" << p;
  }
}

TEST(LatencyHistogram, EveryValueFallsInsideItsOwnBucketWhoseWidthRespectsTheDigits) {
  for (int digits = LatencyHistogram::kMinSignificantDigits; digits <= LatencyHistogram::kMaxSignificantDigits;
       ++digits) {
    LatencyHistogram h(digits);
    std::vector<std::uint64_t> values = {0, 1, kTop - 1, kTop};
    for (unsigned b = 1; b < 42; ++b) {
      const std::uint64_t p2 = std::uint64_t{1} << b;
      values.insert(values.end(), {p2 - 1, p2, p2 + 1});
    }
    std::mt19937_64 g(7);
    for (int i = 0; i < 20000; ++i) values.push_back(std::uniform_int_distribution<std::uint64_t>(0, kTop)(g));
    for (const auto& d : distributions()) {
      for (int i = 0; i < 2000; ++i) values.push_back(d.draw(g));
    }
    for (std::uint64_t v : values) {
      const std::uint64_t lo = h.lowest_equivalent(v);
      const std::uint64_t hi = h.highest_equivalent(v);
      ASSERT_LE(lo, v) << "digits=" << digits;
      ASSERT_GE(hi, v) << "digits=" << digits;
      // Width - 1 is the worst reporting error; it must be <= 10^-d of any value in the bucket.
      ASSERT_LE((hi - lo) * power_of_ten(digits), lo) << "v=" << v << " digits=" << digits;
    }
  }
}

TEST(LatencyHistogram, BucketsTileTheWholeRangeWithoutGapsOrOverlaps) {
  LatencyHistogram h;
  std::uint64_t v = 0;
  std::size_t buckets = 0;
  while (v <= kTop) {
    ASSERT_EQ(h.lowest_equivalent(v), v);
    const std::uint64_t hi = h.highest_equivalent(v);
    ASSERT_GE(hi, v);
    ASSERT_EQ(h.lowest_equivalent(hi), v);
    v = hi + 1;
    ++buckets;
  }
  EXPECT_EQ(buckets, 33421u);  // the size quoted in histogram.hpp
}

// --- counting -----------------------------------------------------------------------------

TEST(LatencyHistogram, CountsEveryRecordedValueExactly) {
  LatencyHistogram h;
  std::mt19937_64 g(1);
  std::uint64_t expected = 0;
  for (int i = 0; i < 100000; ++i) {
    h.record(std::uniform_int_distribution<std::uint64_t>(0, 10'000'000)(g));
    ++expected;
  }
  h.record_n(12345, 1000);
  h.record_n(999, 0);  // no-op, must not disturb min
  expected += 1000;
  EXPECT_EQ(h.count(), expected);

  std::uint64_t in_buckets = 0;
  const json j = h.to_json();
  for (const auto& b : j["buckets"]) in_buckets += b[1].get<std::uint64_t>();
  EXPECT_EQ(in_buckets, expected);
  EXPECT_EQ(h.clamped(), 0u);
}

TEST(LatencyHistogram, RecordNIsTheSameAsRecordingNTimes) {
  LatencyHistogram a, b;
  for (std::uint64_t v : {0ULL, 5ULL, 4096ULL, 1'000'001ULL, 77'777'777'777ULL}) {
    a.record_n(v, 17);
    for (int i = 0; i < 17; ++i) b.record(v);
  }
  EXPECT_EQ(a, b);
}

TEST(LatencyHistogram, MinAndMaxAreExactAndMeanIsWithinHalfTheRelativeError) {
  for (const auto& d : distributions()) {
    LatencyHistogram h;
    std::mt19937_64 g(99);
    std::uint64_t mn = UINT64_MAX, mx = 0;
    long double sum = 0;
    for (int i = 0; i < 50000; ++i) {
      const std::uint64_t v = d.draw(g);
      h.record(v);
      mn = std::min(mn, v);
      mx = std::max(mx, v);
      sum += v;
    }
    EXPECT_EQ(h.min(), mn) << d.name;
    EXPECT_EQ(h.max(), mx) << d.name;
    const double exact = static_cast<double>(sum / 50000);
    EXPECT_LE(std::fabs(h.mean() - exact), exact * 0.5e-3 + 1e-9) << d.name;
  }
}

TEST(LatencyHistogram, OneRepeatedValueHasThatValueAsMeanAndEveryPercentile) {
  LatencyHistogram h;
  h.record_n(123'456'789, 10);
  EXPECT_DOUBLE_EQ(h.mean(), 123'456'789.0);
  for (double p : {0.0, 1.0, 50.0, 99.99, 100.0}) EXPECT_EQ(h.percentile(p), 123'456'789u) << p;
}

// --- percentiles ----------------------------------------------------------------------------

struct PercentileCase {
  Distribution dist;
  int digits;
};

class LatencyHistogramPercentile : public ::testing::TestWithParam<PercentileCase> {};

TEST_P(LatencyHistogramPercentile, StaysWithinTheRelativeErrorOfANearestRankReference) {
  const auto& [dist, digits] = GetParam();
  LatencyHistogram h(digits);
  std::mt19937_64 g(20240601);
  std::vector<std::uint64_t> values(100000);
  for (auto& v : values) {
    v = dist.draw(g);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  ASSERT_EQ(h.count(), values.size());
  for (std::uint64_t p : percentiles_milli()) {
    const std::uint64_t want = reference_percentile(values, p);
    const std::uint64_t got = h.percentile(static_cast<double>(p) / 1000.0);
    // The reported value is its bucket's top (never below the true value) and at most
    // 10^-d above it.
    ASSERT_GE(got, want) << "p=" << p / 1000.0;
    ASSERT_LE((got - want) * power_of_ten(digits), want) << "p=" << p / 1000.0 << " want=" << want << " got=" << got;
    ASSERT_GE(got, h.min());
    ASSERT_LE(got, h.max());
  }
  EXPECT_EQ(h.percentile(0), values.front());
  EXPECT_EQ(h.percentile(100), values.back());
}

std::vector<PercentileCase> percentile_cases() {
  std::vector<PercentileCase> cases;
  for (const auto& d : distributions()) {
    for (int digits : {2, 3, 4}) cases.push_back({d, digits});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Distributions, LatencyHistogramPercentile, ::testing::ValuesIn(percentile_cases()),
                         [](const ::testing::TestParamInfo<PercentileCase>& info) {
                           return info.param.dist.name + "_" + std::to_string(info.param.digits) + "Digits";
                         });

TEST(LatencyHistogram, PercentileZeroIsMinAndHundredIsMaxExactly) {
  LatencyHistogram h;
  // Both ends sit in wide buckets, where a bucket bound would be visibly wrong.
  h.record(1'234'567'891);
  h.record(5'000'000);
  h.record(987'654'321'001);
  EXPECT_EQ(h.percentile(0), 5'000'000u);
  EXPECT_EQ(h.percentile(100), 987'654'321'001u);
  EXPECT_EQ(h.percentile(0), h.min());
  EXPECT_EQ(h.percentile(100), h.max());
}

TEST(LatencyHistogram, NearestRankIsExactForPercentilesThatAreNotExactInBinary) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v);
  EXPECT_EQ(h.percentile(99.9), 999u);  // 99.9% of 1000 is rank 999, not 1000
  EXPECT_EQ(h.percentile(0.1), 1u);
  EXPECT_EQ(h.percentile(0.1000001), 2u);
  EXPECT_EQ(h.percentile(50), 500u);
  EXPECT_EQ(h.percentile(50.05), 501u);
  EXPECT_EQ(h.percentile(100.0 - 0.1), 999u);
}

TEST(LatencyHistogram, PercentileRejectsArgumentsOutsideZeroToHundred) {
  LatencyHistogram h;
  h.record(1);
  EXPECT_THROW((void)h.percentile(-0.001), std::invalid_argument);
  EXPECT_THROW((void)h.percentile(100.001), std::invalid_argument);
  EXPECT_THROW((void)h.percentile(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
}

TEST(LatencyHistogram, EmptyHistogramReportsZeroEverywhere) {
  const LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  for (double p : {0.0, 50.0, 99.9, 100.0}) EXPECT_EQ(h.percentile(p), 0u);
  const LatencySummary s = summarize(h);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.min + s.p50 + s.p90 + s.p99 + s.p999 + s.p9999 + s.max, 0u);
  EXPECT_EQ(s.mean, 0.0);
  EXPECT_TRUE(h.to_json()["buckets"].empty());
  EXPECT_EQ(LatencyHistogram::from_json(h.to_json()), h);
}

TEST(LatencyHistogram, ValuesAboveOneHourAreClampedIntoTheTopBucketAndCounted) {
  LatencyHistogram h;
  h.record(1000);
  h.record(kTop);  // the limit itself is in range
  h.record(kTop + 1);
  h.record(std::numeric_limits<std::uint64_t>::max());
  h.record_n(kTop * 2, 3);
  EXPECT_EQ(h.count(), 7u);
  EXPECT_EQ(h.clamped(), 5u);
  EXPECT_EQ(h.max(), kTop);
  EXPECT_EQ(h.percentile(100), kTop);
  EXPECT_EQ(h.percentile(50), kTop);
  EXPECT_EQ(h.percentile(10), 1000u);
  EXPECT_LE(h.mean(), static_cast<double>(kTop));
  EXPECT_EQ(h.lowest_equivalent(std::numeric_limits<std::uint64_t>::max()), h.lowest_equivalent(kTop));
}

TEST(LatencyHistogram, SummarizeReportsTheStandardPercentiles) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v);
  const LatencySummary s = summarize(h);
  EXPECT_EQ(s.min, 1u);
  EXPECT_EQ(s.p50, 500u);
  EXPECT_EQ(s.p90, 900u);
  EXPECT_EQ(s.p99, 990u);
  EXPECT_EQ(s.p999, 999u);
  EXPECT_EQ(s.p9999, 1000u);
  EXPECT_EQ(s.max, 1000u);
  EXPECT_DOUBLE_EQ(s.mean, 500.5);
  EXPECT_EQ(s.count, 1000u);
}

TEST(LatencyHistogram, ResetForgetsEverything) {
  LatencyHistogram h;
  h.record(5);
  h.record(kTop + 1);
  h.reset();
  EXPECT_EQ(h, LatencyHistogram());
}

TEST(LatencyHistogram, ConstructorRejectsUnsupportedSignificantDigits) {
  EXPECT_THROW(LatencyHistogram(0), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram(6), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram(-3), std::invalid_argument);
}

// --- merge ----------------------------------------------------------------------------------

TEST(LatencyHistogram, MergingEqualsRecordingEverythingIntoOne) {
  LatencyHistogram all;
  std::vector<LatencyHistogram> parts(3);
  std::mt19937_64 g(5);
  const auto dists = distributions();
  for (int i = 0; i < 60000; ++i) {
    const std::uint64_t v = dists[static_cast<std::size_t>(i) % dists.size()].draw(g);
    all.record(v);
    parts[static_cast<std::size_t>(i) % 3].record(v);
  }
  all.record(kTop + 5);
  parts[1].record(kTop + 5);

  LatencyHistogram merged;
  for (const auto& p : parts) merged.merge(p);
  merged.merge(LatencyHistogram());  // an empty repetition changes nothing
  EXPECT_EQ(merged, all);
  EXPECT_EQ(merged.clamped(), 1u);
  for (std::uint64_t p : percentiles_milli()) {
    EXPECT_EQ(merged.percentile(static_cast<double>(p) / 1000.0), all.percentile(static_cast<double>(p) / 1000.0));
  }
}

TEST(LatencyHistogram, MergingWithItselfDoublesEveryCount) {
  LatencyHistogram h, twice;
  for (std::uint64_t v : {3ULL, 70'000ULL, 9'000'000'000ULL}) {
    h.record(v);
    twice.record_n(v, 2);
  }
  h.merge(h);
  EXPECT_EQ(h, twice);
}

TEST(LatencyHistogram, MergingHistogramsWithDifferentDigitsThrows) {
  LatencyHistogram a(3), b(2);
  b.record(10);
  EXPECT_THROW(a.merge(b), std::invalid_argument);
  EXPECT_EQ(a.count(), 0u);
}

// --- JSON -----------------------------------------------------------------------------------

TEST(LatencyHistogram, JsonHasTheDocumentedShapeWithOnlyNonEmptyBuckets) {
  LatencyHistogram h;
  h.record(7);
  h.record(7);
  h.record(1'000'000);
  const json j = h.to_json();
  EXPECT_EQ(j.size(), 6u);
  EXPECT_EQ(j["significant_digits"], 3);
  EXPECT_EQ(j["unit"], "ns");
  EXPECT_EQ(j["min"], 7);
  EXPECT_EQ(j["max"], 1'000'000);
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["buckets"], json::parse("[[7, 2], [999936, 1]]"));
  EXPECT_EQ(h.lowest_equivalent(1'000'000), 999'936u);
}

TEST(LatencyHistogram, JsonRoundTripKeepsPercentilesAndCountsIdentical) {
  for (const auto& d : distributions()) {
    LatencyHistogram h;
    std::mt19937_64 g(3);
    for (int i = 0; i < 30000; ++i) h.record(d.draw(g));
    // Through text, as a result file would go.
    const LatencyHistogram back = LatencyHistogram::from_json(json::parse(h.to_json().dump()));
    EXPECT_EQ(back, h) << d.name;
    EXPECT_EQ(back.count(), h.count());
    EXPECT_EQ(back.min(), h.min());
    EXPECT_EQ(back.max(), h.max());
    EXPECT_EQ(back.mean(), h.mean());
    for (std::uint64_t p : percentiles_milli()) {
      ASSERT_EQ(back.percentile(static_cast<double>(p) / 1000.0), h.percentile(static_cast<double>(p) / 1000.0))
          << d.name << " p=" << p;
    }
  }
}

TEST(LatencyHistogram, JsonRoundTripKeepsTheClampedCountAndOtherDigits) {
  LatencyHistogram h(2);
  h.record(40);
  h.record_n(kTop + 1, 4);
  const json j = h.to_json();
  EXPECT_EQ(j["clamped"], 4);
  EXPECT_EQ(LatencyHistogram::from_json(j), h);
}

TEST(LatencyHistogram, FromJsonRejectsMalformedInput) {
  LatencyHistogram h;
  h.record(7);
  h.record(7);
  h.record(1'000'000);
  const json good = h.to_json();
  ASSERT_NO_THROW((void)LatencyHistogram::from_json(good));

  struct Case {
    const char* what;
    std::function<void(json&)> spoil;
  };
  const std::vector<Case> cases = {
      {"not an object", [](json& j) { j = json::array({1, 2}); }},
      {"missing key", [](json& j) { j.erase("count"); }},
      {"unknown key", [](json& j) { j["p99"] = 5; }},
      {"count as string", [](json& j) { j["count"] = "3"; }},
      {"count as float", [](json& j) { j["count"] = 3.0; }},
      {"count as bool", [](json& j) { j["count"] = true; }},
      {"negative min", [](json& j) { j["min"] = -7; }},
      {"digits out of range", [](json& j) { j["significant_digits"] = 6; }},
      {"digits zero", [](json& j) { j["significant_digits"] = 0; }},
      {"wrong unit", [](json& j) { j["unit"] = "us"; }},
      {"unit not a string", [](json& j) { j["unit"] = 1; }},
      {"buckets not an array", [](json& j) { j["buckets"] = json::object(); }},
      {"bucket not a pair", [](json& j) { j["buckets"][0] = json::array({7, 2, 1}); }},
      {"bucket not an array", [](json& j) { j["buckets"][0] = 7; }},
      {"negative bucket count", [](json& j) { j["buckets"][0][1] = -2; }},
      {"bucket count float", [](json& j) { j["buckets"][0][1] = 2.5; }},
      {"zero bucket count",
       [](json& j) {
         j["buckets"] = json::parse("[[7, 2], [8, 0], [999936, 1]]");
       }},
      {"lower bound not a bucket start", [](json& j) { j["buckets"][1][0] = 1'000'000; }},
      {"lower bound above range", [](json& j) { j["buckets"][1][0] = kTop * 4; }},
      {"buckets unsorted", [](json& j) { j["buckets"] = json::parse("[[999936, 1], [7, 2]]"); }},
      {"duplicate bucket", [](json& j) { j["buckets"] = json::parse("[[7, 1], [7, 1], [999936, 1]]"); }},
      {"count disagrees with buckets", [](json& j) { j["count"] = 4; }},
      {"min above max", [](json& j) { j["min"] = 2'000'000; }},
      {"min outside first bucket", [](json& j) { j["min"] = 8; }},
      {"max outside last bucket", [](json& j) { j["max"] = 2'000'000; }},
      {"max above range", [](json& j) { j["max"] = kTop + 1; }},
      {"clamped without values at the cap", [](json& j) { j["clamped"] = 1; }},
      {"empty with nonzero min",
       [](json& j) {
         j["buckets"] = json::array();
         j["count"] = 0;
         j["max"] = 0;
       }},
      {"one value but min differs from max",
       [](json& j) {
         j["buckets"] = json::parse("[[999936, 1]]");
         j["count"] = 1;
         j["min"] = 999'940;
       }},
  };
  for (const auto& c : cases) {
    json j = good;
    c.spoil(j);
    try {
      (void)LatencyHistogram::from_json(j);
      ADD_FAILURE() << "accepted: " << c.what << ": " << j.dump();
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << c.what;
      EXPECT_EQ(msg.rfind("histogram JSON: ", 0), 0u) << c.what << ": " << msg;
    } catch (const std::exception& e) {
      ADD_FAILURE() << c.what << ": threw something other than invalid_argument: " << e.what();
    }
  }
}

}  // namespace
}  // namespace ipcmark
