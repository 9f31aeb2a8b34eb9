// The cache-line floor measured between two forked, pinned processes: the median over several
// lines, with the fastest and slowest line beside it (harness/machine/floor.hpp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/machine/affinity.hpp"
#include "harness/machine/floor.hpp"

namespace ipcmark {
namespace {

TEST(Floor, CacheLineRoundTripIsTheMedianOverLinesBetweenTheFastestAndTheSlowest) {
  const std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs";
  const std::optional<CachelineRtt> rtt = measure_cacheline_rtt({cpus[0], cpus[1]});
  ASSERT_TRUE(rtt.has_value());
  EXPECT_GT(rtt->fastest_line_ns, 0.0);
  EXPECT_LE(rtt->fastest_line_ns, rtt->batched_ns);
  EXPECT_LE(rtt->batched_ns, rtt->slowest_line_ns);
  EXPECT_GT(rtt->timed_ns, 0.0);
}

TEST(Floor, OneCpuHasNoCacheLineRoundTrip) {
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_FALSE(measure_cacheline_rtt({cpus[0], cpus[0]}).has_value());
}

TEST(Floor, JsonCarriesTheFastestAndSlowestLineOrNullWithoutThem) {
  Floor f;
  f.cacheline_rtt_ns = 280;
  f.cacheline_rtt_fastest_line_ns = 240;
  f.cacheline_rtt_slowest_line_ns = 340;
  const nlohmann::json j = to_json(f);
  EXPECT_EQ(j["cacheline_rtt_fastest_line_ns"], 240.0);
  EXPECT_EQ(j["cacheline_rtt_slowest_line_ns"], 340.0);
  EXPECT_TRUE(to_json(Floor{})["cacheline_rtt_fastest_line_ns"].is_null());
}

}  // namespace
}  // namespace ipcmark
