// tests/support/results.hpp — results documents built in tests, and the fixture files under tests/data.
//
// A row that meets harness/results/reader.hpp's schema with
// the fewest keys (every test overrides what it is about), and a document around rows.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/files.hpp"

namespace ipcmark::testing {

// latency_ns with every percentile the schema requires.
inline nlohmann::json latency_ns(double p50, double p99) {
  return {{"min", p50}, {"p50", p50}, {"p90", p99}, {"p99", p99}, {"p999", p99}, {"p9999", p99}, {"max", p99},
          {"mean", p50}};
}

// A successful shm pingpong repetition; `fields` replaces or adds keys.
inline nlohmann::json valid_row(const nlohmann::json& fields = nlohmann::json::object()) {
  nlohmann::json row = {{"name", "shm/pingpong/64/spin"}, {"run_name", "shm/pingpong/64/spin"},
                        {"run_type", "iteration"},        {"repetitions", 1},
                        {"repetition_index", 0},          {"iterations", 1000},
                        {"real_time", 700.0},             {"cpu_time", 1400.0},
                        {"time_unit", "ns"},              {"transport", "shm"},
                        {"pattern", "pingpong"},          {"message_size", 64}};
  row.update(fields);
  return row;
}

inline nlohmann::json valid_document(const nlohmann::json& rows, int schema_version = 2) {
  return {{"context", {{"json_schema_version", schema_version}}}, {"benchmarks", rows}};
}

// `actual` equals the golden file at `path`; with IPCMARK_UPDATE_GOLDEN=1 the file is rewritten instead.
inline void expect_golden(const std::string& actual, const std::string& path) {
  if (const char* update = std::getenv("IPCMARK_UPDATE_GOLDEN"); update != nullptr && *update == '1') {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  const std::string expected = slurp(path);
  ASSERT_FALSE(expected.empty()) << path << " is missing: run with IPCMARK_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, expected) << "golden file " << path << " differs (IPCMARK_UPDATE_GOLDEN=1 to rewrite)";
}

}  // namespace ipcmark::testing
