// harness/machine/floor_clusters.hpp — which placement each repetition's floor says it ran on.
//
// When the host moves two vCPUs between hyperthreads of one core and two cores, the cache-line
// round trips of a run's repetitions fall in two clusters (here ~50 ns and ~110 ns): a line
// bounced between siblings stays in their shared core caches, one between cores goes through
// the last-level cache. The lower cluster is read as "two hyperthreads of one core", the upper
// as "two cores" (on a bare-metal machine with several sockets or CCXs the upper may be those).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ipcmark {

// Sorted round trips split where one is more than this many times the one before it.
inline constexpr double kClusterGapRatio = 1.5;
inline constexpr const char* kSiblingsLabel = "two hyperthreads of one core";
inline constexpr const char* kApartLabel = "two cores";

struct FloorCluster {
  std::string label;
  double median_ns = 0, low_ns = 0, high_ns = 0;
  int repetitions = 0;
};

struct FloorClusters {
  double split_ns = 0;  // a round trip below it is in `lower`
  FloorCluster lower, upper;
};

// Two clusters when the round trips have a gap wider than kClusterGapRatio (the widest such gap)
// with at least two round trips and 5% of them on each side; none otherwise (one cluster).
std::optional<FloorClusters> cluster_floors(std::vector<double> cacheline_rtt_ns);

// {split_ns, clusters: [{label, median_ns, low_ns, high_ns, repetitions}, lower then upper]}
nlohmann::json to_json(const FloorClusters& clusters);
// The label of the cluster `cacheline_rtt_ns` falls in, given to_json's object.
std::string cluster_label(const nlohmann::json& clusters, double cacheline_rtt_ns);

}  // namespace ipcmark
