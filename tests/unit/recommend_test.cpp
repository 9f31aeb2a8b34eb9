// `ipcmark recommend` as pure functions on fixture results (tests/data/results/
// compare-aa-1.json: shm spin/block, pipe, unix at 64 and 4096 B) and small hand-made
// documents: which constraints pass or fail, ranking, the nearest-size note, the CPU
// model for spinning readers, fanout rows, and bad requests.
#include "harness/views/recommend.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/usage_error.hpp"
#include "tests/support/results.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ResultsDocument aa() { return read_results(std::string(IPCMARK_TEST_DATA) + "/results/compare-aa-1.json"); }
ResultsDocument read(const json& rows) { return read_results(testing::valid_document(rows), "t.json"); }

std::vector<std::string> labels(const std::vector<Candidate>& candidates) {
  std::vector<std::string> out;
  for (const Candidate& c : candidates) out.push_back(c.label);
  return out;
}

const Candidate& find(const std::vector<Candidate>& candidates, const std::string& label) {
  for (const Candidate& c : candidates)
    if (c.label == label) return c;
  throw std::runtime_error("no candidate " + label);
}

json row(const std::string& transport, const std::string& pattern, double size, double p99, double items,
         double cpu, const std::string& wait = "block") {
  return testing::valid_row({{"name", transport + "/" + pattern}, {"run_name", transport + "/" + pattern},
                             {"transport", transport}, {"pattern", pattern}, {"message_size", size}, {"wait", wait},
                             {"error", nullptr}, {"latency_ns", testing::latency_ns(p99 / 2, p99)},
                             {"items_per_second", items}, {"bytes_per_second", items * size}, {"cpu_time", cpu},
                             {"cpu_ns_per_message", {{"server", cpu / 2}, {"client", cpu / 2}}}});
}

TEST(Recommend, LatencyBoundKeepsSharedMemoryAndSaysWhyTheOthersFail) {
  RecommendRequest request{.size = 64, .latency_p99_us = 10.0};
  const Recommendation r = recommend(aa(), request);
  EXPECT_EQ(r.used_size, 64u);
  EXPECT_THAT(labels(r.meeting), ElementsAre("shm/block", "shm/spin"));  // by p99: 974 ns, then 1.02 us
  EXPECT_THAT(labels(r.failing), ElementsAre("pipe", "unix"));
  EXPECT_THAT(find(r.failing, "pipe").failed, ElementsAre("p99 109.34 us > 10.00 us"));
  const std::string text = render_recommendation(r, request, "aa.json");
  EXPECT_THAT(text, HasSubstr(" 1. shm/block  p99 974 ns <= 10.00 us, 1.29 GB/s (20.2 M msgs/s), CPU 104 ns/msg\n"));
  EXPECT_THAT(text, HasSubstr("pipe       fails: p99 109.34 us > 10.00 us\n"));
}

TEST(Recommend, WithoutConstraintsEveryTransportIsRankedByP99) {
  const Recommendation r = recommend(aa(), {.size = 4096});
  EXPECT_THAT(labels(r.meeting), ElementsAre("shm/spin", "shm/block", "pipe", "unix"));
  EXPECT_TRUE(r.failing.empty());
}

TEST(Recommend, AnUnmeasuredSizeUsesTheNearestAndSaysSo) {
  const RecommendRequest request{.size = 1000};
  const Recommendation r = recommend(aa(), request);
  EXPECT_EQ(r.used_size, 4096u);  // 4096/1000 is a smaller ratio than 1000/64
  EXPECT_THAT(r.sizes_present, ElementsAre(64, 4096));
  EXPECT_THAT(render_recommendation(r, request, "aa.json"),
              HasSubstr("no rows at 1000 B; using the nearest size measured, 4096 B (sizes present: 64 4096)"));
  EXPECT_EQ(recommend(aa(), {.size = 100}).used_size, 64u);
}

