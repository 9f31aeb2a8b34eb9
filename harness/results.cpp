#include "harness/results.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "harness/stats.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {

using nlohmann::json;

namespace {

// Real time per iteration: ns per message (stream), per round trip (pingpong), per fetch (oneshot).
json identity(const RunSpec& spec) {
  return {{"transport", spec.transport->name},
          {"pattern", to_string(spec.pattern)},
          {"message_size", spec.message_size},
          {"wait", to_string(spec.wait)}};
}

}  // namespace

json iteration_row(const RunResult& r) {
  const std::string name = r.spec.name();
  const LatencySummary lat = summarize(r.latency);
  json row{
      {"name", name},
      {"run_name", name},
      {"run_type", "iteration"},
      {"repetitions", r.spec.repetitions},
      {"repetition_index", r.repetition_index},
      {"threads", 1},
      {"iterations", r.messages},
      {"real_time", r.ns_per_message()},
      {"cpu_time", r.cpu_ns_per_message()},
      {"time_unit", "ns"},
      {"bytes_per_second", r.bytes_per_second()},
      {"items_per_second", r.messages_per_second()},
  };
  row.update(identity(r.spec));
  row["latency_ns"] = {{"min", lat.min}, {"p50", lat.p50}, {"p90", lat.p90}, {"p99", lat.p99},
                       {"p999", lat.p999}, {"p9999", lat.p9999}, {"max", lat.max}, {"mean", lat.mean}};
  row["cpu_ns_per_message"] = {
      {"server", r.messages ? double(r.server_cpu_ns) / double(r.messages) : 0.0},
      {"client", r.messages ? double(r.client_cpu_ns) / double(r.messages) : 0.0}};
  row["context_switches_per_message"] = {
      {"server", r.messages ? double(r.server_context_switches) / double(r.messages) : 0.0},
      {"client", r.messages ? double(r.client_context_switches) / double(r.messages) : 0.0}};
  row["lost"] = r.lost;
  row["reordered"] = r.reordered;
  row["corrupted"] = r.corrupted;
  row["error"] = r.ok() ? json(nullptr) : json(r.error);
  if (!r.ok()) {  // Google Benchmark's own way of saying a run failed
    row["error_occurred"] = true;
    row["error_message"] = r.error;
  }
  if (r.ok()) row["histogram"] = r.latency.to_json();
  return row;
}

std::vector<json> aggregate_rows(const std::vector<RunResult>& results) {
  // Names in first-seen order, so aggregates follow the order of the runs.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const RunResult*>> by_name;
  for (const RunResult& r : results) {
    const std::string name = r.spec.name();
    if (!by_name.contains(name)) order.push_back(name);
    auto& group = by_name[name];
    if (r.ok()) group.push_back(&r);
  }
  struct Metric {
    const char* key;
    double (RunResult::*get)() const;
  };
  static const Metric metrics[] = {{"real_time", &RunResult::ns_per_message},
                                   {"cpu_time", &RunResult::cpu_ns_per_message},
                                   {"bytes_per_second", &RunResult::bytes_per_second},
                                   {"items_per_second", &RunResult::messages_per_second}};

  std::vector<json> rows;
  for (const std::string& name : order) {
    const auto& group = by_name[name];
    if (group.empty()) continue;
    const RunSpec& spec = group.front()->spec;
    for (const char* aggregate : {"mean", "median", "stddev", "cv"}) {
      json row{{"name", name + "_" + aggregate},
               {"run_name", name},
               {"run_type", "aggregate"},
               {"repetitions", spec.repetitions},
               {"threads", 1},
               {"aggregate_name", aggregate},
               {"aggregate_unit", std::string(aggregate) == "cv" ? "percentage" : "time"},
               {"iterations", group.size()},
               {"time_unit", "ns"}};
      row.update(identity(spec));
      for (const Metric& m : metrics) {
        std::vector<double> v;
        for (const RunResult* r : group) v.push_back((r->*m.get)());
        const std::string a = aggregate;
        double value = a == "mean" ? mean(v) : a == "median" ? median(v) : sample_stddev(v);
        if (a == "cv") value = mean(v) != 0.0 ? sample_stddev(v) / mean(v) : 0.0;
        row[m.key] = value;
      }
      if (std::string(aggregate) == "median") {
        // The latency percentiles of the median repetition, for tables and plots.
        std::vector<double> p50s;
        for (const RunResult* r : group) p50s.push_back(double(summarize(r->latency).p50));
        const double med = median(p50s);
        const RunResult* closest = group.front();
        for (const RunResult* r : group)
          if (std::abs(double(summarize(r->latency).p50) - med) < std::abs(double(summarize(closest->latency).p50) - med))
            closest = r;
        row["latency_ns"] = iteration_row(*closest)["latency_ns"];
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

json results_document(const json& context, const std::vector<RunResult>& results) {
  json benchmarks = json::array();
  for (const RunResult& r : results) benchmarks.push_back(iteration_row(r));
  for (json& row : aggregate_rows(results)) benchmarks.push_back(std::move(row));
  return {{"context", context}, {"benchmarks", std::move(benchmarks)}};
}

void write_results_file(const std::string& path, const json& document) {
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary);
    out << document.dump(2) << '\n';
    if (!out) throw UsageError("cannot write results file '" + path + "'");
  }
  std::filesystem::rename(temporary, target);
}

}  // namespace ipcmark
