#include "harness/results/writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "harness/machine/floor_clusters.hpp"
#include "harness/results/output_path.hpp"
#include "harness/run/floor_choice.hpp"
#include "harness/measure/stats.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {

using nlohmann::json;

namespace {

json identity(const RunSpec& spec) {
  json id{{"transport", spec.transport->name},
          {"pattern", to_string(spec.pattern)},
          {"message_size", spec.message_size},
          {"wait", to_string(spec.wait)},
          {"copy", spec.zero_copy ? "zero" : "copy"},
          {"placement", to_string(spec.placement.placement)},
          {"cpus", {{"server", spec.placement.cpus.server}, {"client", spec.placement.cpus.client}}}};
  if (spec.rate != 0) id["target_rate"] = spec.rate;
  if (spec.pattern == Pattern::Fanout) id["readers"] = spec.readers;
  id["timed_every"] = spec.timed_every();
  return id;
}

// The floor measured for this row's placement (context.floor_by_placement), or null.
const json& floor_for(const json& context, const RunSpec& spec) {
  static const json none;
  if (!context.contains("floor_by_placement")) return none;
  const json& by = context["floor_by_placement"];
  const auto it = by.find(std::string(to_string(spec.placement.placement)));
  return it == by.end() ? none : *it;
}

// A figure of the context's floor for this placement, when it is a positive number.
std::optional<double> floor_figure(const json& floor, const char* key) {
  if (!floor.is_object()) return std::nullopt;
  const json value = floor.value(key, json());
  if (!value.is_number() || value.get<double>() <= 0) return std::nullopt;
  return value.get<double>();
}

// This repetition over the floor that bounds its row (floor_choice.hpp): the median round trip over
// the cache-line or futex round trip taken around this very repetition (the run's floor for the
// placement when there is none), or a stream's time per message over the time memcpy takes to copy
// that message. Null for one-shot fetches or without a floor.
json x_floor(const RunResult& r, double p50_ns, const json& floor) {
  if (!r.ok()) return nullptr;
  const std::optional<RepetitionFloor>& mine = r.floor;
  switch (x_floor_of(r.spec)) {
    case FloorKind::None: return nullptr;
    case FloorKind::Memcpy: {
      const auto bytes_per_second = floor_figure(floor, "memcpy_l2_bytes_per_second");
      if (!bytes_per_second || r.ns_per_message() <= 0) return nullptr;
      return r.ns_per_message() / (double(r.spec.message_size) * 1e9 / *bytes_per_second);
    }
    case FloorKind::Cacheline:
    case FloorKind::Futex: {
      const bool cacheline = x_floor_of(r.spec) == FloorKind::Cacheline;
      std::optional<double> limit;
      if (mine) limit = cacheline ? around(mine->before.cacheline_rtt_ns, mine->after.cacheline_rtt_ns)
                                  : around(mine->before.futex_rtt_ns, mine->after.futex_rtt_ns);
      if (!limit) limit = floor_figure(floor, cacheline ? "cacheline_rtt_ns" : "futex_rtt_ns");
      if (!limit || *limit <= 0 || p50_ns <= 0) return nullptr;
      return p50_ns / *limit;
    }
  }
  return nullptr;
}

json before_after(const std::optional<double>& before, const std::optional<double>& after) {
  if (!before && !after) return nullptr;
  return {{"before", before ? json(*before) : json(nullptr)}, {"after", after ? json(*after) : json(nullptr)}};
}

// The repetition's own floor, whether it moved, and which cluster of the run's floors it fell in
// (context.floor_clusters, set at the run's end).
void add_repetition_floor(json& row, const RunResult& r, const json& context) {
  if (!r.floor) return;
  const RepetitionFloor& f = *r.floor;
  row["repetition_floor"] = {{"cacheline_rtt_ns", before_after(f.before.cacheline_rtt_ns, f.after.cacheline_rtt_ns)},
                             {"futex_rtt_ns", before_after(f.before.futex_rtt_ns, f.after.futex_rtt_ns)}};
  row["floor_moved"] = floor_moved(f);
  const std::string placement(to_string(r.spec.placement.placement));
  const std::optional<double> cacheline = around(f.before.cacheline_rtt_ns, f.after.cacheline_rtt_ns);
  if (cacheline && context.contains("floor_clusters") && context["floor_clusters"].contains(placement))
    row["floor_cluster"] = cluster_label(context["floor_clusters"][placement], *cacheline);
}

// Stream bytes/s over single-thread memcpy of an L2-sized buffer: the copy ceiling.
json x_memcpy(const RunSpec& spec, double bytes_per_second, const json& floor) {
  if (floor.is_null() || spec.pattern != Pattern::Stream) return nullptr;
  const json limit = floor.value("memcpy_l2_bytes_per_second", json());
  if (!limit.is_number() || limit.get<double>() <= 0) return nullptr;
  return bytes_per_second / limit.get<double>();
}

// Google Benchmark's four aggregates of one figure over the repetitions.
double aggregate_of(const std::string& aggregate, const std::vector<double>& v) {
  if (aggregate == "mean") return mean(v);
  if (aggregate == "median") return median(v);
  if (aggregate == "stddev") return sample_stddev(v);
  return mean(v) != 0.0 ? sample_stddev(v) / mean(v) : 0.0;  // cv
}

double per_message(std::uint64_t total, std::uint64_t messages) {
  return messages ? double(total) / double(messages) : 0.0;
}

}  // namespace

