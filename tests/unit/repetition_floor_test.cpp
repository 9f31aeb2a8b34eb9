// The floor around each repetition: when it says the host moved the CPUs, and how a run's floors
// split into "two hyperthreads of one core" and "two cores". Figures are recorded round trips
// (ns), never measured here.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/machine/floor_clusters.hpp"
#include "harness/machine/repetition_floor.hpp"

namespace ipcmark {
namespace {

RepetitionFloor cacheline(double before, double after) { return {{before, std::nullopt}, {after, std::nullopt}}; }

// Recorded on this project's VM kind: a suite whose floor read 49 ns at its start (the vCPUs on
// one core's hyperthreads), 117 ns halfway and 95 ns at its end; and, on another day, short
// floors around three shm/pingpong/64/spin/cross repetitions of one run, 489-531 ns.
TEST(RepetitionFloor, BeforeAndAfterOnDifferentPlacementsIsMoved) {
  EXPECT_TRUE(floor_moved(cacheline(49, 117)));
  EXPECT_TRUE(floor_moved(cacheline(117, 49))) << "either direction";
  EXPECT_FALSE(floor_moved(cacheline(117, 95))) << "within 1.3x: noise of the same placement";
  EXPECT_FALSE(floor_moved(cacheline(520.73, 530.74)));
  EXPECT_FALSE(floor_moved(cacheline(528.485, 525.68)));
}

TEST(RepetitionFloor, TheToleranceIsTheStatedRatio) {
  EXPECT_FALSE(floor_moved(cacheline(100, 100 * kFloorMovedRatio)));
  EXPECT_TRUE(floor_moved(cacheline(100, 100 * kFloorMovedRatio + 0.5)));
}

TEST(RepetitionFloor, AMissingSideIsNeverMoved) {
  EXPECT_FALSE(floor_moved({{std::nullopt, std::nullopt}, {117.0, std::nullopt}}));
  EXPECT_FALSE(floor_moved({}));
}

TEST(RepetitionFloor, OnlyTheCacheLineDecides) {
  // One CPU: recorded futex round trips of same-CPU rows on a loaded machine swing without a move.
  EXPECT_FALSE(floor_moved({{std::nullopt, 3590.5}, {std::nullopt, 36'254.0}}));
  // Across two CPUs the cache line decides even when the futex round trips disagree.
  EXPECT_FALSE(floor_moved({{500.0, 28'000.0}, {510.0, 49'874.0}}));
  EXPECT_TRUE(floor_moved({{110.0, 28'000.0}, {518.0, 28'100.0}}));
}

TEST(RepetitionFloor, AroundIsTheMeanOfWhatWasMeasured) {
  EXPECT_DOUBLE_EQ(*around(100.0, 120.0), 110.0);
  EXPECT_DOUBLE_EQ(*around(std::nullopt, 120.0), 120.0);
  EXPECT_DOUBLE_EQ(*around(100.0, std::nullopt), 100.0);
  EXPECT_FALSE(around(std::nullopt, std::nullopt));
}

TEST(FloorClusters, SiblingsAndCoresSplitAtTheGap) {
  // Per-repetition cache-line round trips of a run the host moved: ~50 ns, then ~110 ns.
  const std::vector<double> rtt{49, 52, 48, 51, 117, 110, 108, 95, 112, 50, 105};
  const auto clusters = cluster_floors(rtt);
  ASSERT_TRUE(clusters);
  EXPECT_EQ(clusters->lower.label, "two hyperthreads of one core");
  EXPECT_EQ(clusters->lower.repetitions, 5);
  EXPECT_DOUBLE_EQ(clusters->lower.low_ns, 48);
  EXPECT_DOUBLE_EQ(clusters->lower.high_ns, 52);
  EXPECT_EQ(clusters->upper.label, "two cores");
  EXPECT_EQ(clusters->upper.repetitions, 6);
  EXPECT_DOUBLE_EQ(clusters->upper.median_ns, 109);
  EXPECT_GT(clusters->split_ns, 52);
  EXPECT_LT(clusters->split_ns, 95);

  const nlohmann::json j = to_json(*clusters);
  EXPECT_EQ(cluster_label(j, 50), "two hyperthreads of one core");
  EXPECT_EQ(cluster_label(j, 101), "two cores");
}

TEST(FloorClusters, OnePlacementAllRunIsOneCluster) {
  EXPECT_FALSE(cluster_floors({489.9, 504.0, 520.7, 530.7, 511.7, 493.1, 500.0}));
  EXPECT_FALSE(cluster_floors({})) << "nothing measured";
}

TEST(FloorClusters, OneStrayRoundTripIsNotACluster) {
  // A descheduled partner makes one sample slow: at least two (and 5%) on each side.
  EXPECT_FALSE(cluster_floors({500, 505, 498, 510, 502, 1600}));
  EXPECT_FALSE(cluster_floors({49, 500, 505, 498, 510, 502}));
}

}  // namespace
}  // namespace ipcmark
