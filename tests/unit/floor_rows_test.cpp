// Which floor each row is divided by, and how a repetition's own floor reaches its row, the
// aggregates and the context. The floors are recorded figures (ns) set on RunResults by hand:
// nothing here is measured or timed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/results/context.hpp"
#include "harness/results/writer.hpp"
#include "harness/run/floor_choice.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

RunSpec spec_of(const char* transport, Pattern pattern, WaitKind wait, Placement placement) {
  RunSpec spec;
  spec.transport = find_transport(transport);
  spec.pattern = pattern;
  spec.message_size = 64;
  spec.wait = wait;
  spec.repetitions = 3;
  spec.placement = {placement, placement == Placement::Same ? CpuPair{0, 0} : CpuPair{0, 1}};
  return spec;
}

// A successful pingpong repetition whose round trips are all `rtt_ns`, with its own floor.
RunResult repetition(const RunSpec& spec, int index, std::uint64_t rtt_ns, std::optional<RepetitionFloor> floor) {
  RunResult r;
  r.spec = spec;
  r.repetition_index = index;
  r.messages = 1000;
  r.elapsed_ns = 1000 * rtt_ns;
  for (int i = 0; i < 1000; ++i) r.latency.record(rtt_ns);
  r.floor = floor;
  return r;
}

RepetitionFloor cacheline(double before, double after) { return {{before, std::nullopt}, {after, std::nullopt}}; }

TEST(FloorChoice, BusyPollAcrossCpusTakesTheCacheLine) {
  EXPECT_EQ(x_floor_of(spec_of("shm", Pattern::Pingpong, WaitKind::Spin, Placement::Cross)), FloorKind::Cacheline);
  EXPECT_EQ(x_floor_of(spec_of("shm", Pattern::Pingpong, WaitKind::Spin, Placement::Unpinned)), FloorKind::Cacheline);
  // shm's block polls before it sleeps: across CPUs its round trips are caught polling.
  EXPECT_EQ(x_floor_of(spec_of("shm", Pattern::Pingpong, WaitKind::Block, Placement::Cross)), FloorKind::Cacheline);
}

TEST(FloorChoice, BlockingWaitsAndKernelTransportsTakeTheFutex) {
  for (WaitKind wait : {WaitKind::Futex, WaitKind::Eventfd, WaitKind::Sem, WaitKind::Uds})
    EXPECT_EQ(x_floor_of(spec_of("shm", Pattern::Pingpong, wait, Placement::Cross)), FloorKind::Futex)
        << to_string(wait);
  for (const char* kernel : {"pipe", "unix", "tcp", "mq"})
    EXPECT_EQ(x_floor_of(spec_of(kernel, Pattern::Pingpong, WaitKind::Block, Placement::Cross)), FloorKind::Futex)
        << kernel;
  // iceoryx's block sleeps at once.
  EXPECT_EQ(x_floor_of(spec_of("iceoryx", Pattern::Pingpong, WaitKind::Block, Placement::Cross)), FloorKind::Futex);
  // Spinning or polling on one CPU hands over through the scheduler.
  EXPECT_EQ(x_floor_of(spec_of("shm", Pattern::Pingpong, WaitKind::Spin, Placement::Same)), FloorKind::Futex);
  EXPECT_EQ(x_floor_of(spec_of("shm", Pattern::Pingpong, WaitKind::Block, Placement::Same)), FloorKind::Futex);
}

TEST(FloorChoice, StreamsTakeMemcpyAndOneshotNone) {
  EXPECT_EQ(x_floor_of(spec_of("shm", Pattern::Stream, WaitKind::Spin, Placement::Cross)), FloorKind::Memcpy);
  EXPECT_EQ(x_floor_of(spec_of("pipe", Pattern::Fanout, WaitKind::Block, Placement::Cross)), FloorKind::Memcpy);
  EXPECT_EQ(x_floor_of(spec_of("shm", Pattern::Oneshot, WaitKind::Spin, Placement::Cross)), FloorKind::None);
  EXPECT_EQ(to_string(FloorKind::Memcpy), "memcpy");
}

TEST(FloorRows, EachRepetitionIsDividedByItsOwnFloor) {
  const RunSpec spin = spec_of("shm", Pattern::Pingpong, WaitKind::Spin, Placement::Cross);
  // Recorded: the same round trip while the vCPUs were siblings (~50 ns) and apart (~110 ns).
  const json row = iteration_row(repetition(spin, 0, 500, cacheline(49, 51)), {{"cacheline_rtt_ns", 250.0}});
  EXPECT_EQ(row["x_floor_of"], "cacheline");
  EXPECT_NEAR(row["x_floor"].get<double>(), 500.0 / 50.0, 0.05);
  EXPECT_EQ(row["repetition_floor"]["cacheline_rtt_ns"]["before"], 49.0);
  EXPECT_EQ(row["repetition_floor"]["cacheline_rtt_ns"]["after"], 51.0);
  EXPECT_TRUE(row["repetition_floor"]["futex_rtt_ns"].is_null());
  EXPECT_EQ(row["floor_moved"], false);

  // Without a floor of its own: the run's floor of the placement.
  const json fallback = iteration_row(repetition(spin, 1, 500, std::nullopt), {{"cacheline_rtt_ns", 250.0}});
  EXPECT_NEAR(fallback["x_floor"].get<double>(), 2.0, 0.01);
  EXPECT_FALSE(fallback.contains("repetition_floor"));
  EXPECT_FALSE(fallback.contains("floor_moved"));
}

