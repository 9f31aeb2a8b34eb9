// harness/runner.hpp — runs each RunSpec as a fresh server/client process pair.
#pragma once

#include <functional>
#include <vector>

#include "harness/run_result.hpp"

namespace ipcmark {

struct RunOptions {
  int server_cpu = -1;  // pin the peers, or -1 to let the scheduler place them
  int client_cpu = -1;
};

// One repetition: spawns `ipcmark peer` twice (server, then client after "ready"),
// bounded by spec.timeout; errors become RunResult::error, never exceptions. Every name
// the run created is removed and both children are reaped before it returns.
RunResult run_one(const RunSpec& spec, int repetition_index, const RunOptions& options);

// Repetitions as the outer loop, so drift over time hits every configuration alike.
// `on_result` sees each result as it arrives (to rewrite the results file, print progress).
// Stops early, returning what it has, once `interrupted()` turns true.
std::vector<RunResult> run_all(const std::vector<RunSpec>& specs, const RunOptions& options,
                               const std::function<void(const RunResult&, std::size_t done, std::size_t total)>& on_result);

// Set by a SIGINT/SIGTERM handler of `ipcmark run`.
void interrupt_runs() noexcept;
bool runs_interrupted() noexcept;

}  // namespace ipcmark
