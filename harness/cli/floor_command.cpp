// harness/cli/floor_command.cpp — `ipcmark floor`: the machine's limits on the CPUs a run
// would use (harness/machine/floor.hpp), printed, and as JSON with --json.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/machine/affinity.hpp"
#include "harness/cli/subcommand.hpp"
#include "harness/machine/floor.hpp"
#include "harness/results/output_path.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

struct FloorFlags {
  std::vector<std::string> cpus;
  std::string json_path;
};

void print(const std::string& placement, CpuPair cpus, const Floor& f) {
  std::printf("placement %s (server CPU %d, client CPU %d)\n", placement.c_str(), cpus.server, cpus.client);
  if (f.cacheline_rtt_ns && f.cacheline_rtt_timed_ns) {
    std::printf("  cache-line round trip, busy-poll   %10.0f ns", *f.cacheline_rtt_ns);
    if (f.cacheline_rtt_fastest_line_ns && f.cacheline_rtt_slowest_line_ns)
      std::printf("    (median of lines; %.0f-%.0f ns)", *f.cacheline_rtt_fastest_line_ns, *f.cacheline_rtt_slowest_line_ns);
    std::printf("\n");
    std::printf("    timed one by one, as pingpong    %10.0f ns\n", *f.cacheline_rtt_timed_ns);
  } else
    std::printf("  cache-line round trip, busy-poll   %10s    (one CPU: no cache line moves)\n", "-");
  std::printf("  futex round trip, sleep and wake   %10.0f ns\n", f.futex_rtt_ns);
  std::printf("  memcpy, %7zu KiB buffers         %10.2f GB/s\n", f.l2_buffer_bytes >> 10, f.memcpy_l2_bytes_per_second / 1e9);
  std::printf("  memcpy, %7zu KiB buffers         %10.2f GB/s\n", f.dram_buffer_bytes >> 10,
              f.memcpy_dram_bytes_per_second / 1e9);
}

int run_floor(const FloorFlags& flags) {
  if (!flags.json_path.empty()) check_output_path("--json", flags.json_path);
  const std::vector<int> allowed = allowed_cpus();
  std::vector<std::string> texts = flags.cpus.empty() ? std::vector<std::string>{""} : flags.cpus;
  nlohmann::json out{{"timer_cost_ns", measure_timer_cost_ns()}, {"floor_by_placement", nlohmann::json::object()}};
  std::printf("clock_gettime(CLOCK_MONOTONIC)     %10.1f ns per call\n", out["timer_cost_ns"].get<double>());
  for (const std::string& text : texts) {
    const PinnedPlacement p = parse_placement(text, allowed);
    const std::string name(to_string(p.placement));
    const Floor f = measure_floor(p.cpus);
    print(name, p.cpus, f);
    out["floor_by_placement"][name] = to_json(f);
  }
  if (!flags.json_path.empty()) {
    std::ofstream file(flags.json_path);
    file << out.dump(2) << '\n';
    if (!file) throw UsageError("cannot write '" + flags.json_path + "'");
  }
  return 0;
}

}  // namespace

Subcommand add_floor_command(CLI::App& app) {
  auto flags = std::make_shared<FloorFlags>();
  CLI::App* sub = app.add_subcommand("floor", "Measure the machine's floor: cache-line and futex round trips, memcpy bandwidth");
  sub->add_option("--cpus", flags->cpus, "Placement(s) as for `run` (default: two distinct CPUs)");
  sub->add_option("--json", flags->json_path, "Also write the figures to this JSON file");
  return {sub, [flags] { return run_floor(*flags); }};
}

}  // namespace ipcmark
