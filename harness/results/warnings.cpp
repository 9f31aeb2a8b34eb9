#include "harness/results/warnings.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "harness/measure/stats.hpp"

namespace ipcmark {
namespace {

constexpr double kNoisyCv = 0.05;
constexpr double kSlowTimerNs = 100;
constexpr double kMissedRate = 0.95;  // of the target

std::string format(const char* fmt, double a, double b = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

}  // namespace

std::vector<std::string> environment_warnings(const nlohmann::json& c, int allowed_cpu_count) {
  std::vector<std::string> w;
  if (c.value("library_build_type", "") == "debug")
    w.push_back("ipcmark was built without optimisation (debug): figures are not representative");
  if (c.value("cpu_scaling_enabled", false))
    w.push_back("CPU frequency scaling is enabled (governor '" +
                c["topology"].value("governor", nlohmann::json("")).get<std::string>() +
                "'): figures may vary with the clock; set the performance governor");
  if (allowed_cpu_count < 2)
    w.push_back("only " + std::to_string(allowed_cpu_count) +
                " CPU is available for two peers: they share it, and spinning waits are slow");
  if (c.contains("load_avg") && c["load_avg"].is_array() && !c["load_avg"].empty()) {
    const double load = c["load_avg"][0].get<double>();
    const double cpus = c.value("num_cpus", 1);
    if (load > 0.5 * cpus) w.push_back(format("load average %.2f on %.0f CPUs: other work competes with the peers", load, cpus));
  }
  const std::string clocksource = c.value("clocksource", "");
  if (!clocksource.empty() && clocksource != "tsc")
    w.push_back("clocksource is '" + clocksource + "', not tsc: clock_gettime may be a system call and timestamps cost more");
  if (c.contains("timer_cost_ns") && c["timer_cost_ns"].get<double>() > kSlowTimerNs)
    w.push_back(format("reading the clock costs %.0f ns (more than %.0f): short latencies are inflated",
                       c["timer_cost_ns"].get<double>(), kSlowTimerNs));
  return w;
}

std::vector<std::string> result_warnings(const std::vector<RunResult>& results) {
  std::vector<std::string> w;
  std::map<std::string, std::vector<const RunResult*>> by_name;
  std::vector<std::string> order;
  for (const RunResult& r : results) {
    if (!r.ok()) continue;
    if (!by_name.contains(r.spec.name())) order.push_back(r.spec.name());
    by_name[r.spec.name()].push_back(&r);
  }
  std::vector<std::pair<double, std::string>> noisy;  // cv, name
  for (const std::string& name : order) {
    std::vector<double> times;
    for (const RunResult* r : by_name[name]) times.push_back(r->ns_per_message());
    const double m = mean(times);
    if (times.size() >= 2 && m > 0 && sample_stddev(times) / m > kNoisyCv) noisy.emplace_back(sample_stddev(times) / m, name);
    const RunSpec& spec = by_name[name].front()->spec;
    if (spec.rate != 0) {
      std::vector<double> achieved;
      for (const RunResult* r : by_name[name]) achieved.push_back(r->achieved_rate);
      const double got = median(achieved);
      if (got < kMissedRate * double(spec.rate))
        w.push_back(name + format(": open-loop rate not achieved (%.0f of %.0f messages/s)", got, double(spec.rate)));
    }
  }
  if (!noisy.empty()) {  // one line, the worst named: a noisy machine makes many
    std::sort(noisy.rbegin(), noisy.rend());
    std::string line = format("noisy repetitions (cv of real_time above %.0f%%) in %.0f of ", 100 * kNoisyCv,
                              double(noisy.size())) +
                       std::to_string(order.size()) + " configurations; worst:";
    for (std::size_t i = 0; i < noisy.size() && i < 3; ++i)
      line += (i ? ", " : " ") + noisy[i].second + format(" %.1f%%", 100 * noisy[i].first);
    w.insert(w.begin(), line);
  }
  return w;
}

}  // namespace ipcmark
