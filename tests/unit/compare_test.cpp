// `ipcmark compare` as pure functions: the Mann–Whitney test against values computed
// with scipy.stats.mannwhitneyu, verdict rules, row pooling, schema checks, and the table
// on real fixture pairs (A/A quiet, a synthetic +10 % caught; tests/data/results/
// compare-README.md says how each fixture was made). Golden tables are regenerated with
//   IPCMARK_UPDATE_GOLDEN=1 ctest --test-dir BUILD -R Compare
// and the diff read before committing.
#include "harness/views/compare.hpp"
#include "harness/views/units.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <numeric>
#include <sstream>

#include "harness/usage_error.hpp"
#include "tests/support/results.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::string kData = IPCMARK_TEST_DATA;


std::vector<ResultsDocument> fixture(const std::string& name) {
  return {read_results(kData + "/results/" + name + ".json")};
}

Comparison compare_fixtures(const std::string& base, const std::string& next, CompareOptions options = {}) {
  return compare_rows(pool_rows(fixture(base)), pool_rows(fixture(next)), options);
}

const RowComparison& row(const Comparison& c, const std::string& name) {
  for (const RowComparison& r : c.rows)
    if (r.name == name) return r;
  throw std::runtime_error("no row " + name);
}

void expect_golden(const std::string& actual, const std::string& golden_name) {
  testing::expect_golden(actual, kData + "/golden/" + golden_name);
}

// A document with one iteration row per value, all named `name`.
json document_of(const std::string& name, const std::vector<double>& values, int schema = 1) {
  json rows = json::array();
  for (std::size_t i = 0; i < values.size(); ++i)
    rows.push_back(testing::valid_row({{"name", name}, {"run_name", name}, {"repetitions", values.size()},
                                       {"repetition_index", i}, {"real_time", values[i]}, {"cpu_time", values[i]},
                                       {"error", nullptr}}));
  return testing::valid_document(rows, schema);
}

std::vector<RowSample> samples(const std::string& name, const std::vector<double>& values) {
  return pool_rows({read_results(document_of(name, values), "test")});
}

// ---- the test itself ---------------------------------------------------------------------

TEST(CompareMannWhitney, SeparatedSamplesOfThreeGiveExactlyOneTwentieth) {
  const MannWhitney t = mann_whitney({1, 2, 3}, {4, 5, 6});
  EXPECT_TRUE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 9);
  EXPECT_DOUBLE_EQ(t.p_slower, 1.0 / 20);  // the smallest p 3 and 3 repetitions can give
  EXPECT_DOUBLE_EQ(t.p_faster, 1.0);
}

TEST(CompareMannWhitney, ExactPMatchesScipyForInterleavedSamples) {
  // scipy.stats.mannwhitneyu(new, base, alternative='greater'|'less', method='exact')
  const MannWhitney t = mann_whitney({10, 12, 14, 16, 18}, {11, 15, 17, 19, 21, 23});
  EXPECT_TRUE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 23);
  EXPECT_NEAR(t.p_slower, 0.08874458874458874, 1e-12);
  EXPECT_NEAR(t.p_faster, 0.9372294372294373, 1e-12);
}

TEST(CompareMannWhitney, TiesUseTheNormalApproximationWithTieCorrectionLikeScipy) {
  // method='asymptotic', use_continuity=True
  const MannWhitney t = mann_whitney({1, 2, 2, 3, 3, 3, 4}, {2, 3, 3, 4, 4, 5, 5, 6});
  EXPECT_FALSE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 45);
  EXPECT_NEAR(t.p_slower, 0.02494221848996294, 1e-9);
  EXPECT_NEAR(t.p_faster, 0.98122802559914, 1e-9);
}

TEST(CompareMannWhitney, LargeSamplesUseTheNormalApproximation) {
  std::vector<double> base(60), next(60);
  std::iota(base.begin(), base.end(), 0.0);
  for (std::size_t i = 0; i < next.size(); ++i) next[i] = double(i) + 5.5;
  const MannWhitney t = mann_whitney(base, next);
  EXPECT_FALSE(t.exact);
  EXPECT_NEAR(t.p_slower, 0.049400239960017425, 1e-9);  // scipy asymptotic; exact is 0.04946
}

