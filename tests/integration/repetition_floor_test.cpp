// `ipcmark run` as a real process: every repetition carries the floor taken on its own CPUs, the
// row says which floor divides it, and the context sums them up; --no-floor takes none; bad
// --repetitions values are usage errors. No figure is asserted, only that it is there and sane.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/machine/affinity.hpp"
#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

json run_document(std::vector<std::string> args) {
  const std::string out = testing::temp_path("repetition-floor") + ".json";
  args.insert(args.begin(), {"run", "--out", out, "--messages", "300", "--warmup", "30"});
  const testing::CommandResult r = testing::ipcmark(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json document = json::parse(testing::slurp(out), nullptr, false);
  std::remove(out.c_str());
  return document;
}

TEST(RepetitionFloor, EveryPinnedRepetitionCarriesItsOwnFloor) {
  if (allowed_cpus().size() < 2) GTEST_SKIP() << "needs two CPUs";
  const json doc = run_document({"--transports", "shm,pipe", "--pattern", "pingpong", "--sizes", "64", "--wait",
                                 "spin", "--repetitions", "2", "--cpus", "cross"});
  ASSERT_TRUE(doc.is_object());
  int iterations = 0, measured = 0;
  for (const json& row : doc["benchmarks"]) {
    if (row["run_type"] != "iteration") {
      EXPECT_TRUE(row.contains("floor_moved_repetitions")) << row["name"];
      continue;
    }
    ++iterations;
    const bool shm = row["transport"] == "shm";
    EXPECT_EQ(row["x_floor_of"], shm ? "cacheline" : "futex") << row["name"];
    // A floor a loaded machine kept from being taken is null (the row then uses the run's), never 0.
    const json& floor = row["repetition_floor"];
    const auto null_or_positive = [&](const json& figure, const char* side) {
      EXPECT_TRUE(figure.is_null() || figure[side].is_null() || figure[side].get<double>() > 0) << row["name"];
      if (figure.is_object() && figure[side].is_number()) ++measured;
    };
    for (const char* side : {"before", "after"}) {
      null_or_positive(floor["cacheline_rtt_ns"], side);
      if (shm) EXPECT_TRUE(floor["futex_rtt_ns"].is_null()) << "a spin row needs no futex floor";
      else null_or_positive(floor["futex_rtt_ns"], side);
    }
    EXPECT_TRUE(row["floor_moved"].is_boolean());
    EXPECT_GT(row["x_floor"].get<double>(), 0);
  }
  EXPECT_EQ(iterations, 4);
  EXPECT_GT(measured, 0);
  const json& summary = doc["context"]["repetition_floors"]["cross"];
  EXPECT_EQ(summary["repetitions"], 4);
  EXPECT_LE(summary["cacheline_rtt_ns"]["samples"].get<int>(), 8);
  EXPECT_LE(summary["futex_rtt_ns"]["samples"].get<int>(), 4);
  EXPECT_GT(summary["seconds"].get<double>(), 0);
  EXPECT_EQ(doc["context"]["floor_moved_ratio"], 1.3);
}

TEST(RepetitionFloor, NoFloorTakesNone) {
  const json doc = run_document({"--transports", "pipe", "--pattern", "pingpong", "--sizes", "64", "--repetitions",
                                 "1", "--no-floor"});
  ASSERT_TRUE(doc.is_object());
  EXPECT_FALSE(doc["context"].contains("repetition_floors"));
  EXPECT_FALSE(doc["benchmarks"][0].contains("repetition_floor"));
  EXPECT_TRUE(doc["benchmarks"][0]["x_floor"].is_null());
}

TEST(RepetitionFloor, AutoRepetitionsRecordWhereTheyStopped) {
  const json doc = run_document({"--transports", "pipe", "--pattern", "pingpong", "--sizes", "64", "--repetitions",
                                 "auto", "--time-budget", "2", "--no-floor"});
  ASSERT_TRUE(doc.is_object());
  const json& a = doc["context"]["repetitions_auto"];
  EXPECT_EQ(a["ci95_half_width"], 0.02);
  const json& row = a["configurations"]["pipe/pingpong/64/cross"];
  EXPECT_GE(row["repetitions"].get<int>(), 3) << "the scenario's repetitions first";
  EXPECT_TRUE(row["reached"].is_boolean());
  for (const json& r : doc["benchmarks"]) EXPECT_EQ(r["repetitions"], row["repetitions"]) << r["name"];
}

TEST(RepetitionFloor, BadRepetitionsAreUsageErrors) {
  for (const char* bad : {"0", "auto2", "-1", "1001", ""}) {
    const testing::CommandResult r = testing::ipcmark({"run", "--repetitions", bad, "--transports", "pipe"});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_THAT(r.err, ::testing::StartsWith("ipcmark: error: ")) << bad;
  }
  EXPECT_EQ(testing::ipcmark({"run", "--repetitions", "auto", "--ci-width", "0", "--transports", "pipe"}).exit_code, 2);
}

}  // namespace
}  // namespace ipcmark
