#include "harness/results/context.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "harness/machine/environment.hpp"
#include "harness/machine/floor.hpp"
#include "harness/machine/floor_clusters.hpp"
#include "harness/machine/floor_drift.hpp"
#include "harness/machine/repetition_floor.hpp"
#include "harness/measure/stats.hpp"
#include "harness/run/spawn.hpp"
#include "harness/results/writer.hpp"
#include "harness/results/warnings.hpp"
#include "ipcmark_version.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// "key : value" from /proc/cpuinfo's first processor.
std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
  }
  return "";
}

json caches() {
  json out = json::array();
  for (int i = 0;; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    const std::string type = read_first_line(dir + "type");
    if (type.empty()) break;
    const std::string shared = read_first_line(dir + "shared_cpu_list");
    out.push_back({{"type", type == "Unified" ? "Unified" : type},
                   {"level", std::atoi(read_first_line(dir + "level").c_str())},
                   {"size", parse_cache_size(read_first_line(dir + "size"))},
                   {"num_sharing", shared.empty() ? 1 : count_cpu_list(shared)}});
  }
  return out;
}

std::string iso8601_now() {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&t));
  std::string s = buf;  // +0000 → +00:00, as Google Benchmark writes it
  if (s.size() > 2) s.insert(s.size() - 2, ":");
  return s;
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

json machine_context() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  utsname uts{};
  ::uname(&uts);
  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  const std::string governor = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  const std::string mhz = cpuinfo_field("cpu MHz");
  const Environment environment = read_environment();
  const ShmSpace shm = shm_space();

  return {
      {"date", iso8601_now()},
      {"host_name", host},
      {"executable", self_executable()},
      {"num_cpus", ::sysconf(_SC_NPROCESSORS_ONLN)},
      {"mhz_per_cpu", mhz.empty() ? 0 : static_cast<long>(std::atof(mhz.c_str()))},
      // No cpufreq (common on VMs) means the host controls frequency: reported as not scaling.
      {"cpu_scaling_enabled", !governor.empty() && governor != "performance"},
      {"caches", caches()},
      {"load_avg", {load[0], load[1], load[2]}},
#ifdef NDEBUG
      {"library_build_type", "release"},
#else
      {"library_build_type", "debug"},
#endif
      {"ipcmark_version", IPCMARK_VERSION},
      {"git_commit", IPCMARK_GIT_COMMIT},
      {"kernel", std::string(uts.sysname) + " " + uts.release},
      {"cpu_model", cpuinfo_field("model name")},
      {"clocksource", read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource")},
      {"json_schema_version", kJsonSchemaVersion},
      {"topology", to_json(environment)},
      {"dev_shm", {{"size_bytes", shm.total_bytes}, {"free_bytes", shm.free_bytes}}},
      {"compiler", compiler()},
  };
}

// Where each placement's floor is sampled again: the CPUs of its first run.
std::map<std::string, CpuPair> placement_cpus(std::span<const RunSpec> specs) {
  std::map<std::string, CpuPair> cpus;
  for (const RunSpec& spec : specs) cpus.emplace(to_string(spec.placement.placement), spec.placement.cpus);
  return cpus;
}

// The floor of every placement the runs use, measured on the CPUs of its first run (ipcmark floor).
json measure_floors(std::span<const RunSpec> specs, std::vector<std::string>& warnings) {
  json by_placement = json::object();
  for (const RunSpec& spec : specs) {
    const std::string key(to_string(spec.placement.placement));
    if (by_placement.contains(key)) continue;
    try {
      by_placement[key] = to_json(measure_floor(spec.placement.cpus));
    } catch (const std::exception& e) {
      by_placement[key] = nullptr;
      warnings.push_back("the floor of placement " + key + " could not be measured: " + e.what());
    }
  }
  return by_placement;
}

// The floor of the first placement (cross by default), where tools look for one.
void copy_first_floor(json& context, std::span<const RunSpec> specs) {
  context["floor"] = context["floor_by_placement"][std::string(to_string(specs.front().placement.placement))];
}

// {median, low, high, samples} of some round trips, or null when there are none.
json spread(const std::vector<double>& samples) {
  if (samples.empty()) return nullptr;
  const auto [low, high] = std::minmax_element(samples.begin(), samples.end());
  return {{"median", median(samples)}, {"low", *low}, {"high", *high}, {"samples", samples.size()}};
}

