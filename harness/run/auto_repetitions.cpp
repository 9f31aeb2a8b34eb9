#include "harness/run/auto_repetitions.hpp"

#include "harness/measure/stats.hpp"

namespace ipcmark {

std::map<std::string, AutoOutcome> auto_outcomes(const std::vector<RunResult>& results, double half_width) {
  std::map<std::string, std::vector<double>> times;
  for (const RunResult& r : results)
    if (r.ok()) times[r.spec.name()].push_back(r.ns_per_message());
    else times.try_emplace(r.spec.name());
  std::map<std::string, AutoOutcome> outcomes;
  for (const auto& [name, v] : times) {
    AutoOutcome& o = outcomes[name];
    o.repetitions = static_cast<int>(v.size());
    if (v.size() < 3) continue;
    const double mid = median(v);
    const Interval ci = bootstrap_ci95(v, [](const std::vector<double>& s) { return median(s); });
    o.half_width = mid > 0 ? (ci.high - ci.low) / 2 / mid : 0;
    o.reached = mid > 0 && o.half_width <= half_width;
  }
  return outcomes;
}

}  // namespace ipcmark
