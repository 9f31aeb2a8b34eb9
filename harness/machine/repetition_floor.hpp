// harness/machine/repetition_floor.hpp — a short floor taken on a repetition's own two CPUs right
// before and right after it runs.
//
// On a VM the host moves the vCPUs while a suite runs: on this project's machine kind the
// cache-line round trip was 49 ns at the start of one suite (the two vCPUs on hyperthreads of one
// core), 117 ns in the middle and 95 ns at the end. A floor sampled a few times per run and
// applied to every row mixes repetitions that ran on siblings with ones that ran apart. So every
// repetition carries its own floor, and one whose before and after disagree by more than
// kFloorMovedRatio is flagged: the host moved the CPUs while it ran (it is kept, not dropped).
#pragma once

#include <optional>

#include "harness/machine/placement.hpp"

namespace ipcmark {

// Before and after disagreeing by more than this (larger over smaller) flags a repetition as
// moved. Two short samples on an unmoved placement agree within ~10% here; a move between
// siblings and two cores changes the cache-line round trip by 2×.
inline constexpr double kFloorMovedRatio = 1.3;

struct FloorSample {
  std::optional<double> cacheline_rtt_ns;  // none on one CPU or when it could not be measured
  std::optional<double> futex_rtt_ns;      // only when asked for, and when it could be measured
};

struct RepetitionFloor {
  FloorSample before, after;
  double seconds = 0;  // what taking them cost the suite (wall time; 0 for a before taken over)
  CpuPair cpus{};      // where they were taken
};

// The short floor (kShortFloor) on `cpus`: the cache-line round trip where the CPUs differ, and
// the futex round trip when `with_futex`. A measurement that fails leaves its figure empty.
FloorSample sample_repetition_floor(CpuPair cpus, bool with_futex);

// The mean of before and after (or the one that exists) of one figure; none when neither does.
std::optional<double> around(const std::optional<double>& before, const std::optional<double>& after);

// Whether the host moved the CPUs during the repetition: the cache-line round trips before and
// after differ by more than kFloorMovedRatio. False when either is missing, and so always on one
// CPU: there is no cache line between two CPUs to move, and the futex round trip there swings 10x
// with the machine's load (3.6-36 us in one loaded run) without any CPU moving.
bool floor_moved(const RepetitionFloor& floor);

}  // namespace ipcmark