TEST(CompareMannWhitney, IdenticalValuesGiveNoEvidenceEitherWay) {
  const MannWhitney t = mann_whitney({5, 5, 5, 5}, {5, 5, 5, 5});
  EXPECT_DOUBLE_EQ(t.p_slower, 1.0);
  EXPECT_DOUBLE_EQ(t.p_faster, 1.0);
}

TEST(CompareMannWhitney, SmallestPIsOneOverTheBinomialCoefficient) {
  EXPECT_DOUBLE_EQ(smallest_p(3, 3), 1.0 / 20);
  EXPECT_DOUBLE_EQ(smallest_p(4, 4), 1.0 / 70);
  EXPECT_DOUBLE_EQ(smallest_p(3, 5), 1.0 / 56);
  EXPECT_EQ(repetitions_needed(0.05), 4u);
  EXPECT_EQ(repetitions_needed(0.01), 5u);  // 1/70 = 0.0143 is not below 0.01; 1/252 is
}

TEST(CompareMannWhitney, HolmAdjustsStepDownLikeRsPAdjust) {
  // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
  const std::vector<double> adjusted = holm_adjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(adjusted.size(), 4u);
  EXPECT_DOUBLE_EQ(adjusted[0], 0.03);
  EXPECT_DOUBLE_EQ(adjusted[1], 0.06);
  EXPECT_DOUBLE_EQ(adjusted[2], 0.06);
  EXPECT_DOUBLE_EQ(adjusted[3], 0.02);
  EXPECT_DOUBLE_EQ(holm_adjust({0.9, 0.8})[0], 1.0);  // capped at 1
}

// ---- verdicts ----------------------------------------------------------------------------

TEST(CompareVerdict, ThreeRepetitionsPerSideAreTooFewEvenForAHugeShift) {
  const Comparison c = compare_rows(samples("x", {100, 101, 102}), samples("x", {200, 201, 202}), {});
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.rows[0].verdict, Verdict::TooFew);
  EXPECT_THAT(render_table(c), HasSubstr("too few repetitions: need >= 4 per side"));
}

TEST(CompareVerdict, SignificantAndAboveThresholdIsARegression) {
  const Comparison c = compare_rows(samples("x", {100, 101, 102, 103}), samples("x", {110, 111, 112, 113}), {});
  EXPECT_EQ(c.rows[0].verdict, Verdict::Regression);
  EXPECT_NEAR(c.rows[0].change_percent, 9.85, 0.01);  // medians 101.5 -> 111.5
  EXPECT_DOUBLE_EQ(c.rows[0].p_value(), 1.0 / 70);
}

TEST(CompareVerdict, SignificantButBelowThresholdIsTheSame) {
  const Comparison c = compare_rows(samples("x", {100, 100.1, 100.2, 100.3}), samples("x", {102, 102.1, 102.2, 102.3}), {});
  EXPECT_LT(c.rows[0].test.p_slower, 0.05);
  EXPECT_EQ(c.rows[0].verdict, Verdict::Same);
}

TEST(CompareVerdict, ALargeButNoisyChangeIsTheSame) {
  const Comparison c = compare_rows(samples("x", {100, 150, 90, 200}), samples("x", {95, 210, 180, 120}), {});
  EXPECT_GT(c.rows[0].change_percent, 5.0);
  EXPECT_GE(c.rows[0].test.p_slower, 0.05);
  EXPECT_EQ(c.rows[0].verdict, Verdict::Same);
}

TEST(CompareVerdict, SignificantlyFasterBeyondThresholdIsAnImprovement) {
  const Comparison c = compare_rows(samples("x", {110, 111, 112, 113}), samples("x", {100, 101, 102, 103}), {});
  EXPECT_EQ(c.rows[0].verdict, Verdict::Improvement);
  EXPECT_DOUBLE_EQ(c.rows[0].p_value(), 1.0 / 70);
}

TEST(CompareVerdict, ThresholdAndAlphaAreHonoured) {
  const auto base = samples("x", {100, 101, 102, 103}), next = samples("x", {110, 111, 112, 113});
  EXPECT_EQ(compare_rows(base, next, {.threshold_percent = 15}).rows[0].verdict, Verdict::Same);
  EXPECT_EQ(compare_rows(base, next, {.threshold_percent = 5, .alpha = 0.01}).rows[0].verdict, Verdict::TooFew);
}

