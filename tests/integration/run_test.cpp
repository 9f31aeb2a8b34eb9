// `ipcmark run` end to end: real server and client processes, JSON parsed and checked,
// nothing left behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "harness/run/spawn.hpp"
#include "tests/support/processes.hpp"
#include "transports/names.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

struct RunOutcome {
  ExitStatus status;
  json document;
  int pid;
};

RunOutcome run_ipcmark(const std::vector<std::string>& args, const std::string& out) {
  std::vector<std::string> argv{IPCMARK_BINARY, "run", "--out", out};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p = ChildProcess::spawn(argv);
  const int pid = p.pid();
  while (p.pump_stdout()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  RunOutcome r{p.wait_or_kill(Clock::now() + std::chrono::seconds(200)), json(), pid};
  r.document = json::parse(testing::slurp(out));
  std::remove(out.c_str());
  return r;
}

// The latency samples a row's histogram must hold for `measured` messages per reader: one message
// in timed_every carries its send time, the first measured one included (RunSpec::timed_every).
// Closed-loop stream and fanout time one in 16, everything else every message.
std::uint64_t timed(const json& row, std::uint64_t measured) {
  const bool closed_loop_stream =
      (row["pattern"] == "stream" || row["pattern"] == "fanout") && !row.contains("target_rate");
  EXPECT_EQ(row["timed_every"], closed_loop_stream ? 16 : 1) << row["name"];
  const std::uint64_t every = row["timed_every"].get<std::uint64_t>();
  return (measured + every - 1) / every;
}

void expect_nothing_left_behind(int pid) {
  const std::string prefix = "ipcmark-" + std::to_string(pid) + "-";
  EXPECT_THAT(testing::entries_with_prefix("/dev/shm", prefix), ::testing::IsEmpty());
  EXPECT_THAT(testing::entries_with_prefix(private_runtime_dir(), prefix), ::testing::IsEmpty());
  EXPECT_THAT(testing::processes_with({"peer", "--parent-pid", std::to_string(pid)}), ::testing::IsEmpty());
}

TEST(Run, TinySuiteOverShmBothWaitsAndPipeProducesCleanCompleteRows) {
  const std::string out = testing::temp_path("tiny.json");
  const RunOutcome r = run_ipcmark({"--transports", "shm,pipe", "--pattern", "pingpong,stream,oneshot", "--sizes", "64,4096",
                             "--messages", "300", "--warmup", "30", "--repetitions", "2", "--wait", "spin,block"},
                            out);
  ASSERT_TRUE(r.status.ok()) << r.status.describe();

  const json& context = r.document["context"];
  for (const char* key : {"date", "host_name", "executable", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled", "caches",
                          "load_avg", "library_build_type", "ipcmark_version", "git_commit", "kernel", "cpu_model",
                          "json_schema_version", "topology", "dev_shm", "compiler", "timer_cost_ns", "warnings",
                          "floor", "floor_by_placement", "pinning", "placements", "shuffle_seed"})
    EXPECT_TRUE(context.contains(key)) << key;
  EXPECT_EQ(context["json_schema_version"], 2);
  EXPECT_GT(context["floor"]["futex_rtt_ns"].get<double>(), 0.0);
  EXPECT_GT(context["floor"]["memcpy_l2_bytes_per_second"].get<double>(), 0.0);
  // The cache-line floor is sampled at the start, halfway and at the end (harness/machine/floor_drift.hpp).
  ASSERT_TRUE(context["floor"]["cacheline_rtt_samples_ns"].is_array());
  EXPECT_EQ(context["floor"]["cacheline_rtt_samples_ns"].size(), 3u);
  // And each time also timed round trip by round trip, as pingpong rows are (harness/machine/floor.hpp).
  ASSERT_TRUE(context["floor"]["cacheline_rtt_timed_samples_ns"].is_array());
  EXPECT_EQ(context["floor"]["cacheline_rtt_timed_samples_ns"].size(), 3u);
  EXPECT_GT(context["floor"]["cacheline_rtt_timed_ns"].get<double>(), 0.0);
  EXPECT_GT(context["timer_cost_ns"].get<double>(), 0.0);
  EXPECT_TRUE(context["caches"].is_array());

  std::multiset<std::string> iterations;
  std::set<std::string> aggregates;
  for (const json& row : r.document["benchmarks"]) {
    if (row["run_type"] == "aggregate") {
      aggregates.insert(row["name"].get<std::string>());
      continue;
    }
    iterations.insert(row["name"].get<std::string>());
    EXPECT_TRUE(row["error"].is_null()) << row["name"] << ": " << row["error"];
    EXPECT_EQ(row["lost"], 0) << row["name"];
    EXPECT_EQ(row["reordered"], 0) << row["name"];
    EXPECT_EQ(row["corrupted"], 0) << row["name"];
    EXPECT_EQ(row["iterations"], 300) << row["name"];
    EXPECT_GT(row["real_time"].get<double>(), 0.0) << row["name"];
    EXPECT_GT(row["latency_ns"]["p50"].get<double>(), 0.0) << row["name"];
    EXPECT_EQ(row["histogram"]["count"], timed(row, 300)) << row["name"];
    EXPECT_EQ(row["placement"], "cross") << row["name"];
    if (row["pattern"] == "pingpong") {
      // Each round trip is timed from the last one's arrival, so together they are the client's
      // window: their mean is the window per round trip (the histogram keeps exact sums).
      EXPECT_NEAR(row["latency_ns"]["mean"].get<double>(), row["real_time"].get<double>(),
                  row["real_time"].get<double>() * 0.001)
          << row["name"];
    }
    if (row["pattern"] != "oneshot") {
      EXPECT_GT(row["x_floor"].get<double>(), 0.0) << row["name"];
    }
  }
  for (const std::string size : {"64", "4096"}) {
    std::vector<std::string> names{"shm/oneshot/" + size + "/cross", "pipe/oneshot/" + size + "/cross"};  // nothing waits
    for (const std::string pattern : {"pingpong", "stream"})
      for (const std::string& name : {"shm/" + pattern + "/" + size + "/spin/cross",
                                      "shm/" + pattern + "/" + size + "/block/cross", "pipe/" + pattern + "/" + size + "/cross"})
        names.push_back(name);
    for (const std::string& name : names) {
      EXPECT_EQ(iterations.count(name), 2u) << name;
      EXPECT_TRUE(aggregates.contains(name + "_median")) << name;
    }
  }
  EXPECT_EQ(iterations.size(), 2u * 2 * (2 * 3 + 2));  // repetitions × sizes × (2 patterns × 3 + oneshot × 2)
  expect_nothing_left_behind(r.pid);
}

TEST(Run, EveryShmWaitGivesCleanRowsNamedByItsWaitAndLeavesNoSocketFile) {
  const std::string out = testing::temp_path("waits.json");
  const RunOutcome r = run_ipcmark({"--transports", "shm,pipe", "--pattern", "pingpong,stream", "--sizes", "64",
                                    "--messages", "300", "--warmup", "30", "--repetitions", "1", "--no-floor",
                                    "--wait", "futex,eventfd,sem,uds"},
                                   out);
  ASSERT_TRUE(r.status.ok()) << r.status.describe();
  const json& rows = r.document["benchmarks"];
  std::set<std::string> names;
  std::for_each(rows.begin(), rows.end(), [&](const json& row) {
    if (row["run_type"] == "iteration" && names.insert(row["name"].get<std::string>()).second) {
      EXPECT_TRUE(row["error"].is_null() && row["lost"] == 0 && row["reordered"] == 0 && row["corrupted"] == 0 &&
                  row["iterations"] == 300)
          << row.dump();
    }
  });
  for (const char* wait : {"futex", "eventfd", "sem", "uds"}) {
    EXPECT_TRUE(names.contains(std::string("shm/pingpong/64/") + wait + "/cross")) << wait;
    EXPECT_TRUE(names.contains(std::string("shm/stream/64/") + wait + "/cross")) << wait;
  }
  EXPECT_TRUE(names.contains("pipe/pingpong/64/cross"));  // no wait modes: one row, as with spin and block
  EXPECT_EQ(names.size(), 10u);
  expect_nothing_left_behind(r.pid);
}

TEST(Run, PinnedRunRecordsItsPinning) {
  const std::string out = testing::temp_path("pinned.json");
  const RunOutcome r = run_ipcmark({"--transports", "shm", "--pattern", "pingpong", "--sizes", "64", "--messages", "100",
                             "--warmup", "10", "--repetitions", "1", "--wait", "block", "--cpus", "0,0"},
                            out);
  ASSERT_TRUE(r.status.ok()) << r.status.describe();
  EXPECT_EQ(r.document["context"]["pinning"]["server"], 0);
  EXPECT_EQ(r.document["context"]["pinning"]["client"], 0);
  expect_nothing_left_behind(r.pid);
}

TEST(Run, SeveralPlacementsAreEachRecordedPerRowAndInTheContext) {
  const std::string out = testing::temp_path("placements.json");
  const RunOutcome r = run_ipcmark({"--transports", "pipe", "--pattern", "pingpong", "--sizes", "64", "--messages", "100",
                                    "--warmup", "10", "--repetitions", "1", "--cpus", "0,1", "--cpus", "same"},
                                   out);
  ASSERT_TRUE(r.status.ok()) << r.status.describe();
  std::set<std::string> placements;
  for (const json& row : r.document["benchmarks"])
    if (row["run_type"] == "iteration") placements.insert(row["placement"].get<std::string>());
  EXPECT_EQ(placements, (std::set<std::string>{"cross", "same"}));
  EXPECT_EQ(r.document["context"]["placements"]["cross"]["client"], 1);
  EXPECT_EQ(r.document["context"]["placements"]["same"]["client"], 0);
  EXPECT_TRUE(r.document["context"]["floor_by_placement"]["same"]["cacheline_rtt_ns"].is_null());
  expect_nothing_left_behind(r.pid);
}

TEST(Run, OpenLoopRunRecordsTargetAndAchievedRate) {
  const std::string out = testing::temp_path("rate.json");
  const RunOutcome r = run_ipcmark({"--transports", "shm,pipe", "--pattern", "stream", "--sizes", "64", "--messages",
                                    "500", "--warmup", "50", "--repetitions", "1", "--wait", "block", "--rate", "5000",
                                    "--no-floor"},
                                   out);
  ASSERT_TRUE(r.status.ok()) << r.status.describe();
  int rows = 0;
  for (const json& row : r.document["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    ++rows;
    EXPECT_EQ(row["target_rate"], 5000) << row["name"];
    EXPECT_GT(row["achieved_rate"].get<double>(), 0.0) << row["name"];  // its value is the machine's, not asserted
    EXPECT_EQ(row["histogram"]["count"], timed(row, 500)) << row["name"];
    EXPECT_TRUE(row["error"].is_null()) << row["error"];
  }
  EXPECT_EQ(rows, 2);
  EXPECT_FALSE(r.document["context"].contains("floor"));  // --no-floor
  expect_nothing_left_behind(r.pid);
}

TEST(Run, FanoutRowsCountEveryReadersDeliveriesAndNameTheWorstReader) {
  const std::string out = testing::temp_path("fanout.json");
  const RunOutcome r = run_ipcmark({"--transports", "shm,pipe,zmq", "--pattern", "fanout", "--readers", "1,3", "--sizes",
                                    "64", "--messages", "500", "--warmup", "50", "--repetitions", "1", "--wait",
                                    "spin,block", "--no-floor"},
                                   out);
  ASSERT_TRUE(r.status.ok()) << r.status.describe();
  std::set<std::string> names;
  for (const json& row : r.document["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    names.insert(row["name"].get<std::string>());
    ASSERT_TRUE(row["error"].is_null()) << row["name"] << ": " << row["error"];
    const int readers = row["readers"].get<int>();
    EXPECT_EQ(row["iterations"], 500 * readers) << row["name"];  // deliveries
    EXPECT_EQ(row["histogram"]["count"], timed(row, 500) * readers) << row["name"];
    EXPECT_EQ(row["lost"], 0) << row["name"];
    EXPECT_EQ(row["readers_lost"], 0) << row["name"];
    // No reader's p99 is below the merged p99: the merge cannot be worse than its worst part.
    EXPECT_GE(row["worst_reader_latency_ns"]["p99"].get<double>(), row["latency_ns"]["p99"].get<double>())
        << row["name"];
    EXPECT_GT(row["cpu_ns_per_message"]["server"].get<double>(), 0.0) << row["name"];
    EXPECT_GT(row["items_per_second"].get<double>(), 0.0) << row["name"];
  }
  // Three spinning shm readers would share the client's CPU: skipped and said.
  EXPECT_EQ(names, (std::set<std::string>{"shm/fanout/64/spin/cross/readers=1", "shm/fanout/64/block/cross/readers=1",
                                           "shm/fanout/64/block/cross/readers=3", "pipe/fanout/64/cross/readers=1",
                                           "pipe/fanout/64/cross/readers=3", "zmq/fanout/64/cross/readers=1",
                                           "zmq/fanout/64/cross/readers=3"}));
  EXPECT_THAT(r.document["context"]["warnings"].dump(), ::testing::HasSubstr("shm/fanout/64/spin/cross/readers=3"));
  expect_nothing_left_behind(r.pid);
}

TEST(Run, OpenLoopFanoutRecordsItsRateAndCountsLossInsteadOfFailing) {
  const std::string out = testing::temp_path("fanout-rate.json");
  const RunOutcome r = run_ipcmark({"--transports", "zmq,unix", "--pattern", "fanout", "--readers", "2", "--sizes", "64",
                                    "--messages", "300", "--warmup", "30", "--repetitions", "1", "--rate", "3000",
                                    "--no-floor"},
                                   out);
  ASSERT_TRUE(r.status.ok()) << r.status.describe();
  int rows = 0;
  for (const json& row : r.document["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    ++rows;
    EXPECT_TRUE(row["error"].is_null()) << row["error"];
    EXPECT_EQ(row["target_rate"], 3000) << row["name"];
    // What arrived plus what was lost is what was sent to each reader.
    EXPECT_EQ(row["iterations"].get<std::uint64_t>() + row["lost"].get<std::uint64_t>(), 600u) << row["name"];
  }
  EXPECT_EQ(rows, 2);
  expect_nothing_left_behind(r.pid);
}

TEST(Run, TimeBasedWarmupStillMeasuresExactlyTheRequestedMessages) {
  const std::string out = testing::temp_path("warmup.json");
  const RunOutcome r = run_ipcmark({"--transports", "shm,unix", "--pattern", "pingpong,stream,oneshot", "--sizes", "64",
                                    "--messages", "200", "--warmup", "0", "--warmup-ms", "30", "--repetitions", "1",
                                    "--wait", "block", "--no-floor", "--no-interleave"},
                                   out);
  ASSERT_TRUE(r.status.ok()) << r.status.describe();
  for (const json& row : r.document["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    EXPECT_EQ(row["iterations"], 200) << row["name"];
    EXPECT_EQ(row["histogram"]["count"], timed(row, 200)) << row["name"];
    EXPECT_EQ(row["lost"], 0) << row["name"];
  }
  EXPECT_FALSE(r.document["context"]["interleave"].get<bool>());
  expect_nothing_left_behind(r.pid);
}

TEST(Run, ResultsExportToBencherMetricFormat) {
  const std::string out = testing::temp_path("bmf.json");
  std::vector<std::string> argv{IPCMARK_BINARY, "run", "--out", out, "--transports", "pipe", "--pattern", "pingpong",
                                "--sizes", "64", "--messages", "100", "--repetitions", "2", "--no-floor"};
  ChildProcess run = ChildProcess::spawn(argv);
  while (run.pump_stdout()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(run.wait_or_kill(Clock::now() + std::chrono::seconds(60)).ok());
  const auto r = testing::ipcmark({"report", out, "--format", "bmf"}, 30);
  std::remove(out.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json bmf = json::parse(r.out);
  ASSERT_TRUE(bmf.contains("pipe/pingpong/64/cross")) << r.out;
  const json& latency = bmf["pipe/pingpong/64/cross"]["latency"];
  EXPECT_LE(latency["lower_value"].get<double>(), latency["value"].get<double>());
  EXPECT_GE(latency["upper_value"].get<double>(), latency["value"].get<double>());
}

TEST(Run, ZeroCopyRowsCheckEveryByteAcrossProcesses) {
  const std::string out = testing::temp_path("zero.json");
  const RunOutcome r = run_ipcmark({"--transports", "shm", "--pattern", "stream,pingpong", "--sizes", "64,65536",
                                    "--messages", "300", "--warmup", "30", "--repetitions", "1", "--copy", "zero",
                                    "--no-floor"},
                                   out);
  ASSERT_TRUE(r.status.ok()) << r.status.describe();
  int rows = 0;
  for (const json& row : r.document["benchmarks"]) {
    if (row["run_type"] != "iteration") continue;
    ++rows;
    EXPECT_EQ(row["copy"], "zero") << row["name"];
    EXPECT_NE(row["name"].get<std::string>().find("/zero-copy/"), std::string::npos) << row["name"];
    EXPECT_TRUE(row["error"].is_null()) << row["error"];
    EXPECT_EQ(row["histogram"]["count"], timed(row, 300)) << row["name"];
  }
  EXPECT_EQ(rows, 2 * 2 * 2);  // patterns × sizes × waits
  expect_nothing_left_behind(r.pid);
}

TEST(Run, ScenarioFilesInTheRepositoryAreValid) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(IPCMARK_SOURCE_DIR) + "/scenarios")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const std::string file = entry.path().filename().string();
    const auto r = testing::ipcmark({"run", "--scenario", entry.path().string(), "--transports", "nope"}, 10);
    // Parsing succeeded (the override was what failed), so the file itself is valid.
    EXPECT_EQ(r.exit_code, 2) << file;
    EXPECT_THAT(r.err, ::testing::HasSubstr("unknown transport 'nope'")) << file << ": " << r.err;
  }
  EXPECT_GE(files, 4);  // default, seed, physical-limit, physical-limit-open-loop
}

}  // namespace
}  // namespace ipcmark
