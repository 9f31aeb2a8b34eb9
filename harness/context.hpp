// harness/context.hpp — the machine a result file was measured on.
#pragma once

#include <nlohmann/json.hpp>

namespace ipcmark {

// Google Benchmark's context keys (date, host_name, executable, num_cpus, mhz_per_cpu,
// cpu_scaling_enabled, caches, load_avg, library_build_type) plus ipcmark's own.
nlohmann::json machine_context();

}  // namespace ipcmark
