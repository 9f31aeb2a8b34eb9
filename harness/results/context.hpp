// harness/results/context.hpp — the `context` of a results file (results/README.md), assembled here and
// nowhere else: the machine, then what the run adds before its first repetition (scenario,
// placements, shuffle, timer cost, floors, warnings), then what only its end knows (the floor's
// later samples, the warnings the results raise).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/run/auto_repetitions.hpp"
#include "harness/run/run_result.hpp"

namespace ipcmark {

// What `ipcmark run` records about itself.
struct RunFacts {
  std::string scenario;               // the scenario's name
  std::span<const RunSpec> specs;     // every run: their placements and CPUs
  bool interleave = true;
  std::uint64_t shuffle_seed = 0;
  bool measure_floor = true;          // false with --no-floor
  int allowed_cpu_count = 0;          // CPUs the peers may use
  std::vector<std::string> warnings;  // found before (sizes skipped for a transport's limit)
};

// Before the runs: the machine (Google Benchmark's keys date, host_name, executable, num_cpus,
// mhz_per_cpu, cpu_scaling_enabled, caches, load_avg, library_build_type, plus ipcmark's), the
// run's facts, the timer cost and, unless measure_floor is false, the floor of every placement,
// measured now on its CPUs; then the warnings. A floor that cannot be measured is a warning
// and null, so its rows carry no x_floor.
nlohmann::json run_context(const RunFacts& run);

// Halfway through: each placement's cache-line floor sampled once more (floor_drift.hpp).
// Nothing without floors.
void sample_floors(nlohmann::json& context, std::span<const RunSpec> specs);

// After the runs of `--repetitions auto`: context.repetitions_auto, what it aimed at and how each
// configuration ended (auto_repetitions.hpp); and every result's spec.repetitions set to the
// repetitions its configuration got.
void record_auto_repetitions(nlohmann::json& context, const AutoRepetitions& aim, std::vector<RunResult>& results);

// After the runs: unless interrupted, a last floor sample and each floor settled to the median
// of its samples (a warning where they spread); then the warnings of the results (noisy
// repetitions, open-loop rates missed).
void finish_context(nlohmann::json& context, std::span<const RunSpec> specs, const std::vector<RunResult>& results,
                    bool interrupted);

}  // namespace ipcmark
