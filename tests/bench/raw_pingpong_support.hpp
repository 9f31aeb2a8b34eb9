// tests/bench/raw_pingpong_support.hpp — what the raw ping-pong benchmarks share: the CPUs they
// pin to (--cpus=A,B or the first two allowed), the clock, pinning, and percentiles.
#pragma once

#include <benchmark/benchmark.h>
#include <dirent.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace raw_bench {

inline int g_first_cpu = -1, g_second_cpu = -1;  // from --cpus or sched_getaffinity

enum class Placement { Cross, Same };

inline constexpr int kWarmupRoundTrips = 20;  // untimed: page faults, first wake-ups

inline std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline bool pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

// Sets the affinity of every thread of this process to `set`: for libraries that run their I/O in
// threads of their own (nng), started once and kept across benchmark cases, which a pin of the
// calling thread alone would leave where the first case put them.
inline bool set_process_affinity(const cpu_set_t& set) {
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return false;
  bool ok = true;
  while (const dirent* entry = readdir(tasks)) {
    const int tid = std::atoi(entry->d_name);
    if (tid > 0 && sched_setaffinity(tid, sizeof set, &set) != 0) ok = false;
  }
  closedir(tasks);
  return ok;
}

inline bool pin_process(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return set_process_affinity(set);
}

enum class Pinning { ThisThread, WholeProcess };

inline std::uint64_t percentile(std::vector<std::uint64_t>& samples, double p) {
  if (samples.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank), samples.end());
  return samples[rank];
}

// Items processed (round trips) and the counters p50_ns / p99_ns of the per-round-trip samples.
inline void report_round_trips(benchmark::State& state, std::vector<std::uint64_t>& samples) {
  state.SetItemsProcessed(state.iterations());
  state.counters["p50_ns"] = static_cast<double>(percentile(samples, 50));
  state.counters["p99_ns"] = static_cast<double>(percentile(samples, 99));
}

// --cpus=A,B overrides the first two CPUs of the affinity mask. Returns false on a bad value.
inline bool choose_cpus(int& argc, char** argv, const char* program) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--cpus=", 7) != 0) continue;
    // Two non-negative integers and nothing else: "A,B".
    const char* text = argv[i] + 7;
    char* end = nullptr;
    const long a = std::strtol(text, &end, 10);
    const bool first_ok = end != text && *end == ',';
    const char* second = first_ok ? end + 1 : end;
    const long b = first_ok ? std::strtol(second, &end, 10) : -1;
    if (!first_ok || end == second || *end != '\0' || a < 0 || b < 0 || a >= CPU_SETSIZE || b >= CPU_SETSIZE) {
      std::fprintf(stderr, "%s: error: %s: expected --cpus=A,B with two CPU numbers\n", program, argv[i]);
      return false;
    }
    g_first_cpu = static_cast<int>(a), g_second_cpu = static_cast<int>(b);
    std::copy(argv + i + 1, argv + argc, argv + i);
    --argc;
    return true;
  }
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return true;  // every benchmark then skips
  for (int cpu = 0; cpu < CPU_SETSIZE && g_second_cpu < 0; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    (g_first_cpu < 0 ? g_first_cpu : g_second_cpu) = cpu;
  }
  return true;
}

// One benchmark: pins this (timing) process, makes an echo pair with `make_echo(child_cpu,
// message)` (an object with error() and round_trip(message)), warms up, then times every round
// trip on its own (one CLOCK_MONOTONIC read each) for the p50_ns/p99_ns counters.
template <class MakeEcho>
void time_round_trips(benchmark::State& state, std::size_t size, Placement placement, MakeEcho&& make_echo,
                      Pinning pinning = Pinning::ThisThread) {
  const bool whole = pinning == Pinning::WholeProcess;
  const int parent_cpu = placement == Placement::Cross ? g_second_cpu : g_first_cpu;
  cpu_set_t original;
  sched_getaffinity(0, sizeof original, &original);
  std::vector<char> message(size, 'x');
  std::vector<std::uint64_t> samples;
  samples.reserve(static_cast<std::size_t>(std::min<benchmark::IterationCount>(state.max_iterations, 1 << 24)));
  if (parent_cpu < 0) {
    state.SkipWithError("needs two allowed CPUs (see --cpus=A,B)");
  } else if (!(whole ? pin_process(parent_cpu) : pin(parent_cpu))) {
    state.SkipWithError(("cannot pin to CPU " + std::to_string(parent_cpu)).c_str());
  } else {
    auto echo = make_echo(g_first_cpu, message);
    bool ok = echo->error() == nullptr;
    for (int i = 0; ok && i < kWarmupRoundTrips; ++i) ok = echo->round_trip(message);
    if (!ok) state.SkipWithError(echo->error() ? echo->error() : "the echo child failed (could it pin itself?)");
    // Consecutive clock reads: the samples add up to the whole loop, the first one includes the
    // timer's start.
    std::uint64_t before = now_ns();
    for (auto _ : state) {
      if (!ok || !echo->round_trip(message)) {
        if (ok) state.SkipWithError("the echo child failed");
        break;
      }
      const std::uint64_t after = now_ns();
      samples.push_back(after - before);
      before = after;
    }
  }
  if (whole) set_process_affinity(original);
  else sched_setaffinity(0, sizeof original, &original);
  report_round_trips(state, samples);
}

// Registers bench(state, size, placement) as <prefix>/<bytes>/<placement> (the names of ipcmark's
// rows) at 64 B, 4 KiB and 64 KiB, cross and same, timed in real time.
template <class Bench>
void register_sizes_and_placements(const std::string& prefix, Bench bench, benchmark::TimeUnit unit) {
  for (const std::size_t size : {64, 4096, 65536}) {
    for (const auto& [placement, placement_name] : {std::pair{Placement::Cross, "cross"}, {Placement::Same, "same"}}) {
      const std::string name = prefix + "/" + std::to_string(size) + "/" + placement_name;
      benchmark::RegisterBenchmark(name.c_str(), bench, size, placement)->UseRealTime()->Unit(unit);
    }
  }
}

// Google Benchmark's main after registering: records the CPUs under `cpus_key` in the context.
// Returns main's exit status (2 for an unknown flag).
inline int run_registered(int& argc, char** argv, const char* cpus_key) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext(cpus_key, std::to_string(g_first_cpu) + "," + std::to_string(g_second_cpu));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace raw_bench
