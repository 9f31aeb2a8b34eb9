#include "harness/machine/floor_drift.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/machine/floor.hpp"
#include "harness/measure/stats.hpp"

namespace ipcmark {
namespace {

constexpr const char* kSamples = "cacheline_rtt_samples_ns";
constexpr const char* kTimedSamples = "cacheline_rtt_timed_samples_ns";

// The positive numbers in floor[key], if it is an array.
std::vector<double> samples_in(const nlohmann::json& floor, const char* key) {
  std::vector<double> samples;
  if (!floor.contains(key) || !floor[key].is_array()) return samples;
  for (const nlohmann::json& s : floor[key])
    if (s.is_number() && s.get<double>() > 0) samples.push_back(s.get<double>());
  return samples;
}

std::string ns_text(double ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", ns);
  return text;
}

}  // namespace

void sample_cacheline_floor(nlohmann::json& floor_by_placement, const std::map<std::string, CpuPair>& cpus) {
  for (auto& [key, floor] : floor_by_placement.items()) {
    if (!floor.is_object() || !floor.value("cacheline_rtt_ns", nlohmann::json()).is_number()) continue;
    const auto where = cpus.find(key);
    if (where == cpus.end()) continue;
    if (!floor.contains(kSamples)) {
      floor[kSamples] = nlohmann::json::array({floor["cacheline_rtt_ns"]});
      floor[kTimedSamples] = nlohmann::json::array();
      if (floor.value("cacheline_rtt_timed_ns", nlohmann::json()).is_number())
        floor[kTimedSamples].push_back(floor["cacheline_rtt_timed_ns"]);
    }
    try {
      if (const std::optional<CachelineRtt> rtt = measure_cacheline_rtt(where->second)) {
        floor[kSamples].push_back(rtt->batched_ns);
        floor[kTimedSamples].push_back(rtt->timed_ns);
      }
    } catch (const std::exception&) {
      // A sample that could not be taken leaves the others to decide.
    }
  }
}

std::vector<std::string> settle_cacheline_floor(nlohmann::json& floor_by_placement) {
  std::vector<std::string> warnings;
  for (auto& [key, floor] : floor_by_placement.items()) {
    if (!floor.is_object()) continue;
    if (const std::vector<double> timed = samples_in(floor, kTimedSamples); !timed.empty())
      floor["cacheline_rtt_timed_ns"] = median(timed);
    const std::vector<double> samples = samples_in(floor, kSamples);
    if (samples.empty()) continue;
    const double settled = median(samples);
    floor["cacheline_rtt_ns"] = settled;
    const auto [low, high] = std::minmax_element(samples.begin(), samples.end());
    if (*high > kFloorDriftRatio * *low) {
      std::string list;
      for (double s : samples) list += (list.empty() ? "" : ", ") + ns_text(s);
      warnings.push_back("the cache-line floor of placement " + key + " moved during the run (" + list +
                         " ns, start to end): × floor uses their median, " + ns_text(settled) +
                         " ns; the host may have moved the CPUs");
    }
  }
  return warnings;
}

}  // namespace ipcmark