TEST(FloorRows, KernelTransportsAreDividedByTheFutexRoundTrip) {
  const RunSpec pipe = spec_of("pipe", Pattern::Pingpong, WaitKind::Block, Placement::Cross);
  // Recorded around a pipe/pingpong/64/cross repetition: cache line ~500 ns, futex ~39 us.
  const RepetitionFloor floor{{505.3, 38'723.0}, {492.2, 40'410.0}};
  const json row = iteration_row(repetition(pipe, 0, 40'000, floor), {{"cacheline_rtt_ns", 500.0}});
  EXPECT_EQ(row["x_floor_of"], "futex");
  EXPECT_NEAR(row["x_floor"].get<double>(), 40'000.0 / ((38'723.0 + 40'410.0) / 2), 0.01);
}

TEST(FloorRows, AMovedRepetitionIsFlaggedAndKept) {
  const RunSpec spin = spec_of("shm", Pattern::Pingpong, WaitKind::Spin, Placement::Cross);
  const std::vector<RunResult> runs{repetition(spin, 0, 500, cacheline(110, 112)),
                                    repetition(spin, 1, 500, cacheline(49, 117)),
                                    repetition(spin, 2, 520, cacheline(108, 111))};
  const json doc = results_document(json::object(), runs);
  const json& rows = doc["benchmarks"];
  EXPECT_EQ(rows[0]["floor_moved"], false);
  EXPECT_EQ(rows[1]["floor_moved"], true);
  EXPECT_TRUE(rows[1]["x_floor"].is_number()) << "kept, over the mean of before and after";
  const json& median = rows[4];
  ASSERT_EQ(median["aggregate_name"], "median");
  EXPECT_EQ(median["iterations"], 3) << "the moved repetition is aggregated";
  EXPECT_EQ(median["floor_moved_repetitions"], 1);
}

TEST(FloorRows, AggregatesAggregateThePerRepetitionFigures) {
  const RunSpec spin = spec_of("shm", Pattern::Pingpong, WaitKind::Spin, Placement::Cross);
  // Equal raw round trips, floors that moved between repetitions: x_floor 10, 5 and 4.
  const std::vector<RunResult> runs{repetition(spin, 0, 500, cacheline(50, 50)),
                                    repetition(spin, 1, 500, cacheline(100, 100)),
                                    repetition(spin, 2, 500, cacheline(125, 125))};
  const std::vector<json> rows = aggregate_rows(runs, json::object());
  ASSERT_EQ(rows.size(), 4u);
  const double xs[] = {rows[0]["x_floor"].get<double>(), rows[1]["x_floor"].get<double>(),
                       rows[2]["x_floor"].get<double>(), rows[3]["x_floor"].get<double>()};
  EXPECT_NEAR(xs[0], (10 + 5 + 4) / 3.0, 0.05);  // mean
  EXPECT_NEAR(xs[1], 5, 0.02);                   // median
  EXPECT_GT(xs[2], 3);                           // stddev of 10, 5, 4: 3.2
  EXPECT_NEAR(xs[3], xs[2] / xs[0], 1e-9);       // cv
  EXPECT_EQ(rows[1]["x_floor_of"], "cacheline");
  EXPECT_EQ(rows[1]["floor_moved_repetitions"], 0);
}

TEST(FloorRows, ContextSummarisesTheFloorsAroundRepetitionsAndTheirClusters) {
  const RunSpec spin = spec_of("shm", Pattern::Pingpong, WaitKind::Spin, Placement::Cross);
  std::vector<RunResult> runs;
  const double siblings[] = {49, 50, 52, 48}, apart[] = {110, 117, 108, 112, 105};
  for (double f : siblings) runs.push_back(repetition(spin, int(runs.size()), 500, cacheline(f, f + 1)));
  for (double f : apart) runs.push_back(repetition(spin, int(runs.size()), 500, cacheline(f, f - 1)));
  runs.push_back(repetition(spin, int(runs.size()), 500, cacheline(49, 117)));  // moved: its mean is 83
  json context = json::object();  // no floor_by_placement: finish_context measures nothing
  finish_context(context, std::span<const RunSpec>(&spin, 1), runs, false);

  const json& cross = context["repetition_floors"]["cross"];
  EXPECT_EQ(cross["repetitions"], 10);
  EXPECT_EQ(cross["moved"], 1);
  EXPECT_EQ(cross["cacheline_rtt_ns"]["samples"], 20);
  EXPECT_EQ(cross["cacheline_rtt_ns"]["low"], 48.0);
  EXPECT_EQ(cross["cacheline_rtt_ns"]["high"], 117.0);
  EXPECT_TRUE(cross["futex_rtt_ns"].is_null());
  EXPECT_EQ(context["floor_moved_ratio"], kFloorMovedRatio);

  const json& clusters = context["floor_clusters"]["cross"]["clusters"];
  ASSERT_EQ(clusters.size(), 2u);
  EXPECT_EQ(clusters[0]["label"], "two hyperthreads of one core");
  EXPECT_EQ(clusters[0]["repetitions"], 4);
  EXPECT_EQ(clusters[1]["label"], "two cores");
  EXPECT_EQ(clusters[1]["repetitions"], 6);

  // Rows written with that context say which cluster each repetition fell in.
  const json doc = results_document(context, runs);
  EXPECT_EQ(doc["benchmarks"][0]["floor_cluster"], "two hyperthreads of one core");
  EXPECT_EQ(doc["benchmarks"][5]["floor_cluster"], "two cores");
}

}  // namespace
}  // namespace ipcmark