TEST(CompareVerdict, RowsOnOneSideAreListedNotCompared) {
  const Comparison c = compare_fixtures("compare-aa-1", "compare-missing-rows");
  EXPECT_THAT(c.only_in_base, ::testing::ElementsAre("unix/pingpong/64", "unix/pingpong/4096", "unix/stream/64",
                                                     "unix/stream/4096"));
  EXPECT_THAT(c.only_in_new, ::testing::ElementsAre("tcp/pingpong/64", "tcp/pingpong/4096", "tcp/stream/64",
                                                    "tcp/stream/4096"));
  EXPECT_EQ(c.rows.size(), 12u);
  for (const RowComparison& r : c.rows) EXPECT_NE(r.name.rfind("unix/", 0), 0u) << r.name;
  const std::string table = render_table(c);
  EXPECT_THAT(table, HasSubstr("only in BASE, not compared: unix/pingpong/64, unix/pingpong/4096"));
  EXPECT_THAT(table, HasSubstr("only in NEW, not compared: tcp/pingpong/64"));
}

// ---- pooling rows ------------------------------------------------------------------------

TEST(ComparePool, SkipsFailedAndAggregateRowsAndCountsFailures) {
  json doc = document_of("x", {100, 200, 300});
  doc["benchmarks"][1]["error"] = "peer died";
  doc["benchmarks"].push_back(testing::valid_row(
      {{"name", "x"}, {"error_occurred", true}, {"error_message", "peer died"}, {"real_time", 9}}));
  doc["benchmarks"].push_back(testing::valid_row(
      {{"name", "x_median"}, {"run_type", "aggregate"}, {"aggregate_name", "median"}, {"real_time", 200}}));
  const auto rows = pool_rows({read_results(doc, "t")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0].values, ::testing::ElementsAre(100, 300));
  EXPECT_EQ(rows[0].failed, 2);
}

TEST(ComparePool, PoolsRepetitionsOfEveryFileOnASide) {
  const auto rows =
      pool_rows({read_results(document_of("x", {1, 2}), "a"), read_results(document_of("x", {3}), "b")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0].values, ::testing::ElementsAre(1, 2, 3));
}

TEST(ComparePool, ConvertsTimeUnitsToNanoseconds) {
  json doc = document_of("x", {1.5});
  doc["benchmarks"][0]["time_unit"] = "us";
  EXPECT_THAT(pool_rows({read_results(doc, "t")})[0].values, ::testing::ElementsAre(1500));
  doc["benchmarks"][0]["time_unit"] = "fortnights";
  EXPECT_THROW(
      {
        try {
          pool_rows({read_results(doc, "t.json")});
        } catch (const UsageError& e) {
          EXPECT_THAT(e.what(), HasSubstr("fortnights"));
          throw;
        }
      },
      UsageError);
}

TEST(ComparePool, OpenLoopRowsAreComparedOnMedianLatency) {
  json doc = document_of("shm/stream/64/spin/cross/rate=100000", {10000});
  doc["benchmarks"][0]["target_rate"] = 100000;
  doc["benchmarks"][0]["achieved_rate"] = 99000;
  doc["benchmarks"][0]["latency_ns"] = testing::latency_ns(850, 2000);
  const auto rows = pool_rows({read_results(doc, "t")});
  EXPECT_EQ(rows[0].metric, "latency_p50");
  EXPECT_THAT(rows[0].values, ::testing::ElementsAre(850));
}

TEST(ComparePool, ARowWithoutRealTimeIsBadInputNamingIt) {
  json doc = document_of("x", {1});
  doc["benchmarks"][0].erase("real_time");
  try {
    pool_rows({read_results(doc, "b.json")});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("b.json: benchmarks[0] 'x': 'real_time' is missing"));
  }
}

// ---- schema ------------------------------------------------------------------------------

TEST(CompareSchema, RejectsFilesThatAreNotResults) {
  EXPECT_THROW(read_results(json::array(), "a.json"), UsageError);
  EXPECT_THROW(read_results({{"benchmarks", json::array()}}, "a.json"), UsageError);  // no schema version
  EXPECT_THROW(read_results(document_of("x", {1}, 99), "a.json"), UsageError);
  EXPECT_THROW(read_results(document_of("x", {1}, 0), "a.json"), UsageError);
  try {
    read_results(document_of("x", {1}, 99), "a.json");
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("a.json: unsupported json_schema_version 99"));
  }
}

