// harness/machine/floor.hpp — the machine's own limits, measured on the CPUs a run uses, so every
// result can be read as "how many times the physical limit" and compared across machines:
//
//  * cache-line round trip: two processes bounce a cache line through shared memory,
//    busy-polling (the best any shared-memory transport can do per round trip), for each of 16
//    lines at different addresses: a line's round trip depends on where the chip tracks it (see
//    kFloorLines in floor.cpp), so the floor is the median over the lines, with the fastest and
//    slowest beside it. Measured two ways in the same processes: in batches of 1,000 round trips
//    with one clock pair per batch (the line alone), and one round trip at a time between two
//    clock reads, as a pingpong row times each round trip (the line plus what timing one costs:
//    ordered clock reads);
//  * futex round trip: the same hand-off, but each side sleeps in FUTEX_WAIT and is woken
//    with FUTEX_WAKE (the best any blocking transport can do);
//  * single-thread memcpy bandwidth of an L2-sized and a DRAM-sized buffer (the best any
//    copying transport can move).
//
// Each measurement runs in forked, pinned child processes (the caller's own affinity is
// left alone) under a time budget; the whole floor costs well under two seconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "harness/machine/placement.hpp"

namespace ipcmark {

struct Floor {
  std::optional<double> cacheline_rtt_ns;  // none when both sides share one CPU
  std::optional<double> cacheline_rtt_timed_ns;  // the same, each round trip timed on its own
  std::optional<double> cacheline_rtt_fastest_line_ns, cacheline_rtt_slowest_line_ns;  // batched
  double futex_rtt_ns = 0;
  double memcpy_l2_bytes_per_second = 0;
  double memcpy_dram_bytes_per_second = 0;
  std::size_t l2_buffer_bytes = 0, dram_buffer_bytes = 0;
};

struct CachelineRtt {
  double batched_ns;  // median over the lines of each line's median batch of 1,000 round trips
  double timed_ns;    // median of round trips timed one by one with clock_gettime, all lines
  double fastest_line_ns, slowest_line_ns;  // batched, the extremes over the lines
};
// How many round trips a measurement makes. kFullFloor is the floor `ipcmark floor` and the run's
// context measure (about 0.4 s each); kShortFloor the one taken before and after every repetition
// (repetition_floor.hpp), short enough to add little to a suite.
struct FloorEffort {
  std::uint32_t cacheline_warmup, cacheline_batch, cacheline_batches, cacheline_timed;  // per line
  std::uint32_t futex_warmup, futex_round_trips;
  // The loops stop themselves after budget_ns (what is measured by then is the result); guard_ns
  // kills the two processes outright (a descheduled partner on a loaded machine): no result.
  std::uint64_t budget_ns, guard_ns;
};
inline constexpr FloorEffort kFullFloor{2'000, 1'000, 13, 1'250, 200, 2'000, 400'000'000, 24'000'000'000};
// About 1 ms of cache-line round trips and 2 ms of futex ones on this project's VMs (2-8 ms a
// sample with the forks, at load 4). The measuring side gives up at half the guard: on a machine
// so loaded that the partner is descheduled for whole time slices, a sample costs at most ~6 ms of
// measuring (and whatever forking and scheduling the two processes costs there: 30-60 ms at load 9).
inline constexpr FloorEffort kShortFloor{40, 100, 1, 0, 10, 50, 3'000'000, 12'000'000};

// Busy-poll ping-pong of cache lines, one line at a time. None when both sides are on one CPU:
// there a spinning peer only measures the scheduler. timed_ns is 0 when effort times none.
std::optional<CachelineRtt> measure_cacheline_rtt(CpuPair cpus, const FloorEffort& effort = kFullFloor);
// Sleep/wake ping-pong through two futex words; the median round trip.
double measure_futex_rtt_ns(CpuPair cpus, const FloorEffort& effort = kFullFloor);
// Best single-thread memcpy bandwidth over several trials; buffer = bytes per side.
double measure_memcpy_bytes_per_second(std::size_t bytes, int cpu);
// Cost of one clock_gettime(CLOCK_MONOTONIC) in this process.
double measure_timer_cost_ns();

Floor measure_floor(CpuPair cpus);
nlohmann::json to_json(const Floor& floor);

// The L2 cache size of `cpu` from sysfs (0 when unknown).
std::size_t l2_cache_bytes(int cpu);

}  // namespace ipcmark
