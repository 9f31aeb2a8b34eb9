// The cache-line floor sampled across a run: the median decides, a wide spread is said.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/machine/floor_drift.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

json floors_with_samples(json samples) {
  return {{"cross", {{"cacheline_rtt_ns", samples[0]}, {"cacheline_rtt_samples_ns", samples}, {"futex_rtt_ns", 5000.0}}},
          {"same", {{"cacheline_rtt_ns", nullptr}, {"futex_rtt_ns", 2500.0}}}};
}

TEST(FloorDrift, AnOddFirstSampleIsOutvotedAndSaid) {
  json floors = floors_with_samples({52.0, 270.0, 281.0});
  const std::vector<std::string> warnings = settle_cacheline_floor(floors);
  EXPECT_DOUBLE_EQ(floors["cross"]["cacheline_rtt_ns"].get<double>(), 270.0);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "the cache-line floor of placement cross moved during the run (52, 270, 281 ns, start to end): "
            "× floor uses their median, 270 ns; the host may have moved the CPUs");
  EXPECT_TRUE(floors["same"]["cacheline_rtt_ns"].is_null()) << "a placement without a cache-line floor stays so";
}

TEST(FloorDrift, CloseSamplesGiveTheirMedianQuietly) {
  json floors = floors_with_samples({274.0, 281.0, 268.0});
  EXPECT_TRUE(settle_cacheline_floor(floors).empty());
  EXPECT_DOUBLE_EQ(floors["cross"]["cacheline_rtt_ns"].get<double>(), 274.0);
}

TEST(FloorDrift, ASpreadJustAboveTheRatioIsSaid) {
  json floors = floors_with_samples({200.0, 200.0 * kFloorDriftRatio + 1});
  EXPECT_EQ(settle_cacheline_floor(floors).size(), 1u);
  json within = floors_with_samples({200.0, 200.0 * kFloorDriftRatio});
  EXPECT_TRUE(settle_cacheline_floor(within).empty());
}

TEST(FloorDrift, TheRoundTripTimedOneByOneSettlesToItsOwnMedian) {
  json floors = floors_with_samples({260.0, 270.0, 281.0});
  floors["cross"]["cacheline_rtt_timed_ns"] = 300.0;
  floors["cross"]["cacheline_rtt_timed_samples_ns"] = {300.0, 284.0, 290.0};
  EXPECT_TRUE(settle_cacheline_floor(floors).empty());
  EXPECT_DOUBLE_EQ(floors["cross"]["cacheline_rtt_ns"].get<double>(), 270.0);
  EXPECT_DOUBLE_EQ(floors["cross"]["cacheline_rtt_timed_ns"].get<double>(), 290.0);
}

TEST(FloorDrift, FloorsWithoutSamplesOrMeasurementsAreLeftAlone) {
  json floors{{"cross", {{"cacheline_rtt_ns", 250.0}}}, {"same", nullptr}};
  EXPECT_TRUE(settle_cacheline_floor(floors).empty());
  EXPECT_DOUBLE_EQ(floors["cross"]["cacheline_rtt_ns"].get<double>(), 250.0);
  EXPECT_TRUE(floors["same"].is_null());
}

TEST(FloorDrift, SamplingSkipsPlacementsWithoutACacheLineFloor) {
  json floors{{"same", {{"cacheline_rtt_ns", nullptr}}}, {"other", nullptr}};
  sample_cacheline_floor(floors, {{"same", CpuPair{0, 0}}, {"other", CpuPair{0, 1}}});
  EXPECT_FALSE(floors["same"].contains("cacheline_rtt_samples_ns"));
  EXPECT_TRUE(floors["other"].is_null());
}

}  // namespace
}  // namespace ipcmark