// Per placement, the floors taken around its repetitions: every before and after sample's median
// and range (what the report's header prints, figure and range from the same samples), how many
// repetitions moved, and the clusters their cache-line round trips fall in, when they split.
void summarize_repetition_floors(json& context, const std::vector<RunResult>& results) {
  struct Samples {
    std::vector<double> cacheline, futex, per_repetition;
    int repetitions = 0, moved = 0;
    double seconds = 0;
  };
  std::map<std::string, Samples> by_placement;
  for (const RunResult& r : results) {
    if (!r.floor) continue;
    Samples& s = by_placement[std::string(to_string(r.spec.placement.placement))];
    for (const FloorSample* f : {&r.floor->before, &r.floor->after}) {
      if (f->cacheline_rtt_ns) s.cacheline.push_back(*f->cacheline_rtt_ns);
      if (f->futex_rtt_ns) s.futex.push_back(*f->futex_rtt_ns);
    }
    if (const auto rtt = around(r.floor->before.cacheline_rtt_ns, r.floor->after.cacheline_rtt_ns))
      s.per_repetition.push_back(*rtt);
    ++s.repetitions;
    s.moved += floor_moved(*r.floor) ? 1 : 0;
    s.seconds += r.floor->seconds;
  }
  if (by_placement.empty()) return;
  json summary = json::object(), clusters = json::object();
  for (const auto& [placement, s] : by_placement) {
    summary[placement] = {{"cacheline_rtt_ns", spread(s.cacheline)},
                          {"futex_rtt_ns", spread(s.futex)},
                          {"repetitions", s.repetitions},
                          {"moved", s.moved},
                          {"seconds", s.seconds}};
    if (const auto split = cluster_floors(s.per_repetition)) clusters[placement] = to_json(*split);
  }
  context["repetition_floors"] = summary;
  context["floor_moved_ratio"] = kFloorMovedRatio;
  if (!clusters.empty()) context["floor_clusters"] = clusters;
}

}  // namespace

json run_context(const RunFacts& run) {
  json context = machine_context();
  context["scenario"] = run.scenario;
  const CpuPair first = run.specs.front().placement.cpus;
  context["pinning"] = {{"server", first.server}, {"client", first.client}};
  json placements = json::object();
  for (const RunSpec& spec : run.specs)
    placements[std::string(to_string(spec.placement.placement))] = {{"server", spec.placement.cpus.server},
                                                                      {"client", spec.placement.cpus.client}};
  context["placements"] = placements;
  context["interleave"] = run.interleave;
  context["shuffle_seed"] = run.shuffle_seed;
  context["timer_cost_ns"] = measure_timer_cost_ns();
  std::vector<std::string> floor_warnings;
  if (run.measure_floor) {
    context["floor_by_placement"] = measure_floors(run.specs, floor_warnings);
    copy_first_floor(context, run.specs);
  }
  std::vector<std::string> warnings = environment_warnings(context, run.allowed_cpu_count);
  warnings.insert(warnings.end(), run.warnings.begin(), run.warnings.end());
  warnings.insert(warnings.end(), floor_warnings.begin(), floor_warnings.end());
  context["warnings"] = warnings;
  return context;
}

void sample_floors(json& context, std::span<const RunSpec> specs) {
  if (context.contains("floor_by_placement"))
    sample_cacheline_floor(context["floor_by_placement"], placement_cpus(specs));
}

void record_auto_repetitions(json& context, const AutoRepetitions& aim, std::vector<RunResult>& results) {
  const std::map<std::string, AutoOutcome> outcomes = auto_outcomes(results, aim.half_width);
  json configurations = json::object();
  for (const auto& [name, o] : outcomes)
    configurations[name] = {{"repetitions", o.repetitions}, {"reached", o.reached}, {"ci95_half_width", o.half_width}};
  context["repetitions_auto"] = {{"ci95_half_width", aim.half_width},
                                 {"time_budget_s", aim.budget.count()},
                                 {"most", aim.most},
                                 {"configurations", configurations}};
  std::map<std::string, int> ran;
  for (const RunResult& r : results) ++ran[r.spec.name()];
  for (RunResult& r : results) r.spec.repetitions = ran[r.spec.name()];
}

void finish_context(json& context, std::span<const RunSpec> specs, const std::vector<RunResult>& results,
                    bool interrupted) {
  if (context.contains("floor_by_placement") && !interrupted) {
    sample_floors(context, specs);
    for (const std::string& w : settle_cacheline_floor(context["floor_by_placement"])) context["warnings"].push_back(w);
    copy_first_floor(context, specs);
  }
  summarize_repetition_floors(context, results);
  for (const std::string& w : result_warnings(results)) context["warnings"].push_back(w);
}

}  // namespace ipcmark
