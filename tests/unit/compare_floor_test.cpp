// `ipcmark compare --metric x_floor` and the repetitions whose floor moved: what is pooled, and
// whether the moved repetitions decide a verdict. The rows are written by hand from recorded
// figures (a shm spin round trip of ~500 ns over a ~50 ns sibling floor or a ~110 ns cross-core
// one); nothing is measured.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/views/compare.hpp"
#include "tests/support/results.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

struct Rep {
  double real_time;
  std::optional<double> x_floor;
  bool moved = false;
};

ResultsDocument document_of(const std::string& side, const std::vector<Rep>& reps, const char* floor_of = "cacheline") {
  json rows = json::array();
  for (std::size_t i = 0; i < reps.size(); ++i) {
    json row = testing::valid_row({{"repetitions", reps.size()}, {"repetition_index", i},
                                   {"real_time", reps[i].real_time}, {"floor_moved", reps[i].moved},
                                   {"x_floor_of", floor_of}});
    row["x_floor"] = reps[i].x_floor ? json(*reps[i].x_floor) : json(nullptr);
    rows.push_back(row);
  }
  return read_results(testing::valid_document(rows), side);
}

Comparison compare(const std::vector<Rep>& base, const std::vector<Rep>& next, CompareMetric metric,
                   const char* base_floor = "cacheline", const char* new_floor = "cacheline") {
  CompareOptions options;
  options.metric = metric;
  return compare_rows(pool_rows({document_of("base", base, base_floor)}, metric),
                      pool_rows({document_of("new", next, new_floor)}, metric), options);
}

// Base ran with the vCPUs on one core's hyperthreads, new with them on two cores: every raw round
// trip is twice as long, every floor too.
const std::vector<Rep> kSiblings{{500, 10.0}, {505, 10.1}, {498, 9.96}, {502, 10.04}, {501, 10.02}, {499, 9.98}};
const std::vector<Rep> kApart{{1100, 10.0}, {1111, 10.1}, {1096, 9.96}, {1104, 10.04}, {1102, 10.02}, {1098, 9.98}};

TEST(CompareXFloor, PoolsEachRepetitionsXFloor) {
  const std::vector<RowSample> rows = pool_rows({document_of("t", kSiblings)}, CompareMetric::XFloor);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].metric, "x_floor");
  EXPECT_EQ(rows[0].x_floor_of, "cacheline");
  EXPECT_THAT(rows[0].values, ::testing::ElementsAre(10.0, 10.1, 9.96, 10.04, 10.02, 9.98));
}

TEST(CompareXFloor, AHostThatMovedTheCpusIsARegressionRawAndNotOverTheFloor) {
  EXPECT_EQ(compare(kSiblings, kApart, CompareMetric::RealTime).rows[0].verdict, Verdict::Regression);
  EXPECT_EQ(compare(kSiblings, kApart, CompareMetric::XFloor).rows[0].verdict, Verdict::Same);
}

TEST(CompareXFloor, ARealSlowdownIsCaughtOverTheFloor) {
  std::vector<Rep> slower = kSiblings;
  for (Rep& r : slower) r.x_floor = *r.x_floor * 1.10;
  EXPECT_EQ(compare(kSiblings, slower, CompareMetric::XFloor).rows[0].verdict, Verdict::Regression);
}

TEST(CompareXFloor, RowsWithoutXFloorOrOfAnotherFloorAreListedNotTested) {
  std::vector<Rep> none = kSiblings;
  for (Rep& r : none) r.x_floor.reset();
  const Comparison missing = compare(kSiblings, none, CompareMetric::XFloor);
  EXPECT_TRUE(missing.rows.empty());
  ASSERT_EQ(missing.without_metric.size(), 1u);
  EXPECT_THAT(render_table(missing), HasSubstr("no x_floor on both sides, not compared: shm/pingpong/64/spin"));

  // An older file divided every row by the cache line; a newer one divides this one by the futex.
  const Comparison other = compare(kSiblings, kSiblings, CompareMetric::XFloor, "cacheline", "futex");
  EXPECT_TRUE(other.rows.empty());
  EXPECT_THAT(other.without_metric, ::testing::ElementsAre("shm/pingpong/64/spin (x_floor of cacheline vs futex)"));
}

TEST(CompareMoved, MovedRepetitionsThatDecideTheVerdictAreSaid) {
  // New is 10% slower in three repetitions; three more ran while the host moved the CPUs and read
  // like base. With them the median moves less than the threshold; without them it is a regression.
  const std::vector<Rep> next{{550, 11.0}, {551, 11.02}, {549, 10.98},
                              {500, 10.0, true}, {501, 10.01, true}, {499, 9.99, true}};
  const Comparison c = compare(kSiblings, next, CompareMetric::XFloor);
  const RowComparison& r = c.rows[0];
  EXPECT_EQ(r.base_moved, 0);
  EXPECT_EQ(r.new_moved, 3);
  EXPECT_EQ(r.new_n, 6u) << "moved repetitions are kept in the test";
  EXPECT_NE(r.verdict, Verdict::Regression);
  EXPECT_EQ(r.verdict_without_moved, Verdict::Regression);
  EXPECT_EQ(c.changed_by_moved(), 1u);
  const std::string table = render_table(c);
  EXPECT_THAT(table, HasSubstr("(regression without the moved)"));
  EXPECT_THAT(table, HasSubstr("3 repetitions moved"));
  EXPECT_THAT(table, HasSubstr("leaving them out changes the verdict of 1 row"));
  EXPECT_EQ(comparison_json(c)["rows"][0]["verdict_without_moved"], "regression");
}

TEST(CompareMoved, MovedRepetitionsThatChangeNothingAreSaidSo) {
  std::vector<Rep> next = kSiblings;
  next[2].moved = true;
  const Comparison c = compare(kSiblings, next, CompareMetric::XFloor);
  EXPECT_EQ(c.rows[0].verdict, c.rows[0].verdict_without_moved);
  EXPECT_EQ(c.changed_by_moved(), 0u);
  EXPECT_THAT(render_table(c), HasSubstr("1 repetitions moved"));
  EXPECT_THAT(render_table(c), HasSubstr("leaving them out changes no verdict"));

  // Raw, compare points at the metric that survives the move.
  EXPECT_THAT(render_table(compare(kSiblings, next, CompareMetric::RealTime)), HasSubstr("--metric x_floor"));
}

}  // namespace
}  // namespace ipcmark
