#include "harness/views/bmf.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>

namespace ipcmark {
namespace {

using nlohmann::json;

// {value} plus {lower_value, upper_value} when both bounds are known.
json metric(double value, std::optional<double> lower, std::optional<double> upper) {
  json m{{"value", value}};
  if (lower && upper) {
    m["lower_value"] = std::min(*lower, *upper);
    m["upper_value"] = std::max(*lower, *upper);
  }
  return m;
}

struct Spread {  // smallest and largest over the repetitions
  std::optional<double> low, high;
  void add(std::optional<double> v) {
    if (!v) return;
    low = low ? std::min(*low, *v) : *v;
    high = high ? std::max(*high, *v) : *v;
  }
};

struct Repetitions {
  Spread real_time, items, p50, p99, cpu;
};

}  // namespace

json bmf_document(const ResultsDocument& results) {
  std::map<std::string, Repetitions> repetitions;
  for (const Row& row : results.rows) {
    if (row.run_type != RunType::Iteration || row.failed()) continue;
    Repetitions& r = repetitions[row.run_name];
    r.real_time.add(row.real_time_ns);
    r.cpu.add(row.cpu_time_ns);
    r.items.add(row.items_per_second);
    if (row.latency_ns) {
      r.p50.add(row.latency_ns->p50);
      r.p99.add(row.latency_ns->p99);
    }
  }

  json bmf = json::object();
  for (const Row& row : results.rows) {
    if (row.run_type != RunType::Aggregate || row.aggregate_name != "median") continue;
    const Repetitions& reps = repetitions[row.run_name];
    json measures = json::object();

    const bool ci = row.ci95_low_ns && row.ci95_high_ns;
    measures["latency"] = ci ? metric(row.real_time_ns, row.ci95_low_ns, row.ci95_high_ns)
                             : metric(row.real_time_ns, reps.real_time.low, reps.real_time.high);
    if (const auto items = row.items_per_second) {
      measures["throughput"] = ci && *row.ci95_low_ns > 0 && *row.ci95_high_ns > 0
                                   ? metric(*items, 1e9 / *row.ci95_high_ns, 1e9 / *row.ci95_low_ns)
                                   : metric(*items, reps.items.low, reps.items.high);
    }
    if (row.latency_ns) {
      measures["latency-p50"] = metric(row.latency_ns->p50, reps.p50.low, reps.p50.high);
      const auto low = row.p99_ci95_low, high = row.p99_ci95_high;
      const double p99 = row.latency_ns->p99;
      measures["latency-p99"] = low && high ? metric(p99, low, high) : metric(p99, reps.p99.low, reps.p99.high);
    }
    measures["cpu-time"] = metric(row.cpu_time_ns, reps.cpu.low, reps.cpu.high);
    bmf[row.run_name] = std::move(measures);
  }
  return bmf;
}

}  // namespace ipcmark