TEST(CompareSchema, DifferentVersionsBetweenFilesAreRejected) {
  std::vector<ResultsDocument> files(2);
  files[0].source = "a.json";
  files[0].context.schema_version = 1;
  files[1].source = "b.json";
  files[1].context.schema_version = 2;
  try {
    require_same_schema(files);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("a.json has 1, b.json has 2"));
  }
  files[1].context.schema_version = 1;
  EXPECT_NO_THROW(require_same_schema(files));
}

TEST(CompareSchema, MissingAndMalformedFilesAreOneLineErrors) {
  try {
    read_results("/nonexistent/base.json");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/base.json"));
  }
  try {
    fixture("compare-malformed");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("compare-malformed.json is not valid JSON: parse error"));
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

// ---- real fixtures -----------------------------------------------------------------------

TEST(CompareFixtures, AnAToAComparisonOfRealRunsFlagsNothing) {
  const Comparison c = compare_fixtures("compare-aa-1", "compare-aa-2");
  EXPECT_EQ(c.rows.size(), 16u);
  EXPECT_EQ(c.count(Verdict::Regression), 0u);
  EXPECT_EQ(c.count(Verdict::Improvement), 0u);
  EXPECT_EQ(c.count(Verdict::TooFew), 0u);
  expect_golden(render_table(c), "compare-aa.txt");
}

TEST(CompareFixtures, ATenPercentSlowdownIsCaught) {
  const Comparison c = compare_fixtures("compare-aa-1", "compare-shift10");
  EXPECT_EQ(c.count(Verdict::Improvement), 0u);
  EXPECT_GE(c.count(Verdict::Regression), 4u);  // of 16 at 6 repetitions, after Holm: the steadiest
  for (const char* steady : {"shm/pingpong/4096/spin", "pipe/pingpong/4096", "pipe/stream/4096", "unix/pingpong/4096"})
    EXPECT_EQ(row(c, steady).verdict, Verdict::Regression) << steady;
  for (const RowComparison& r : c.rows)
    if (r.verdict == Verdict::Regression) {
      EXPECT_GT(r.change_percent, 5.0) << r.name;
      EXPECT_LT(r.p_value(), 0.05) << r.name;
    }
  expect_golden(render_table(c), "compare-shift10.txt");
  // Without the correction, every row whose own p is below alpha counts.
  const Comparison raw = compare_fixtures("compare-aa-1", "compare-shift10", {.correction = Correction::None});
  EXPECT_GE(raw.count(Verdict::Regression), 12u);
  EXPECT_EQ(raw.count(Verdict::Improvement), 0u);
}

TEST(CompareFixtures, HolmKeepsANoisyRealAToAQuietWhereRawPValuesFlagRows) {
  // Two back-to-back runs of one build on the shared, loaded machine (load 3.8 on 2 vCPUs):
  // tested row by row at alpha, 3 of 16 rows pass both the test and the 5 % threshold.
  const Comparison raw = compare_fixtures("compare-live-aa-1", "compare-live-aa-2", {.correction = Correction::None});
  EXPECT_EQ(raw.count(Verdict::Regression), 1u);
  EXPECT_EQ(raw.count(Verdict::Improvement), 2u);
  EXPECT_EQ(row(raw, "unix/stream/64/cross").verdict, Verdict::Regression);
  const Comparison holm = compare_fixtures("compare-live-aa-1", "compare-live-aa-2");
  EXPECT_EQ(holm.family, 16u);
  EXPECT_EQ(holm.count(Verdict::Regression), 0u);
  EXPECT_EQ(holm.count(Verdict::Improvement), 0u);
  EXPECT_EQ(holm.count(Verdict::TooFew), 0u);
  expect_golden(render_table(holm), "compare-live-aa.txt");
}

TEST(CompareFixtures, TheShiftAgainstItsOwnSourceIsCaughtWhereRepetitionsSpreadLessThanTenPercent) {
  // compare-shift10 is compare-aa-2 x 1.10: every median moves by exactly 10 %, and where a
  // row's repetitions spread by less than 10 % (max/min < 1.1) the two samples separate
  // completely, which is the smallest p the test can give.
  const std::vector<RowSample> base = pool_rows(fixture("compare-aa-2"));
  const Comparison c = compare_rows(base, pool_rows(fixture("compare-shift10")), {});
  std::size_t quiet = 0;
  for (std::size_t i = 0; i < c.rows.size(); ++i) {
    const RowComparison& r = c.rows[i];
    EXPECT_NEAR(r.change_percent, 10.0, 1e-6) << r.name;
    EXPECT_NE(r.verdict, Verdict::Improvement) << r.name;
    const auto [lo, hi] = std::minmax_element(base[i].values.begin(), base[i].values.end());
    if (*hi / *lo < 1.10) {
      ++quiet;
      EXPECT_DOUBLE_EQ(r.test.p_slower, smallest_p(6, 6)) << r.name;
      EXPECT_EQ(r.verdict, Verdict::Regression) << r.name;
    }
  }
  EXPECT_GE(quiet, 4u);  // the fixture has steady rows, so the check means something
}

TEST(CompareFixtures, PoolingTwoFilesPerSideDoublesTheSample) {
  const Comparison c = compare_rows(pool_rows({fixture("compare-3reps-1")[0], fixture("compare-3reps-2")[0]}),
                                    pool_rows(fixture("compare-shift10")), {});
  EXPECT_EQ(row(c, "pipe/pingpong/64").base_n, 6u);
  EXPECT_NE(row(c, "pipe/pingpong/64").verdict, Verdict::TooFew);
}

TEST(CompareFixtures, ThreeRepetitionsPerSideAreAllTooFewAndSaySo) {
  const Comparison c = compare_fixtures("compare-3reps-1", "compare-3reps-2");
  EXPECT_EQ(c.count(Verdict::TooFew), c.rows.size());
  EXPECT_EQ(c.repetitions_needed(), 6u);  // 1/C(12, 6) = 0.0011 < 0.05 / 16; 1/C(10, 5) = 0.004 is not
  const std::string table = render_table(c);
  EXPECT_THAT(table, HasSubstr("too few repetitions: need >= 6 per side"));
  EXPECT_THAT(table, HasSubstr("(3 and 3: 1/20 = 0.05); at alpha 0.05 over 16 rows (Holm) each side needs >= 6"));
  EXPECT_THAT(table, HasSubstr("16 with too few repetitions"));
  const Comparison raw = compare_fixtures("compare-3reps-1", "compare-3reps-2", {.correction = Correction::None});
  EXPECT_EQ(raw.count(Verdict::TooFew), raw.rows.size());  // 1/20 is not below 0.05 either
  EXPECT_EQ(raw.repetitions_needed(), 4u);
}

TEST(CompareFixtures, JsonCarriesEveryRowAndTheCounts) {
  Comparison c = compare_fixtures("compare-aa-1", "compare-shift10");
  c.base_sources = {"a.json"};
  c.new_sources = {"b.json"};
  const json j = comparison_json(c);
  EXPECT_EQ(j["rows"].size(), 16u);
  EXPECT_EQ(j["regressions"], c.count(Verdict::Regression));
  EXPECT_EQ(j["base"], json::array({"a.json"}));
  EXPECT_EQ(j["correction"], "holm");
  EXPECT_EQ(j["rows_compared"], 16);
  EXPECT_EQ(j["repetitions_needed_per_side"], 6);
  const json& first = j["rows"][0];
  EXPECT_EQ(first["name"], "shm/pingpong/64/spin");
  for (const char* key : {"base_median_ns", "new_median_ns", "change_percent", "p_slower", "p_faster",
                          "p_slower_unadjusted", "p_faster_unadjusted", "verdict"})
    EXPECT_TRUE(first.contains(key)) << key;
}

TEST(CompareFormat, DurationsUseTheUnitsOfTheRunTable) {
  EXPECT_EQ(format_ns(725.4), "725 ns");
  EXPECT_EQ(format_ns(69464.7), "69.46 us");
  EXPECT_EQ(format_ns(1.2e6), "1.20 ms");
  EXPECT_EQ(format_ns(3.6e12), "3600.00 s");
}

}  // namespace
}  // namespace ipcmark
