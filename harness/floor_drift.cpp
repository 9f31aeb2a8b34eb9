#include "harness/floor_drift.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/floor.hpp"
#include "harness/stats.hpp"

namespace ipcmark {
namespace {

constexpr const char* kSamples = "cacheline_rtt_samples_ns";

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
    if (!floor.contains(kSamples)) floor[kSamples] = nlohmann::json::array({floor["cacheline_rtt_ns"]});
    try {
      if (const std::optional<double> rtt = measure_cacheline_rtt_ns(where->second)) floor[kSamples].push_back(*rtt);
    } catch (const std::exception&) {
      // A sample that could not be taken leaves the others to decide.
    }
  }
}

std::vector<std::string> settle_cacheline_floor(nlohmann::json& floor_by_placement) {
  std::vector<std::string> warnings;
  for (auto& [key, floor] : floor_by_placement.items()) {
    if (!floor.is_object() || !floor.contains(kSamples) || !floor[kSamples].is_array()) continue;
    std::vector<double> samples;
    for (const nlohmann::json& s : floor[kSamples])
      if (s.is_number() && s.get<double>() > 0) samples.push_back(s.get<double>());
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
