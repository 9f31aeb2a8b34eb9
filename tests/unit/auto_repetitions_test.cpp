// `--repetitions auto` decides from the repetitions' real_time alone: recorded per-repetition
// times (ns per round trip) in, "within the width or not" out; nothing runs.
#include <gtest/gtest.h>

#include "harness/run/auto_repetitions.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

std::vector<RunResult> repetitions(const std::vector<double>& ns_per_round_trip) {
  std::vector<RunResult> out;
  for (double ns : ns_per_round_trip) {
    RunResult r;
    r.spec.transport = find_transport("shm");
    r.spec.message_size = 64;
    r.spec.wait = WaitKind::Spin;
    r.messages = 1000;
    r.elapsed_ns = static_cast<std::uint64_t>(ns * 1000);
    out.push_back(r);
  }
  return out;
}

TEST(AutoRepetitions, TightRepetitionsAreWithinTheWidth) {
  // shm/pingpong/64/spin/cross on a quiet host: within 1% of each other.
  const auto o = auto_outcomes(repetitions({521, 518, 524, 520, 522}), 0.02);
  ASSERT_EQ(o.size(), 1u);
  const AutoOutcome& only = o.begin()->second;
  EXPECT_EQ(only.repetitions, 5);
  EXPECT_TRUE(only.reached);
  EXPECT_LT(only.half_width, 0.02);
}

TEST(AutoRepetitions, SpreadRepetitionsAreNot) {
  // The same row while the host moved the vCPUs between siblings and two cores.
  const AutoOutcome o = auto_outcomes(repetitions({491, 1105, 502, 1098, 530}), 0.02).begin()->second;
  EXPECT_FALSE(o.reached);
  EXPECT_GT(o.half_width, 0.02);
}

TEST(AutoRepetitions, FewerThanThreeAreNeverWithin) {
  EXPECT_FALSE(auto_outcomes(repetitions({521, 521}), 0.02).begin()->second.reached);
}

TEST(AutoRepetitions, FailedRepetitionsDoNotCount) {
  std::vector<RunResult> runs = repetitions({521, 518, 524, 520});
  runs[1].error = "timed out";
  const AutoOutcome o = auto_outcomes(runs, 0.02).begin()->second;
  EXPECT_EQ(o.repetitions, 3);
}

}  // namespace
}  // namespace ipcmark
