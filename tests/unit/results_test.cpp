#include "harness/results/writer.hpp"

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
  EXPECT_EQ(row["name"], "shm/pingpong/64/spin/unpinned");
  EXPECT_EQ(row["placement"], "unpinned");
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
  EXPECT_EQ(row["name"], "pipe/pingpong/64/unpinned");  // pipe has no wait modes: no /spin
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
  EXPECT_EQ(rows[0]["name"], "shm/pingpong/64/spin/unpinned_mean");
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

TEST(Results, RowsAreMultiplesOfTheFloorOfTheirPlacement) {
  RunResult r = fake_result("shm", 0, 2'000'000);  // p50 about 5000 ns
  r.spec.placement = {Placement::Cross, {0, 1}};
  const json context{{"floor_by_placement",
                      {{"cross", {{"cacheline_rtt_ns", 250.0}, {"futex_rtt_ns", 40'000.0},
                                  {"memcpy_l2_bytes_per_second", 32e9}}}}}};
  const json doc = results_document(context, {r});
  const json& row = doc["benchmarks"][0];
  EXPECT_NEAR(row["x_floor"].get<double>(), 5000.0 / 250.0, 0.1);
  EXPECT_TRUE(row["x_memcpy"].is_null());  // pingpong: bytes/s is not a copy rate

  r.spec.pattern = Pattern::Stream;  // a stream is bounded by copying: its time per message over memcpy's
  const json stream = results_document(context, {r})["benchmarks"][0];
  EXPECT_EQ(stream["x_floor_of"], "memcpy");
  EXPECT_NEAR(stream["x_floor"].get<double>(), r.ns_per_message() / (64 * 1e9 / 32e9), 1e-6);
  EXPECT_NEAR(stream["x_memcpy"].get<double>(), 64 * 500'000.0 / 32e9, 1e-9);

  r.spec.placement = {Placement::Same, {0, 0}};  // no floor measured for it: null, not a guess
  EXPECT_TRUE(results_document(context, {r})["benchmarks"][0]["x_floor"].is_null());
}

TEST(Results, SameCpuRowsUseTheFutexFloor) {
  RunResult r = fake_result("pipe", 0, 2'000'000);
  r.spec.placement = {Placement::Same, {0, 0}};
  const json context{{"floor_by_placement", {{"same", {{"cacheline_rtt_ns", nullptr}, {"futex_rtt_ns", 2500.0}}}}}};
  EXPECT_NEAR(results_document(context, {r})["benchmarks"][0]["x_floor"].get<double>(), 2.0, 0.01);
}

TEST(Results, MedianRowCarriesBootstrapIntervalsAndIterationRowsOutlierFlags) {
  std::vector<RunResult> runs;
  for (int i = 0; i < 7; ++i) runs.push_back(fake_result("shm", i, 1'000'000 + 10'000 * i));
  runs.push_back(fake_result("shm", 7, 9'000'000));  // far above the rest
  for (RunResult& r : runs) r.spec.repetitions = 8;
  const json doc = results_document(json::object(), runs);
  const json& rows = doc["benchmarks"];
  for (int i = 0; i < 7; ++i) EXPECT_EQ(rows[i]["outlier"], "none") << i;
  EXPECT_EQ(rows[7]["outlier"], "severe");
  const json& median_row = rows[8 + 1];
  ASSERT_EQ(median_row["aggregate_name"], "median");
  const double med = median_row["real_time"].get<double>();
  EXPECT_LE(median_row["ci95_low"].get<double>(), med);
  EXPECT_GE(median_row["ci95_high"].get<double>(), med);
  EXPECT_GE(median_row["ci95_low"].get<double>(), 1000.0);  // within the repetitions' range
  EXPECT_LE(median_row["ci95_high"].get<double>(), 9000.0);
  EXPECT_TRUE(median_row.contains("p99_ci95_low"));
  EXPECT_TRUE(median_row.contains("p99_ci95_high"));
}

TEST(Results, OpenLoopRowsSayWhatRateTheyAimedAtAndAchieved) {
  RunResult r = fake_result("pipe", 0, 1'000'000);
  r.spec.pattern = Pattern::Stream;
  r.spec.rate = 10'000;
  r.achieved_rate = 9'876.5;
  r.pacing_ns = 30'000'000;
  const json row = iteration_row(r);
  EXPECT_EQ(row["name"], "pipe/stream/64/unpinned/rate=10000");
  EXPECT_EQ(row["target_rate"], 10'000);
  EXPECT_DOUBLE_EQ(row["achieved_rate"].get<double>(), 9'876.5);
  EXPECT_DOUBLE_EQ(row["pacing_ns_per_message"].get<double>(), 30'000.0);
  EXPECT_FALSE(iteration_row(fake_result("pipe", 0, 1))["achieved_rate"].is_number());  // closed loop: absent
}

}  // namespace
}  // namespace ipcmark
