// The built `ipcmark compare` (and `recommend`) on fixture files as a real process: exit
// code 0 when nothing regressed, 1 on a regression, 2 with one line on stderr for every
// bad input. Fixtures: tests/data/results/compare-README.md.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/processes.hpp"

namespace ipcmark {
namespace {

using ::testing::HasSubstr;

std::string fixture(const std::string& name) {
  return std::string(IPCMARK_SOURCE_DIR) + "/tests/data/results/" + name + ".json";
}

TEST(CompareCommand, AToAOfRealRunsExitsZeroAndSaysSo) {
  const auto r = testing::ipcmark({"compare", fixture("compare-aa-1"), fixture("compare-aa-2")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr("16 rows compared: 0 regressions, 0 improvements, 16 same"));
}

TEST(CompareCommand, HolmIsTheDefaultAndCanBeTurnedOff) {
  const auto holm = testing::ipcmark({"compare", fixture("compare-live-aa-1"), fixture("compare-live-aa-2")});
  EXPECT_EQ(holm.exit_code, 0) << holm.out << holm.err;
  EXPECT_THAT(holm.out, HasSubstr("(alpha 0.05, threshold 5%, Holm)"));
  const auto raw = testing::ipcmark(
      {"compare", fixture("compare-live-aa-1"), fixture("compare-live-aa-2"), "--correction", "none"});
  EXPECT_EQ(raw.exit_code, 1) << raw.out << raw.err;  // the false alarm Holm exists to prevent
  EXPECT_THAT(raw.out, HasSubstr("1 regression, 2 improvements, 13 same (alpha 0.05, threshold 5%, no correction)"));
}

TEST(CompareCommand, ATenPercentSlowdownExitsOne) {
  const auto r = testing::ipcmark({"compare", fixture("compare-aa-1"), fixture("compare-shift10")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("| pipe/pingpong/4096 "));
  EXPECT_THAT(r.out, HasSubstr("regression"));
}

TEST(CompareCommand, PooledRoundsPerSideAndJsonOutput) {
  const std::string out = testing::temp_path("compare.json");
  const auto r = testing::ipcmark({"compare", "--base", fixture("compare-3reps-1"), "--base", fixture("compare-3reps-2"),
                                   "--new", fixture("compare-shift10"), "--threshold", "5", "--alpha", "0.05",
                                   "--json", out});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto j = nlohmann::json::parse(testing::slurp(out));
  std::remove(out.c_str());
  EXPECT_EQ(j["base"].size(), 2u);
  EXPECT_EQ(j["rows"].size(), 16u);
  EXPECT_EQ(j["rows"][0]["base_repetitions"], 6);
  EXPECT_GT(j["regressions"].get<int>(), 0);
}

TEST(CompareCommand, RowsOnlyOnOneSideAreListed) {
  const auto r = testing::ipcmark({"compare", fixture("compare-aa-1"), fixture("compare-missing-rows")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("only in BASE, not compared: unix/pingpong/64"));
  EXPECT_THAT(r.out, HasSubstr("only in NEW, not compared: tcp/pingpong/64"));
}

TEST(CompareCommand, ThreeRepetitionsPerSidePrintTheTableThenRefuseToPass) {
  const auto r = testing::ipcmark({"compare", fixture("compare-3reps-1"), fixture("compare-3reps-2")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("too few repetitions: need >= 6 per side"));
  EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ipcmark: error: no row has enough repetitions to test: need >= 6 per side at "
                               "--alpha 0.05 over 16 rows (Holm)"));
}

struct BadCompare {
  std::string tag;  // the test's name
  std::vector<std::string> args;
  std::string named;
};

std::string tag_of(const ::testing::TestParamInfo<BadCompare>& info) { return info.param.tag; }

void PrintTo(const BadCompare& b, std::ostream* os) {
  for (const std::string& a : b.args) *os << a << ' ';
}

class BadCompareInputs : public ::testing::TestWithParam<BadCompare> {};

TEST_P(BadCompareInputs, ExitTwoWithOneLineNamingTheProblem) {
  const auto r = testing::ipcmark(GetParam().args, 30);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ipcmark: error: "));
  EXPECT_THAT(r.err, HasSubstr(GetParam().named));
}

INSTANTIATE_TEST_SUITE_P(
    Compare, BadCompareInputs,
    ::testing::Values(
        BadCompare{"missing_file", {"compare", "/nonexistent/base.json", fixture("compare-aa-2")}, "/nonexistent/base.json"},
        BadCompare{"malformed_json", {"compare", fixture("compare-aa-1"), fixture("compare-malformed")}, "is not valid JSON"},
        BadCompare{"unsupported_schema", {"compare", fixture("compare-aa-1"), fixture("compare-schema99")}, "json_schema_version 99"},
        BadCompare{"schema_mismatch", {"compare", fixture("compare-3reps-1"), fixture("compare-schema2")}, "json_schema_version"},
        BadCompare{"no_common_rows", {"compare", fixture("compare-aa-1"), fixture("compare-disjoint")}, "no common rows"},
        BadCompare{"one_file", {"compare", fixture("compare-aa-1")}, "expected two files"},
        BadCompare{"no_files", {"compare"}, "nothing to compare"},
        BadCompare{"base_without_new", {"compare", "--base", fixture("compare-aa-1")}, "nothing to compare"},
        BadCompare{"positional_and_new", {"compare", fixture("compare-aa-1"), fixture("compare-aa-2"), "--new", fixture("compare-aa-2")},
                   "not both"},
        BadCompare{"same_file_twice", {"compare", "--base", fixture("compare-aa-1"), "--base", fixture("compare-aa-1"), "--new",
                    fixture("compare-aa-2")},
                   "given twice"},
        BadCompare{"alpha_out_of_range", {"compare", fixture("compare-aa-1"), fixture("compare-aa-2"), "--alpha", "1.5"}, "--alpha"},
        BadCompare{"negative_threshold", {"compare", fixture("compare-aa-1"), fixture("compare-aa-2"), "--threshold", "-1"}, "--threshold"},
        BadCompare{"threshold_not_a_number", {"compare", fixture("compare-aa-1"), fixture("compare-aa-2"), "--threshold", "five"}, "five"},
        BadCompare{"unwritable_json", {"compare", fixture("compare-aa-1"), fixture("compare-aa-2"), "--json", "/nonexistent/dir/c.json"},
                   "/nonexistent/dir/c.json"},
        BadCompare{"unknown_correction", {"compare", fixture("compare-aa-1"), fixture("compare-aa-2"), "--correction",
                                          "bonferroni"},
                   "bonferroni"}),
    tag_of);


// ---- recommend ---------------------------------------------------------------------------

TEST(RecommendCommand, RanksTheTransportsOfAResultsFile) {
  const auto r = testing::ipcmark({"recommend", "--results", fixture("compare-aa-1"), "--size", "64",
                                   "--latency-p99-us", "10"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(" 1. shm/block  p99 974 ns <= 10.00 us"));
  EXPECT_THAT(r.out, HasSubstr("pipe       fails: p99 109.34 us > 10.00 us"));
}

TEST(RecommendCommand, ExitsOneWhenNoneMeetsOrReadersHaveNoFanoutRows) {
  const auto none = testing::ipcmark({"recommend", "--results", fixture("compare-aa-1"), "--size", "4096",
                                      "--throughput-mbps", "50000"});
  EXPECT_EQ(none.exit_code, 1) << none.out << none.err;
  EXPECT_THAT(none.out, HasSubstr("none of the 4 measured transport configurations meets the constraints"));
  const auto readers = testing::ipcmark({"recommend", "--results", fixture("compare-aa-1"), "--size", "64",
                                         "--readers", "3"});
  EXPECT_EQ(readers.exit_code, 1) << readers.out << readers.err;
  EXPECT_THAT(readers.out, HasSubstr("has no fanout rows"));
}

class BadRecommendInputs : public ::testing::TestWithParam<BadCompare> {};

TEST_P(BadRecommendInputs, ExitTwoWithOneLineNamingTheProblem) {
  const auto r = testing::ipcmark(GetParam().args, 30);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(GetParam().named));
}

INSTANTIATE_TEST_SUITE_P(
    Recommend, BadRecommendInputs,
    ::testing::Values(
        BadCompare{"size_zero", {"recommend", "--results", fixture("compare-aa-1"), "--size", "0"}, "--size"},
        BadCompare{"size_missing", {"recommend", "--results", fixture("compare-aa-1")}, "--size"},
        BadCompare{"missing_results", {"recommend", "--results", "/nonexistent/r.json", "--size", "64"}, "/nonexistent/r.json"},
        BadCompare{"malformed_results", {"recommend", "--results", fixture("compare-malformed"), "--size", "64"}, "not valid JSON"},
        BadCompare{"cpu_budget_without_throughput", {"recommend", "--results", fixture("compare-aa-1"), "--size", "64", "--cpu-budget-percent", "5"},
                   "--throughput-mbps"},
        BadCompare{"negative_latency", {"recommend", "--results", fixture("compare-aa-1"), "--size", "64", "--latency-p99-us", "-1"},
                   "--latency-p99-us"}),
    tag_of);

}  // namespace
}  // namespace ipcmark