TEST(Recommend, CpuBudgetCountsASpinningReaderAsAWholeCore) {
  RecommendRequest request{.size = 4096, .throughput_mbps = 100.0, .cpu_budget_percent = 50.0};
  const Recommendation r = recommend(aa(), request);
  EXPECT_THAT(labels(r.meeting), ElementsAre("shm/block", "pipe", "unix"));
  const Candidate& spin = find(r.failing, "shm/spin");
  ASSERT_TRUE(spin.cpu_percent.has_value());
  EXPECT_GT(*spin.cpu_percent, 100.0);
  ASSERT_EQ(spin.failed.size(), 1u);
  EXPECT_THAT(spin.failed[0], HasSubstr("(the reader spins) > 50%"));
  // pipe: 4.09 us/msg at 100e6 / 4096 = 24.4 k msgs/s is 10 % of a core
  EXPECT_NEAR(*find(r.meeting, "pipe").cpu_percent, 4089.0 * 1e8 / 4096 / 1e9 * 100, 1.0);
}

TEST(Recommend, NoneMeetingListsEachFailedConstraint) {
  RecommendRequest request{.size = 4096, .latency_p99_us = 1.0, .throughput_mbps = 50000.0};
  const Recommendation r = recommend(aa(), request);
  EXPECT_TRUE(r.meeting.empty());
  EXPECT_EQ(r.failing.size(), 4u);
  for (const Candidate& c : r.failing) {
    ASSERT_EQ(c.failed.size(), 2u) << c.label;
    EXPECT_THAT(c.failed[0], HasSubstr("> 1.00 us"));
    EXPECT_THAT(c.failed[1], HasSubstr("< 50 GB/s"));
  }
  EXPECT_THAT(render_recommendation(r, request, "aa.json"),
              HasSubstr("none of the 4 measured transport configurations meets the constraints:"));
}

TEST(Recommend, FailedAndOpenLoopRowsAreIgnored) {
  json failed = row("pipe", "pingpong", 64, 100, 10, 10);
  failed["error"] = "peer died";
  json paced = row("shm", "stream", 64, 5, 1000, 10);
  paced["target_rate"] = 1000;
  paced["achieved_rate"] = 990;
  const Recommendation r = recommend(read({row("shm", "pingpong", 64, 900, 1e6, 1500), failed, paced}), {.size = 64});
  EXPECT_THAT(labels(r.meeting), ElementsAre("shm"));
  EXPECT_FALSE(r.meeting[0].messages_per_second.has_value());  // the only stream row was paced
}

TEST(Recommend, SeveralPlacementsAreNamedInTheLabel) {
  json cross = row("pipe", "pingpong", 64, 100000, 1e4, 5e4), same = row("pipe", "pingpong", 64, 5000, 1e5, 8e3);
  cross["placement"] = "cross";
  same["placement"] = "same";
  const Recommendation r = recommend(read({cross, same}), {.size = 64});
  EXPECT_THAT(labels(r.meeting), ElementsAre("pipe/same", "pipe/cross"));
}

TEST(Recommend, ReadersNeedFanoutRows) {
  EXPECT_THROW(recommend(aa(), {.size = 64, .readers = 2}), NoFanoutRows);
  json two = row("shm", "fanout", 64, 2000, 1e6, 300), four = row("pipe", "fanout", 64, 90000, 1e5, 5000);
  two["readers"] = 2;
  four["readers"] = 4;
  const ResultsDocument doc = read({two, four, row("unix", "pingpong", 64, 1e5, 1e4, 1e4)});
  const Recommendation r = recommend(doc, {.size = 64, .latency_p99_us = 10.0, .readers = 2});
  EXPECT_THAT(labels(r.meeting), ElementsAre("shm"));
  EXPECT_TRUE(r.failing.empty());
  EXPECT_EQ(r.latency_kind, "one-way");
  EXPECT_THROW(recommend(doc, {.size = 64, .readers = 3}), NoFanoutRows);
  // A fanout row's 1e6 msgs/s are deliveries to two readers: each reader gets half.
  ASSERT_TRUE(r.meeting[0].messages_per_second.has_value());
  EXPECT_DOUBLE_EQ(*r.meeting[0].messages_per_second, 0.5e6);
}

TEST(Recommend, BadRequestsAreUsageErrors) {
  EXPECT_THROW(recommend(aa(), {.size = 0}), UsageError);
  EXPECT_THROW(recommend(aa(), {.size = 64, .cpu_budget_percent = 50.0}), UsageError);
  EXPECT_THROW(recommend(read_results(json::object(), "t.json"), {.size = 64}), UsageError);
  EXPECT_THROW(recommend(read(json::array()), {.size = 64}), UsageError);
}

}  // namespace
}  // namespace ipcmark
