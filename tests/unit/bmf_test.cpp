// Bencher Metric Format export: the shape Bencher's JSON schema requires (an object of
// benchmarks, each an object of measures with a numeric `value`), values taken from the
// `_median` rows, bounds from ci95 fields when present and from the repetitions' range
// otherwise, failed rows left out. Golden file regenerated with
//   IPCMARK_UPDATE_GOLDEN=1 ctest --test-dir BUILD -R Bmf
#include "harness/views/bmf.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/usage_error.hpp"
#include "tests/support/results.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

const std::string kData = IPCMARK_TEST_DATA;

std::string read_text(const std::string& path) { return testing::slurp(path); }

ResultsDocument fixture(const std::string& name) { return read_results(kData + "/results/" + name + ".json"); }
json bmf_of(const json& document) { return bmf_document(read_results(document, "t.json")); }

json iteration(const std::string& name, double real_time, double p99, const json& error = nullptr) {
  return testing::valid_row({{"name", name}, {"run_name", name}, {"real_time", real_time},
                             {"cpu_time", 2 * real_time}, {"items_per_second", 1e9 / real_time},
                             {"latency_ns", testing::latency_ns(real_time / 2, p99)}, {"error", error}});
}

json median_row(const std::string& name, double real_time, double p99) {
  json row = iteration(name, real_time, p99);
  row.erase("error");
  row.erase("repetition_index");
  row.update({{"name", name + "_median"}, {"run_type", "aggregate"}, {"aggregate_name", "median"}});
  return row;
}

TEST(Bmf, EveryMeasureHasANumericValueAndOrderedBoundsOnARealFile) {
  const json bmf = bmf_document(fixture("compare-aa-1"));
  ASSERT_TRUE(bmf.is_object());
  EXPECT_EQ(bmf.size(), 16u);  // one benchmark per configuration, no aggregate suffixes
  for (const auto& [name, measures] : bmf.items()) {
    EXPECT_EQ(name.find("_median"), std::string::npos) << name;
    for (const char* slug : {"latency", "throughput", "latency-p50", "latency-p99", "cpu-time"}) {
      ASSERT_TRUE(measures.contains(slug)) << name << " " << slug;
      const json& m = measures[slug];
      ASSERT_TRUE(m["value"].is_number()) << name << " " << slug;
      ASSERT_TRUE(m.contains("lower_value") && m.contains("upper_value")) << name << " " << slug;
      EXPECT_LE(m["lower_value"].get<double>(), m["value"].get<double>()) << name << " " << slug;
      EXPECT_GE(m["upper_value"].get<double>(), m["value"].get<double>()) << name << " " << slug;
    }
  }
  const json& spin = bmf["shm/pingpong/64/spin"];
  EXPECT_DOUBLE_EQ(spin["latency"]["value"].get<double>(), 724.5505);  // the _median row's real_time, ns
  EXPECT_EQ(spin["latency-p99"]["value"], 1010);
}

TEST(Bmf, MatchesTheGoldenFile) {
  const std::string actual = bmf_document(fixture("compare-aa-1")).dump(1) + "\n";
  const std::string path = kData + "/golden/compare-bmf-aa-1.json";
  if (const char* update = std::getenv("IPCMARK_UPDATE_GOLDEN"); update != nullptr && *update == '1') {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  EXPECT_EQ(actual, read_text(path)) << "golden file " << path << " differs (IPCMARK_UPDATE_GOLDEN=1 to rewrite)";
}

TEST(Bmf, BoundsAreTheRangeOfSuccessfulRepetitionsWithoutCi) {
  const json doc = testing::valid_document({iteration("x", 100, 300), iteration("x", 120, 500),
                                            iteration("x", 1, 1, "peer died"), iteration("x", 110, 400),
                                            median_row("x", 110, 400)},
                                           1);
  const json bmf = bmf_of(doc);
  EXPECT_EQ(bmf["x"]["latency"], (json{{"value", 110.0}, {"lower_value", 100.0}, {"upper_value", 120.0}}));
  EXPECT_EQ(bmf["x"]["latency-p99"], (json{{"value", 400.0}, {"lower_value", 300.0}, {"upper_value", 500.0}}));
  EXPECT_DOUBLE_EQ(bmf["x"]["throughput"]["lower_value"].get<double>(), 1e9 / 120);
  EXPECT_DOUBLE_EQ(bmf["x"]["cpu-time"]["upper_value"].get<double>(), 240.0);
}

TEST(Bmf, Ci95FieldsGiveTheBoundsWhenPresent) {
  json median = median_row("x", 110, 400);
  median["ci95_low"] = 105;
  median["ci95_high"] = 125;
  median["p99_ci95_low"] = 350;
  median["p99_ci95_high"] = 480;
  const json doc = testing::valid_document({iteration("x", 100, 300), iteration("x", 130, 500), median});
  const json bmf = bmf_of(doc);
  EXPECT_EQ(bmf["x"]["latency"], (json{{"value", 110.0}, {"lower_value", 105.0}, {"upper_value", 125.0}}));
  EXPECT_EQ(bmf["x"]["latency-p99"], (json{{"value", 400.0}, {"lower_value", 350.0}, {"upper_value", 480.0}}));
  EXPECT_DOUBLE_EQ(bmf["x"]["throughput"]["lower_value"].get<double>(), 1e9 / 125);  // slowest end of the interval
  EXPECT_DOUBLE_EQ(bmf["x"]["throughput"]["upper_value"].get<double>(), 1e9 / 105);
}

TEST(Bmf, NamesWithoutAMedianRowAndOtherAggregatesAreLeftOut) {
  json mean = median_row("x", 111, 400);
  mean["aggregate_name"] = "mean";
  const json doc =
      testing::valid_document({iteration("failed", 1, 1, "timeout"), iteration("x", 100, 300), mean}, 1);
  EXPECT_EQ(bmf_of(doc), json::object());
  EXPECT_THROW(bmf_of(json::array()), UsageError);  // not a results document: the reader says so
}

TEST(Bmf, TimesInOtherUnitsBecomeNanoseconds) {
  json it = iteration("x", 2, 3000), median = median_row("x", 2, 3000);
  it["time_unit"] = median["time_unit"] = "us";
  const json bmf = bmf_of(testing::valid_document({it, median}));
  EXPECT_DOUBLE_EQ(bmf["x"]["latency"]["value"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(bmf["x"]["latency"]["lower_value"].get<double>(), 2000.0);
}

}  // namespace
}  // namespace ipcmark
