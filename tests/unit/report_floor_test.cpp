// The report's view of per-repetition floors: the header line per placement (figure and range from
// the same samples, moved count, clusters), the floor column and the moved column, in text and
// HTML. Documents are written by hand from recorded figures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/views/report.hpp"
#include "tests/support/results.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json document_with_floors(bool second_moved) {
  json rows = json::array();
  const double p50[] = {500, 505, 498};
  for (int i = 0; i < 3; ++i) {
    json row = testing::valid_row({{"repetitions", 3}, {"repetition_index", i}, {"wait", "spin"},
                                   {"placement", "cross"}, {"x_floor", p50[i] / 50}, {"x_floor_of", "cacheline"},
                                   {"floor_moved", second_moved && i == 1}});
    row["latency_ns"] = {{"min", 400}, {"p50", p50[i]}, {"p90", 600}, {"p99", 900},
                         {"p999", 1000}, {"p9999", 1100}, {"max", 1200}, {"mean", 510}};
    rows.push_back(row);
  }
  json doc = testing::valid_document(rows);
  doc["context"]["repetition_floors"] = {
      {"cross", {{"cacheline_rtt_ns", {{"median", 50.0}, {"low", 48.0}, {"high", 117.0}, {"samples", 6}}},
                 {"futex_rtt_ns", nullptr}, {"repetitions", 3}, {"moved", second_moved ? 1 : 0}, {"seconds", 0.01}}}};
  doc["context"]["floor_moved_ratio"] = 1.3;
  doc["context"]["floor_clusters"] = {
      {"cross", {{"split_ns", 75.0},
                 {"clusters", {{{"label", "two hyperthreads of one core"}, {"median_ns", 49.0}, {"low_ns", 48.0},
                                {"high_ns", 50.0}, {"repetitions", 2}},
                               {{"label", "two cores"}, {"median_ns", 110.0}, {"low_ns", 105.0},
                                {"high_ns", 117.0}, {"repetitions", 1}}}}}}};
  return doc;
}

TEST(ReportFloors, HeaderGivesEachFigureWithTheRangeOfItsOwnSamples) {
  const std::string text = report_text(read_results(document_with_floors(true), "t"));
  EXPECT_THAT(text, HasSubstr("floor around repetitions (cross): cache-line round trip 50 ns (48 ns to 117 ns over "
                              "6 samples), 2 repetitions near 49 ns (two hyperthreads of one core), 1 repetitions "
                              "near 110 ns (two cores), 1 of 3 repetitions moved"));
}

TEST(ReportFloors, TablesNameTheFloorAndCountMovedRepetitions) {
  const std::string moved = report_text(read_results(document_with_floors(true), "t"));
  EXPECT_THAT(moved, HasSubstr("× floor  floor      moved"));
  EXPECT_THAT(moved, HasSubstr("10.0×  cacheline    1/3"));
  EXPECT_THAT(moved, HasSubstr("moved: repetitions whose floor before and"));
  // Nothing moved: no column for it.
  EXPECT_THAT(report_text(read_results(document_with_floors(false), "t")), ::testing::Not(HasSubstr("moved:")));
}

TEST(ReportFloors, ByClusterRanksEachClustersRepetitionsApart) {
  json doc = document_with_floors(false);
  const char* clusters[] = {"two hyperthreads of one core", "two cores", "two hyperthreads of one core"};
  for (int i = 0; i < 3; ++i) doc["benchmarks"][i]["floor_cluster"] = clusters[i];
  const std::vector<RankedTable> tables = rank_results(split_by_floor_cluster(read_results(doc, "t")));
  ASSERT_EQ(tables.size(), 1u);
  ASSERT_EQ(tables[0].entries.size(), 2u);
  // Ranked by median latency: the hyperthreads' two repetitions (500, 498 ns) before the one apart (505 ns).
  EXPECT_EQ(tables[0].entries[0].label, "shm/spin/cross · two hyperthreads of one core");
  EXPECT_EQ(tables[0].entries[0].total, 2);
  EXPECT_EQ(tables[0].entries[0].p50_ns, 499.0);
  EXPECT_EQ(tables[0].entries[1].label, "shm/spin/cross · two cores");
  EXPECT_EQ(tables[0].entries[1].total, 1);
  // Without the split, one configuration of three repetitions.
  EXPECT_EQ(rank_results(read_results(doc, "t"))[0].entries.size(), 1u);
}

TEST(ReportFloors, TheHtmlPageCarriesTheSameFacts) {
  const std::string html = report_html(read_results(document_with_floors(true), "t"), "t.json", {}, "");
  EXPECT_THAT(html, HasSubstr("floor around repetitions (cross)"));
  EXPECT_THAT(html, HasSubstr("two hyperthreads of one core"));
  EXPECT_THAT(html, HasSubstr("more than 1.3×"));
  EXPECT_THAT(html, HasSubstr("cacheline"));
  EXPECT_THAT(html, HasSubstr(">moved<"));
}

}  // namespace
}  // namespace ipcmark
