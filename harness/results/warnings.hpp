// harness/results/warnings.hpp — conditions that make a run's figures less trustworthy, said once
// on stderr and kept in `context.warnings` so they travel with the numbers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "harness/run/run_result.hpp"

namespace ipcmark {

// From the machine context (with timer_cost_ns): debug build, CPU frequency scaling,
// fewer CPUs than the two peers, high load, a clock that is not vDSO-fast.
std::vector<std::string> environment_warnings(const nlohmann::json& context, int allowed_cpu_count);

// From the results: noisy repetitions (cv of real_time above 5%), open-loop rates missed.
std::vector<std::string> result_warnings(const std::vector<RunResult>& results);

}  // namespace ipcmark
