// harness/results/writer.hpp — result files shaped like Google Benchmark's JSON: a `context`
// object and a `benchmarks` array (iteration rows, then aggregate rows), so compare.py,
// Bencher and github-action-benchmark read them as they are. Fields: results/README.md.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/run/run_result.hpp"

namespace ipcmark {

inline constexpr int kJsonSchemaVersion = 2;

// One row per repetition (run_type "iteration"); `floor` is the machine's floor for the
// row's placement (or null), for x_floor where the repetition has no floor of its own, and
// x_memcpy; `context` gives its floor_clusters (the repetition's floor_cluster).
nlohmann::json iteration_row(const RunResult& result, const nlohmann::json& floor = nullptr,
                             const nlohmann::json& context = nlohmann::json::object());

// mean, median, stddev and cv rows per name over its successful repetitions, as Google
// Benchmark writes them (run_type "aggregate"); the median row adds bootstrap intervals.
std::vector<nlohmann::json> aggregate_rows(const std::vector<RunResult>& results,
                                           const nlohmann::json& context = nlohmann::json::object());

// The whole document, floors taken from context.floor_by_placement; pure, so it is
// tested without running anything.
nlohmann::json results_document(const nlohmann::json& context, const std::vector<RunResult>& results);

// Writes `document` to `path` atomically (temporary file + rename), so a reader or an
// interrupted run never sees half a file. Creates the parent directory.
void write_results_file(const std::string& path, const nlohmann::json& document);

}  // namespace ipcmark
