#include "harness/machine/repetition_floor.hpp"

#include <algorithm>
#include <exception>

#include "harness/machine/floor.hpp"

namespace ipcmark {
namespace {

// On a quiet machine a sample's 16 lines spread 1.5x at most (225-351 ns by address alone).
constexpr double kDisturbedSpread = 3.0;

bool disagree(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b || *a <= 0 || *b <= 0) return false;
  return std::max(*a, *b) > kFloorMovedRatio * std::min(*a, *b);
}

}  // namespace

FloorSample sample_repetition_floor(CpuPair cpus, bool with_futex) {
  FloorSample sample;
  // A floor that cannot be taken (a loaded machine overrunning the budget) leaves the repetition
  // with fewer figures, never fails it: the repetition itself is what was asked for.
  try {
    // Lines whose round trips differ by more than kDisturbedSpread were not all measured alike
    // (the partner was descheduled during some): such a sample says nothing about placement.
    if (const auto rtt = measure_cacheline_rtt(cpus, kShortFloor);
        rtt && rtt->slowest_line_ns <= kDisturbedSpread * rtt->fastest_line_ns)
      sample.cacheline_rtt_ns = rtt->batched_ns;
  } catch (const std::exception&) {
  }
  if (with_futex) try {
      sample.futex_rtt_ns = measure_futex_rtt_ns(cpus, kShortFloor);
    } catch (const std::exception&) {
    }
  return sample;
}

std::optional<double> around(const std::optional<double>& before, const std::optional<double>& after) {
  if (before && after) return (*before + *after) / 2;
  return before ? before : after;
}

bool floor_moved(const RepetitionFloor& f) { return disagree(f.before.cacheline_rtt_ns, f.after.cacheline_rtt_ns); }

}  // namespace ipcmark