json iteration_row(const RunResult& r, const json& floor, const json& context) {
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
  row["cpu_ns_per_message"] = {{"server", per_message(r.server_cpu_ns, r.messages)},
                                {"client", per_message(r.client_cpu_ns, r.messages)}};
  row["context_switches_per_message"] = {{"server", per_message(r.server_context_switches, r.messages)},
                                          {"client", per_message(r.client_context_switches, r.messages)}};
  if (r.spec.pattern == Pattern::Fanout) {
    // Per message sent for the writer; per message received for the average reader.
    row["cpu_ns_per_message"] = {{"server", per_message(r.server_cpu_ns, r.spec.messages)},
                                  {"client", per_message(r.client_cpu_ns, r.messages)}};
    row["worst_reader_latency_ns"] = {{"p50", r.worst_reader_p50_ns}, {"p99", r.worst_reader_p99_ns}};
    row["readers_lost"] = r.readers_lost;
  }
  if (r.spec.rate != 0) {
    row["achieved_rate"] = r.achieved_rate;
    row["pacing_ns_per_message"] = per_message(r.pacing_ns, r.messages);
  }
  row["x_floor_of"] = to_string(x_floor_of(r.spec));
  row["x_floor"] = x_floor(r, double(lat.p50), floor);
  add_repetition_floor(row, r, context);
  row["x_memcpy"] = r.ok() ? x_memcpy(r.spec, r.bytes_per_second(), floor) : json(nullptr);
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

std::vector<json> aggregate_rows(const std::vector<RunResult>& results, const json& context) {
  // In scenario order: iteration rows are in the (shuffled) order they ran, aggregates not.
  std::vector<std::pair<int, std::string>> order;
  std::map<std::string, std::vector<const RunResult*>> by_name;
  for (const RunResult& r : results) {
    const std::string name = r.spec.name();
    if (!by_name.contains(name)) order.emplace_back(r.spec.index, name);
    auto& group = by_name[name];
    if (r.ok()) group.push_back(&r);
  }
  std::sort(order.begin(), order.end());
  struct Metric {
    const char* key;
    double (RunResult::*get)() const;
  };
  static const Metric metrics[] = {{"real_time", &RunResult::ns_per_message},
                                   {"cpu_time", &RunResult::cpu_ns_per_message},
                                   {"bytes_per_second", &RunResult::bytes_per_second},
                                   {"items_per_second", &RunResult::messages_per_second}};

  std::vector<json> rows;
  for (const auto& [index, name] : order) {
    const auto& group = by_name[name];
    if (group.empty()) continue;
    const RunSpec& spec = group.front()->spec;
    const json& floor = floor_for(context, spec);
    // x_floor per repetition (each over its own floor), aggregated like the other figures.
    std::vector<double> x_floors;
    int with_floor = 0, moved = 0;
    for (const RunResult* r : group) {
      if (const json x = x_floor(*r, double(summarize(r->latency).p50), floor); x.is_number())
        x_floors.push_back(x.get<double>());
      with_floor += r->floor ? 1 : 0;
      moved += r->floor && floor_moved(*r->floor) ? 1 : 0;
    }
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
        row[m.key] = aggregate_of(aggregate, v);
      }
      row["x_floor_of"] = to_string(x_floor_of(spec));
      row["x_floor"] = x_floors.empty() ? json(nullptr) : json(aggregate_of(aggregate, x_floors));
      if (with_floor > 0) row["floor_moved_repetitions"] = moved;
      if (context.contains("repetitions_auto") && context["repetitions_auto"]["configurations"].contains(name))
        row["repetitions_auto"] = context["repetitions_auto"]["configurations"][name];
      if (std::string(aggregate) == "median") {
        // The latency percentiles of the median repetition, for tables and plots.
        std::vector<double> p50s, p99s, times;
        for (const RunResult* r : group) {
          const LatencySummary lat = summarize(r->latency);
          p50s.push_back(double(lat.p50));
          p99s.push_back(double(lat.p99));
          times.push_back(r->ns_per_message());
        }
        const double med = median(p50s);
        const RunResult* closest = group.front();
        for (const RunResult* r : group)
          if (std::abs(double(summarize(r->latency).p50) - med) < std::abs(double(summarize(closest->latency).p50) - med))
            closest = r;
        const json closest_row = iteration_row(*closest, floor);
        row["latency_ns"] = closest_row["latency_ns"];
        for (const char* key : {"worst_reader_latency_ns", "readers_lost", "lost"})
          if (closest_row.contains(key)) row[key] = closest_row[key];
        row["x_memcpy"] = x_memcpy(spec, row["bytes_per_second"].get<double>(), floor);
        const Interval time_ci = bootstrap_ci95(times, [](const std::vector<double>& v) { return median(v); });
        const Interval p99_ci = bootstrap_ci95(p99s, [](const std::vector<double>& v) { return median(v); });
        row["ci95_low"] = time_ci.low;
        row["ci95_high"] = time_ci.high;
        row["p99_ci95_low"] = p99_ci.low;
        row["p99_ci95_high"] = p99_ci.high;
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

json results_document(const json& context, const std::vector<RunResult>& results) {
  // Outlier flags compare each repetition with the others of its name.
  std::map<std::string, std::vector<std::size_t>> by_name;
  for (std::size_t i = 0; i < results.size(); ++i)
    if (results[i].ok()) by_name[results[i].spec.name()].push_back(i);
  std::vector<Outlier> outlier(results.size(), Outlier::None);
  for (const auto& [name, indices] : by_name) {
    std::vector<double> times;
    for (std::size_t i : indices) times.push_back(results[i].ns_per_message());
    const std::vector<Outlier> flags = tukey_outliers(times);
    for (std::size_t k = 0; k < indices.size(); ++k) outlier[indices[k]] = flags[k];
  }

  json benchmarks = json::array();
  for (std::size_t i = 0; i < results.size(); ++i) {
    json row = iteration_row(results[i], floor_for(context, results[i].spec), context);
    row["outlier"] = to_string(outlier[i]);
    benchmarks.push_back(std::move(row));
  }
  for (json& row : aggregate_rows(results, context)) benchmarks.push_back(std::move(row));
  return {{"context", context}, {"benchmarks", std::move(benchmarks)}};
}

void write_results_file(const std::string& path, const json& document) {
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const std::string temporary = temporary_beside(path);
  auto fail = [&](const std::string& why) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);  // never left beside the results
    throw UsageError("cannot write results to '" + path + "': " + why);
  };
  {
    // The context pretty-printed, then one row per line: readable, greppable, a third of
    // the size of indenting every histogram bucket.
    std::ofstream out(temporary);
    out << "{\n\"context\": " << document.at("context").dump(2) << ",\n\"benchmarks\": [";
    const json& rows = document.at("benchmarks");
    for (std::size_t i = 0; i < rows.size(); ++i) out << (i ? ",\n" : "\n") << rows[i].dump();
    out << "\n]\n}\n";
    out.flush();
    if (!out) fail(std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, target, ec);
  if (ec) fail(ec.message());
}

}  // namespace ipcmark
