// harness/machine/floor_drift.hpp — the cache-line floor, sampled across a run rather than once.
//
// On a VM the host may move the vCPUs while a suite runs: here the cache-line round trip was
// 220-330 ns between two vCPUs, and once 52 ns (the two landed on one core's hyperthreads) at
// the start of a run whose round trips then ran at the usual placement. A single sample taken
// at the start can thus make every "× floor" of the run wrong by 5×. So `run` samples it again
// halfway and at the end, and "× floor" divides by the median of the samples; when they
// disagree by more than kFloorDriftRatio the run says so in its warnings.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "harness/machine/placement.hpp"

namespace ipcmark {

inline constexpr double kFloorDriftRatio = 1.3;

// Measures the cache-line round trip again for every placement in `floor_by_placement` that
// has one, and appends it to its "cacheline_rtt_samples_ns" (started with the first sample),
// the one timed round trip by round trip to "cacheline_rtt_timed_samples_ns".
// A failed measurement adds no sample.
void sample_cacheline_floor(nlohmann::json& floor_by_placement, const std::map<std::string, CpuPair>& cpus);

// Sets each placement's "cacheline_rtt_ns" (and "cacheline_rtt_timed_ns") to the median of its
// samples. Returns a warning for every placement whose samples spread wider than kFloorDriftRatio.
std::vector<std::string> settle_cacheline_floor(nlohmann::json& floor_by_placement);

}  // namespace ipcmark
