#include "harness/bmf.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/compare.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

std::optional<double> latency_at(const json& row, const char* key) {
  const auto it = row.find("latency_ns");
  return it == row.end() ? std::nullopt : number_at(*it, key);
}

double ns_per_unit(const json& row) {
  const std::string unit = text_at(row, "time_unit", "ns");
  return unit == "us" ? 1e3 : unit == "ms" ? 1e6 : unit == "s" ? 1e9 : 1.0;
}

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

json bmf_document(const json& results) {
  json bmf = json::object();
  if (!results.is_object() || !results.contains("benchmarks") || !results["benchmarks"].is_array()) return bmf;
  const json& rows = results["benchmarks"];

  std::map<std::string, Repetitions> repetitions;
  for (const json& row : rows) {
    if (!row.is_object() || text_at(row, "run_type", "iteration") != "iteration" || row_failed(row)) continue;
    const std::string name = text_at(row, "run_name", text_at(row, "name"));
    Repetitions& r = repetitions[name];
    const double scale = ns_per_unit(row);
    if (auto t = number_at(row, "real_time")) r.real_time.add(*t * scale);
    if (auto t = number_at(row, "cpu_time")) r.cpu.add(*t * scale);
    r.items.add(number_at(row, "items_per_second"));
    r.p50.add(latency_at(row, "p50"));
    r.p99.add(latency_at(row, "p99"));
  }

  for (const json& row : rows) {
    if (!row.is_object() || text_at(row, "run_type") != "aggregate" ||
        text_at(row, "aggregate_name") != "median")
      continue;
    const auto real_time = number_at(row, "real_time");
    if (!real_time) continue;
    std::string name = text_at(row, "run_name");
    if (name.empty()) {  // Google Benchmark always writes run_name; tolerate its absence
      name = text_at(row, "name");
      if (name.size() > 7 && name.ends_with("_median")) name.resize(name.size() - 7);
    }
    const Repetitions& reps = repetitions[name];
    const double scale = ns_per_unit(row);
    json measures = json::object();

    const auto ci_low = number_at(row, "ci95_low"), ci_high = number_at(row, "ci95_high");
    const bool ci = ci_low && ci_high;
    measures["latency"] = ci ? metric(*real_time * scale, *ci_low * scale, *ci_high * scale)
                             : metric(*real_time * scale, reps.real_time.low, reps.real_time.high);

    if (const auto items = number_at(row, "items_per_second")) {
      measures["throughput"] = ci && *ci_low > 0 && *ci_high > 0
                                   ? metric(*items, 1e9 / (*ci_high * scale), 1e9 / (*ci_low * scale))
                                   : metric(*items, reps.items.low, reps.items.high);
    }
    if (const auto p50 = latency_at(row, "p50")) measures["latency-p50"] = metric(*p50, reps.p50.low, reps.p50.high);
    if (const auto p99 = latency_at(row, "p99")) {
      const auto low = number_at(row, "p99_ci95_low"), high = number_at(row, "p99_ci95_high");
      measures["latency-p99"] = low && high ? metric(*p99, low, high) : metric(*p99, reps.p99.low, reps.p99.high);
    }
    if (const auto cpu = number_at(row, "cpu_time"))
      measures["cpu-time"] = metric(*cpu * scale, reps.cpu.low, reps.cpu.high);
    bmf[name] = std::move(measures);
  }
  return bmf;
}

}  // namespace ipcmark
