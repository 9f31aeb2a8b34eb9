// tests/support/history_series.hpp — results files that make a known series for the history
// tests: a fixture (tests/data/results/compare-3reps-1.json, schema 1, so series use
// latency_p50_ns) copied `count` times, each with its own commit and date, every row's p50 times
// (1 + 1% noise) per file, and the row `stepped` times 1.10 from file `step_at` on.
#pragma once

#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/files.hpp"

namespace ipcmark::testing {

inline std::vector<std::string> history_series_files(const std::string& dir, int count, const std::string& stepped,
                                                     int step_at) {
  using nlohmann::json;
  const json fixture = json::parse(slurp(IPCMARK_SOURCE_DIR "/tests/data/results/compare-3reps-1.json"));
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<std::string> files;
  for (int k = 0; k < count; ++k) {
    json d = fixture;
    d["context"]["git_commit"] = "commit" + std::to_string(100 + k);
    d["context"]["date"] = "2026-12-06T10:" + std::to_string(10 + k) + ":00+00:00";
    std::map<std::string, double> factor;
    for (json& row : d["benchmarks"]) {
      const std::string name = row["run_name"];
      if (!factor.count(name)) factor[name] = (1 + noise(rng)) * (name == stepped && k >= step_at ? 1.10 : 1.0);
      if (row.contains("latency_ns")) row["latency_ns"]["p50"] = row["latency_ns"]["p50"].get<double>() * factor[name];
    }
    files.push_back(dir + "/series-" + std::to_string(100 + k) + ".json");
    std::ofstream(files.back()) << d.dump();
  }
  return files;
}

// A shell command line running `writer_command` in two processes at once; exit 0 when both succeed.
inline std::string two_at_once(const std::string& writer_command) {
  return "(" + writer_command + ") & a=$!; (" + writer_command + ") & b=$!; wait $a && wait $b";
}

}  // namespace ipcmark::testing
