// The one results reader: every results file the project keeps (tests/data/results/,
// results/baselines/, schema 1 and 2) reads into typed rows of each kind, and each way a file
// can break the schema is refused with one line naming the file, the row and the key.
#include "harness/results/reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/usage_error.hpp"
#include "tests/support/results.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::string kData = IPCMARK_TEST_DATA;

std::string error_of(const json& document) {
  try {
    read_results(document, "t.json");
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  return "(no error)";
}

std::string error_of_path(const std::string& path) {
  try {
    read_results(path);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

// The error of a document holding one valid row with `fields` replaced or added.
std::string row_error(const json& fields) {
  return error_of(testing::valid_document(json::array({testing::valid_row(fields)})));
}

std::string row_error_without(const std::string& key, const json& fields = json::object()) {
  json row = testing::valid_row(fields);
  row.erase(key);
  return error_of(testing::valid_document(json::array({row})));
}

const Row& row_named(const ResultsDocument& d, const std::string& name) {
  for (const Row& r : d.rows)
    if (r.name == name) return r;
  throw std::runtime_error("no row " + name);
}

// ---- every kept file reads ------------------------------------------------------------------

TEST(ResultsReader, EveryResultsFileTheProjectKeepsReads) {
  std::vector<std::filesystem::path> files;
  for (const char* dir : {"/results", "/../../results/baselines"})
    for (const auto& entry : std::filesystem::directory_iterator(kData + dir))
      if (entry.path().extension() == ".json") files.push_back(entry.path());
  ASSERT_GE(files.size(), 16u);
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    if (name == "compare-malformed.json" || name == "compare-schema99.json") continue;  // bad on purpose
    const ResultsDocument d = read_results(path.string());
    EXPECT_EQ(d.source, path.string());
    EXPECT_FALSE(d.rows.empty()) << name;
  }
}

TEST(ResultsReader, SchemaOneIterationAndAggregateRowsAreTyped) {
  const ResultsDocument d = read_results(kData + "/results/compare-aa-1.json");
  EXPECT_EQ(d.context.schema_version, 1);
  EXPECT_EQ(d.context.num_cpus, 2);
  ASSERT_TRUE(d.context.pinning.has_value());
  EXPECT_EQ(d.context.pinning->client, 1);
  const Row& first = d.rows.front();
  EXPECT_EQ(first.run_type, RunType::Iteration);
  EXPECT_EQ(first.transport, "shm");
  EXPECT_EQ(first.pattern, "pingpong");
  EXPECT_EQ(first.message_size, 64u);
  EXPECT_EQ(first.repetition_index, 0);
  EXPECT_FALSE(first.failed());
  EXPECT_FALSE(first.placement.has_value());  // schema 2 added it
  ASSERT_TRUE(first.latency_ns.has_value());
  EXPECT_LE(first.latency_ns->p50, first.latency_ns->p99);
  const Row& median = row_named(d, "shm/pingpong/64/spin_median");
  EXPECT_EQ(median.run_type, RunType::Aggregate);
  EXPECT_EQ(median.aggregate_name, "median");
  EXPECT_EQ(median.run_name, "shm/pingpong/64/spin");
  EXPECT_DOUBLE_EQ(median.real_time_ns, 724.5505);
}

TEST(ResultsReader, FailedRowsCarryTheirError) {
  const ResultsDocument d = read_results(kData + "/results/report-basic.json");
  std::size_t failed = 0;
  for (const Row& r : d.rows)
    if (r.failed()) {
      ++failed;
      EXPECT_FALSE(r.error->empty()) << r.name;
    }
  EXPECT_GT(failed, 0u);
  // error_occurred with error_message and no `error` (as Google Benchmark writes a failure)
  json row = testing::valid_row({{"error_occurred", true}, {"error_message", "peer gone"}});
  const ResultsDocument gb = read_results(testing::valid_document(json::array({row})), "t.json");
  EXPECT_EQ(gb.rows[0].error, "peer gone");
  // error null, or an empty string, is a successful repetition
  EXPECT_FALSE(read_results(testing::valid_document(json::array({testing::valid_row({{"error", ""}})})), "t.json")
                   .rows[0]
                   .failed());
}

TEST(ResultsReader, OpenLoopRowsAndSchemaTwoFieldsAreTyped) {
  const ResultsDocument d = read_results(kData + "/results/report-v2.json");
  EXPECT_EQ(d.context.schema_version, 2);
  ASSERT_TRUE(d.context.floor.has_value());
  EXPECT_FALSE(d.context.warnings.empty());
  std::size_t open = 0;
  for (const Row& r : d.rows)
    if (r.open_loop() && r.run_type == RunType::Iteration) {
      ++open;
      EXPECT_TRUE(r.achieved_rate.has_value()) << r.name;
      EXPECT_TRUE(r.latency_ns.has_value()) << r.name;
      EXPECT_TRUE(r.placement.has_value()) << r.name;
    }
  EXPECT_GT(open, 0u);
}

TEST(ResultsReader, FanoutRowsCarryTheirReaders) {
  const ResultsDocument d = read_results(kData + "/results/fanout.json");
  for (const Row& r : d.rows) {
    ASSERT_EQ(r.pattern, "fanout");
    ASSERT_TRUE(r.readers.has_value()) << r.name;
    EXPECT_GE(*r.readers, 1);
    if (r.run_type == RunType::Iteration) {
      EXPECT_TRUE(r.worst_reader_p99_ns.has_value()) << r.name;
      EXPECT_TRUE(r.readers_lost.has_value()) << r.name;
    }
  }
}

TEST(ResultsReader, MedianRowsCarryTheirIntervals) {
  const ResultsDocument d = read_results(kData + "/results/compare-live-aa-1.json");
  std::size_t medians = 0;
  for (const Row& r : d.rows)
    if (r.aggregate_name == "median") {
      ++medians;
      ASSERT_TRUE(r.ci95_low_ns && r.ci95_high_ns && r.p99_ci95_low && r.p99_ci95_high) << r.name;
      EXPECT_LE(*r.ci95_low_ns, *r.ci95_high_ns) << r.name;
    }
  EXPECT_GT(medians, 0u);
}

TEST(ResultsReader, TimesInOtherUnitsAreReadAsNanoseconds) {
  const json row = testing::valid_row({{"time_unit", "us"}, {"real_time", 1.5}, {"cpu_time", 2}, {"ci95_low", 1},
                                       {"ci95_high", 2}, {"latency_ns", testing::latency_ns(900, 2000)}});
  const Row r = read_results(testing::valid_document(json::array({row})), "t.json").rows[0];
  EXPECT_DOUBLE_EQ(r.real_time_ns, 1500);
  EXPECT_DOUBLE_EQ(r.cpu_time_ns, 2000);
  EXPECT_DOUBLE_EQ(*r.ci95_low_ns, 1000);
  EXPECT_DOUBLE_EQ(*r.ci95_high_ns, 2000);
  EXPECT_DOUBLE_EQ(r.latency_ns->p50, 900);  // ns in the file already
}

TEST(ResultsReader, NullIsNotMeasuredAndUnknownKeysAreAllowed) {
  const json row = testing::valid_row({{"x_floor", nullptr}, {"x_memcpy", 0.5}, {"a_field_of_schema_3", "new"}});
  const Row r = read_results(testing::valid_document(json::array({row})), "t.json").rows[0];
  EXPECT_FALSE(r.x_floor.has_value());
  EXPECT_EQ(r.x_memcpy, 0.5);
}

// ---- the file and the document ---------------------------------------------------------------

TEST(ResultsReaderRefuses, FilesThatCannotBeRead) {
  EXPECT_EQ(error_of_path("/nonexistent/x.json"), "results file '/nonexistent/x.json' does not exist");
  EXPECT_EQ(error_of_path("/tmp"), "results file '/tmp' is a directory");
  const std::string malformed = kData + "/results/compare-malformed.json";
  EXPECT_THAT(error_of_path(malformed),
              ::testing::StartsWith(malformed + " is not valid JSON: parse error at line 3"));
}

TEST(ResultsReaderRefuses, DocumentsWithoutBenchmarksOrSchemaVersion) {
  const std::string not_results = "t.json is not an ipcmark results file (no 'benchmarks' array)";
  EXPECT_EQ(error_of(json::array()), not_results);
  EXPECT_EQ(error_of(json::object()), not_results);
  EXPECT_EQ(error_of({{"context", {{"json_schema_version", 2}}}, {"benchmarks", json::object()}}), not_results);
  const std::string no_version = "t.json has no context.json_schema_version (not an ipcmark results file?)";
  EXPECT_EQ(error_of({{"benchmarks", json::array()}}), no_version);
  EXPECT_EQ(error_of({{"context", json::array()}, {"benchmarks", json::array()}}), no_version);
  EXPECT_EQ(error_of({{"context", json::object()}, {"benchmarks", json::array()}}), no_version);
}

TEST(ResultsReaderRefuses, SchemaVersionsThisBuildDoesNotRead) {
  EXPECT_EQ(error_of(testing::valid_document(json::array(), 3)),
            "t.json: unsupported json_schema_version 3 (this ipcmark reads 1 to 2)");
  EXPECT_EQ(error_of(testing::valid_document(json::array(), 0)),
            "t.json: unsupported json_schema_version 0 (this ipcmark reads 1 to 2)");
  EXPECT_EQ(error_of({{"context", {{"json_schema_version", "2"}}}, {"benchmarks", json::array()}}),
            "t.json: unsupported json_schema_version \"2\" (this ipcmark reads 1 to 2)");
}

TEST(ResultsReaderRefuses, MistypedContextFields) {
  auto context_error = [](const json& fields) {
    json doc = testing::valid_document(json::array());
    doc["context"].update(fields);
    return error_of(doc);
  };
  EXPECT_EQ(context_error({{"num_cpus", "4"}}), "t.json: context: 'num_cpus' is not an integer (got \"4\")");
  EXPECT_EQ(context_error({{"cpu_model", 7}}), "t.json: context: 'cpu_model' is not a string (got 7)");
  EXPECT_EQ(context_error({{"cpu_scaling_enabled", "no"}}),
            "t.json: context: 'cpu_scaling_enabled' is not a boolean (got \"no\")");
  EXPECT_EQ(context_error({{"warnings", json::array({"ok", 1})}}),
            "t.json: context: 'warnings[1]' is not a string (got 1)");
  EXPECT_EQ(context_error({{"pinning", {{"server", 0}}}}), "t.json: context: 'pinning.client' is missing");
  EXPECT_EQ(context_error({{"floor", {{"futex_rtt_ns", "slow"}}}}),
            "t.json: context: 'floor.futex_rtt_ns' is not a number (got \"slow\")");
  EXPECT_EQ(context_error({{"floor_by_placement", {{"cross", {{"cacheline_rtt_samples_ns", {1, "x"}}}}}}}),
            "t.json: context: 'floor_by_placement.cross.cacheline_rtt_samples_ns[1]' is not a number (got \"x\")");
  EXPECT_EQ(context_error({{"floor", nullptr}, {"floor_by_placement", {{"cross", nullptr}}}}), "(no error)");
}

// ---- rows ------------------------------------------------------------------------------------

TEST(ResultsReaderRefuses, RowsThatAreNotObjectsOrHaveNoName) {
  EXPECT_EQ(error_of(testing::valid_document(json::array({5}))), "t.json: benchmarks[0] is not an object (got 5)");
  EXPECT_EQ(row_error_without("name"), "t.json: benchmarks[0]: 'name' is missing");
  EXPECT_EQ(row_error({{"name", ""}}), "t.json: benchmarks[0]: 'name' is empty");
  EXPECT_EQ(row_error({{"name", 5}}), "t.json: benchmarks[0]: 'name' is not a string (got 5)");
}

TEST(ResultsReaderRefuses, EachMissingRequiredKeyNamingRowAndKey) {
  for (const char* key : {"run_type", "time_unit", "run_name", "repetitions", "iterations", "real_time", "cpu_time",
                          "repetition_index", "transport", "pattern", "message_size"})
    EXPECT_THAT(row_error_without(key), ::testing::StartsWith("t.json: benchmarks[0] 'shm/pingpong/64/spin': '" +
                                                              std::string(key) + "' is missing"));
}

TEST(ResultsReaderRefuses, TheRowItFoundByIndexAndName) {
  json rows = json::array({testing::valid_row(), testing::valid_row(), testing::valid_row({{"name", "x/y"}})});
  rows[2].erase("real_time");
  EXPECT_EQ(error_of(testing::valid_document(rows)), "t.json: benchmarks[2] 'x/y': 'real_time' is missing");
}

TEST(ResultsReaderRefuses, MistypedRowFields) {
  const std::string at = "t.json: benchmarks[0] 'shm/pingpong/64/spin': ";
  EXPECT_EQ(row_error({{"real_time", "fast"}}), at + "'real_time' is not a number (got \"fast\")");
  EXPECT_EQ(row_error({{"real_time", nullptr}}), at + "'real_time' is not a number (got null)");
  EXPECT_EQ(row_error({{"transport", 1}}), at + "'transport' is not a string (got 1)");
  EXPECT_EQ(row_error({{"repetitions", 1.5}}), at + "'repetitions' is not an integer (got 1.5)");
  EXPECT_EQ(row_error({{"iterations", -1}}), at + "'iterations' is not a non-negative integer (got -1)");
  EXPECT_EQ(row_error({{"error_occurred", "yes"}}), at + "'error_occurred' is not a boolean (got \"yes\")");
  EXPECT_EQ(row_error({{"error", true}}), at + "'error' is not a string (got true)");
  EXPECT_EQ(row_error({{"cpus", 0}}), at + "'cpus' is not an object (got 0)");
  EXPECT_EQ(row_error({{"x_floor", "2x"}}), at + "'x_floor' is not a number (got \"2x\")");
  EXPECT_EQ(row_error({{"histogram", json::array()}}), at + "'histogram' is not an object (got [])");
  for (const json& size : {json(0), json(-64), json(64.5), json("64")})
    EXPECT_EQ(row_error({{"message_size", size}}),
              at + "'message_size' is not a positive integer (got " + size.dump() + ")");
  EXPECT_EQ(row_error({{"message_size", 64.0}}), "(no error)");  // an integral number, however written
}

TEST(ResultsReaderRefuses, NestedFieldsByTheirPath) {
  const std::string at = "t.json: benchmarks[0] 'shm/pingpong/64/spin': ";
  json latency = testing::latency_ns(600, 900);
  latency.erase("p99");
  EXPECT_EQ(row_error({{"latency_ns", latency}}), at + "'latency_ns.p99' is missing");
  latency["p99"] = "slow";
  EXPECT_EQ(row_error({{"latency_ns", latency}}), at + "'latency_ns.p99' is not a number (got \"slow\")");
  EXPECT_EQ(row_error({{"latency_ns", 5}}), at + "'latency_ns' is not an object (got 5)");
  EXPECT_EQ(row_error({{"cpu_ns_per_message", {{"server", 1}}}}), at + "'cpu_ns_per_message.client' is missing");
  EXPECT_EQ(row_error({{"worst_reader_latency_ns", {{"p50", 1}}}}), at + "'worst_reader_latency_ns.p99' is missing");
}

TEST(ResultsReaderRefuses, UnknownRunTypeAndTimeUnit) {
  const std::string at = "t.json: benchmarks[0] 'shm/pingpong/64/spin': ";
  EXPECT_EQ(row_error({{"run_type", "itteration"}}),
            at + "'run_type' is \"itteration\" (expected iteration or aggregate)");
  EXPECT_EQ(row_error({{"time_unit", "fortnights"}}),
            at + "'time_unit' is \"fortnights\" (expected ns, us, ms or s)");
}

TEST(ResultsReaderRefuses, WhatEachKindOfRowNeeds) {
  const std::string at = "t.json: benchmarks[0] 'shm/pingpong/64/spin': ";
  EXPECT_EQ(row_error_without("repetition_index"), at + "'repetition_index' is missing (an iteration row)");
  EXPECT_EQ(row_error({{"run_type", "aggregate"}}), at + "'aggregate_name' is missing (an aggregate row)");
  EXPECT_EQ(row_error({{"run_type", "aggregate"}, {"aggregate_name", "median"}}), "(no error)");
  EXPECT_EQ(row_error({{"error_occurred", true}}), at + "'error_message' is missing (error_occurred is true)");
  EXPECT_EQ(row_error({{"pattern", "fanout"}}), at + "'readers' is missing (a fanout row)");
  EXPECT_EQ(row_error({{"pattern", "fanout"}, {"readers", 0}}), at + "'readers' is not a positive integer (got 0)");
  const json open{{"target_rate", 1000}, {"achieved_rate", 990}, {"latency_ns", testing::latency_ns(800, 900)}};
  EXPECT_EQ(row_error(open), "(no error)");
  EXPECT_EQ(row_error_without("achieved_rate", open), at + "'achieved_rate' is missing (an open-loop row)");
  EXPECT_EQ(row_error_without("latency_ns", open), at + "'latency_ns' is missing (an open-loop row)");
  json failed = open;
  failed["error"] = "client: timed out";
  EXPECT_EQ(row_error_without("latency_ns", failed), "(no error)");  // a failed repetition measured nothing
}

}  // namespace
}  // namespace ipcmark
