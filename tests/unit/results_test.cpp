#include "harness/results.hpp"

#include <gtest/gtest.h>

#include "transports/registry.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

RunResult fake_result(const char* transport, int repetition, std::uint64_t elapsed_ns) {
  RunResult r;
  r.spec.transport = find_transport(transport);
  r.spec.pattern = Pattern::Pingpong;
  r.spec.message_size = 64;
  r.spec.wait = WaitKind::Spin;
  r.spec.repetitions = 3;
  r.repetition_index = repetition;
  r.messages = 1000;
  r.elapsed_ns = elapsed_ns;
  r.server_cpu_ns = 500'000;
  r.client_cpu_ns = 1'500'000;
  for (std::uint64_t v = 1; v <= 1000; ++v) r.latency.record(v * 10);
  return r;
}

TEST(Results, IterationRowCarriesGoogleBenchmarkAndIpcmarkFields) {
  const json row = iteration_row(fake_result("shm", 1, 2'000'000));
  for (const char* key : {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
                          "real_time", "cpu_time", "time_unit", "bytes_per_second", "items_per_second", "transport",
                          "pattern", "message_size", "wait", "latency_ns", "lost", "reordered", "corrupted", "error",
                          "histogram", "cpu_ns_per_message"})
    EXPECT_TRUE(row.contains(key)) << key;
  EXPECT_EQ(row["name"], "shm/pingpong/64/spin");
  EXPECT_EQ(row["run_type"], "iteration");
  EXPECT_EQ(row["time_unit"], "ns");
  EXPECT_EQ(row["iterations"], 1000);
  EXPECT_DOUBLE_EQ(row["real_time"].get<double>(), 2000.0);  // 2 ms over 1000 round trips
  EXPECT_DOUBLE_EQ(row["cpu_time"].get<double>(), 2000.0);   // (0.5 + 1.5) ms of CPU over 1000
  EXPECT_DOUBLE_EQ(row["items_per_second"].get<double>(), 500'000.0);
  EXPECT_DOUBLE_EQ(row["bytes_per_second"].get<double>(), 64 * 500'000.0);
  EXPECT_TRUE(row["error"].is_null());
  EXPECT_EQ(row["latency_ns"]["min"], 10);
  EXPECT_EQ(row["latency_ns"]["max"], 10000);
  EXPECT_NEAR(row["latency_ns"]["p50"].get<double>(), 5000, 5);
}

TEST(Results, FailedRowSaysSoTheGoogleBenchmarkWay) {
  RunResult r = fake_result("pipe", 0, 1);
  r.error = "client: peer process 12 is gone";
  const json row = iteration_row(r);
  EXPECT_EQ(row["name"], "pipe/pingpong/64");  // pipe has no wait modes: no /spin
  EXPECT_EQ(row["error"], r.error);
  EXPECT_EQ(row["error_occurred"], true);
  EXPECT_EQ(row["error_message"], r.error);
}

TEST(Results, AggregatesAreMeanMedianStddevCvOverSuccessfulRepetitions) {
  std::vector<RunResult> runs{fake_result("shm", 0, 1'000'000), fake_result("shm", 1, 2'000'000),
                              fake_result("shm", 2, 6'000'000)};
  RunResult failed = fake_result("shm", 3, 1);
  failed.error = "timed out";
  runs.push_back(failed);
  const auto rows = aggregate_rows(runs);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["name"], "shm/pingpong/64/spin_mean");
  EXPECT_EQ(rows[0]["run_type"], "aggregate");
  EXPECT_EQ(rows[0]["iterations"], 3);  // the failed repetition is not averaged in
  EXPECT_DOUBLE_EQ(rows[0]["real_time"].get<double>(), 3000.0);
  EXPECT_EQ(rows[1]["aggregate_name"], "median");
  EXPECT_DOUBLE_EQ(rows[1]["real_time"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(rows[2]["real_time"].get<double>(), std::sqrt((4.0 + 1.0 + 9.0) * 1e6 / 2.0));
  EXPECT_EQ(rows[3]["aggregate_unit"], "percentage");
  EXPECT_DOUBLE_EQ(rows[3]["real_time"].get<double>(), rows[2]["real_time"].get<double>() / 3000.0);
}

TEST(Results, DocumentHasContextAndIterationRowsBeforeAggregates) {
  const json doc = results_document({{"caches", json::array()}}, {fake_result("shm", 0, 1000), fake_result("shm", 1, 1000)});
  ASSERT_TRUE(doc["context"]["caches"].is_array());
  ASSERT_EQ(doc["benchmarks"].size(), 2u + 4u);
  EXPECT_EQ(doc["benchmarks"][1]["run_type"], "iteration");
  EXPECT_EQ(doc["benchmarks"][2]["run_type"], "aggregate");
}

}  // namespace
}  // namespace ipcmark
