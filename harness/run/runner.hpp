// harness/run/runner.hpp — runs each RunSpec as a fresh server/client process pair.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "harness/run/auto_repetitions.hpp"
#include "harness/run/run_result.hpp"

namespace ipcmark {

struct RunOptions {
  bool interleave = true;  // see run_order
  std::uint64_t seed = 1;  // of the shuffle, recorded in the results' context
  bool fail_fast = false;  // stop at the first failed run
  bool repetition_floors = true;  // a short floor on each repetition's CPUs before and after it
  AutoRepetitions auto_repetitions;  // --repetitions auto: more rounds until each interval is narrow
};

// One repetition: spawns `ipcmark peer` twice (server, then client after "ready"), pinned
// as spec.placement says, bounded by spec.timeout; errors become RunResult::error, never
// exceptions. Every name the run created is removed and both children are reaped before
// it returns.
RunResult run_one(const RunSpec& spec, int repetition_index);

// run_one between two short floors on the repetition's own CPUs (RunResult::floor): the
// cache-line round trip, and the futex round trip where that is the row's floor (floor_choice.hpp).
// `previous`, the floor of the repetition run just before, gives its `after` as this one's
// `before` when it was taken on the same CPUs (and has the futex figure this row needs).
// Unpinned runs have no CPUs of their own to measure and get none.
RunResult run_one_with_floor(const RunSpec& spec, int repetition_index, const RepetitionFloor* previous = nullptr);

// The order of the runs. Interleaved: rounds of one repetition of every spec, each round
// shuffled, so drift over time (thermal, noisy neighbours) hits every configuration alike
// and no configuration always follows the same other one. Otherwise: spec by spec.
std::vector<std::pair<const RunSpec*, int>> run_order(const std::vector<RunSpec>& specs, bool interleave,
                                                      std::uint64_t seed);

// Runs every repetition in run_order. With auto_repetitions on, then adds shuffled rounds of the
// configurations whose interval is still too wide (auto_outcomes), until none is, one reaches
// `most` repetitions, or the budget is spent; `total` then grows as rounds are added. `on_result`
// sees each result as it arrives (to rewrite the results file, print progress). Stops early,
// returning what it has, once runs_interrupted() turns true, or after a failure with fail_fast.
std::vector<RunResult> run_all(const std::vector<RunSpec>& specs, const RunOptions& options,
                               const std::function<void(const RunResult&, std::size_t done, std::size_t total)>& on_result);

// Set by a SIGINT/SIGTERM handler of `ipcmark run`.
void interrupt_runs() noexcept;
bool runs_interrupted() noexcept;

}  // namespace ipcmark
