// The report on fixture result files: golden text and Markdown tables, ranking rules,
// labels, failures, schema-2 fields, bad rows, and the HTML page's shape.
// Regenerate the golden files after an intended change with
//   IPCMARK_UPDATE_GOLDEN=1 ctest --test-dir BUILD -R Report
// and read the diff before committing it.
#include "harness/views/report.hpp"

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
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kData = IPCMARK_TEST_DATA;

using testing::slurp;

json fixture_json(const std::string& name) { return json::parse(slurp(kData + "/results/" + name + ".json")); }
ResultsDocument fixture(const std::string& name) { return read_results(kData + "/results/" + name + ".json"); }
ResultsDocument read(const json& document) { return read_results(document, "t.json"); }

void expect_golden(const std::string& actual, const std::string& golden_name) {
  testing::expect_golden(actual, kData + "/golden/" + golden_name);
}

const RankedTable& table(const std::vector<RankedTable>& tables, const std::string& pattern, std::size_t size,
                         std::optional<double> rate = std::nullopt) {
  for (const RankedTable& t : tables)
    if (t.pattern == pattern && t.message_size == size && t.target_rate == rate) return t;
  throw std::runtime_error("no table " + pattern + "/" + std::to_string(size));
}

std::vector<std::string> labels(const RankedTable& t) {
  std::vector<std::string> out;
  for (const RankedEntry& e : t.entries) out.push_back(e.label);
  return out;
}

std::string rank_error(const json& document) {
  try {
    rank_results(read(document));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

json one_row(const json& fields = json::object()) {
  json row = testing::valid_row({{"wait", "spin"}, {"error", nullptr}, {"latency_ns", testing::latency_ns(640, 990)}});
  if (fields.is_object()) row.update(fields);
  return testing::valid_document(json::array({row}));
}

TEST(Report, TextTableMatchesGoldenFile) { expect_golden(report_text(fixture("report-basic")), "report-basic.txt"); }
TEST(Report, MarkdownTableMatchesGoldenFile) {
  expect_golden(report_markdown(fixture("report-basic")), "report-basic.md");
}
TEST(Report, SchemaTwoTextMatchesGoldenFile) { expect_golden(report_text(fixture("report-v2")), "report-v2.txt"); }
TEST(Report, SchemaTwoMarkdownMatchesGoldenFile) {
  expect_golden(report_markdown(fixture("report-v2")), "report-v2.md");
}

TEST(Report, RanksPingpongByMedianLatencyAndStreamByThroughput) {
  const auto tables = rank_results(fixture("report-basic"));
  const RankedTable& pingpong = table(tables, "pingpong", 64);
  EXPECT_FALSE(pingpong.by_throughput);
  EXPECT_EQ(labels(pingpong), (std::vector<std::string>{"shm/spin", "shm/block", "unix", "pipe"}));
  EXPECT_DOUBLE_EQ(*pingpong.entries[0].times_best, 1.0);
  EXPECT_DOUBLE_EQ(*pingpong.entries[3].times_best, 75000.0 / 640.0);  // median p50s: 75 us over 640 ns

  const RankedTable& stream = table(tables, "stream", 64);
  EXPECT_TRUE(stream.by_throughput);
  EXPECT_EQ(labels(stream), (std::vector<std::string>{"shm/spin", "shm/block", "pipe", "unix"}));
  EXPECT_DOUBLE_EQ(*stream.entries[1].times_best, 24e6 / 16e6);  // best bytes/s over this one's
}

TEST(Report, FiguresAreMediansOfSuccessfulRepetitions) {
  const auto tables = rank_results(fixture("report-basic"));
  const RankedEntry& unix_stream = table(tables, "stream", 4096).entries.back();
  ASSERT_EQ(unix_stream.label, "unix");
  EXPECT_EQ(unix_stream.ok, 2);
  EXPECT_EQ(unix_stream.total, 3);
  EXPECT_EQ(unix_stream.error, "server: peer gone (client exited with code 1)");
  EXPECT_DOUBLE_EQ(*unix_stream.msgs_per_s, (380'000.0 + 395'200.0) / 2);  // repetitions 0 and 2; 1 failed
}

TEST(Report, ConfigurationWithEveryRepetitionFailedRanksLastWithoutFigures) {
  const auto tables = rank_results(fixture("report-basic"));
  const RankedEntry& last = table(tables, "pingpong", 4096).entries.back();
  EXPECT_EQ(last.label, "unix");
  EXPECT_EQ(last.ok, 0);
  EXPECT_FALSE(last.p50_ns.has_value());
  EXPECT_FALSE(last.times_best.has_value());
  EXPECT_THAT(report_text(fixture("report-basic")),
              HasSubstr("failed: unix at 4 KiB: 3 of 3 repetitions failed: client: timed out"));
}

TEST(Report, AggregateRowsAreIgnored) {
  // The fixture's shm/pingpong/64/spin_median row says 1 ns; the median of the iterations is 640 ns.
  const auto tables = rank_results(fixture("report-basic"));
  EXPECT_DOUBLE_EQ(*table(tables, "pingpong", 64).entries[0].p50_ns, 640.0);
  EXPECT_EQ(table(tables, "pingpong", 64).entries[0].total, 3);
}

TEST(Report, LabelsShowTheWaitOnlyWhereItIsAChoiceAndPlacementOnlyWhenItVaries) {
  const auto basic = rank_results(fixture("report-basic"));
  EXPECT_THAT(labels(table(basic, "pingpong", 64)), ::testing::Contains("pipe"));  // pipe rows say wait "block"
  const auto v2 = rank_results(fixture("report-v2"));
  EXPECT_EQ(labels(table(v2, "pingpong", 64)),
            (std::vector<std::string>{"shm/spin/cross", "pipe/same", "shm/spin/same", "pipe/cross", "zmq/cross"}));
}

TEST(Report, OpenLoopRowsRankByLatencyInATableOfTheirRate) {
  const auto tables = rank_results(fixture("report-v2"));
  const RankedTable& open = table(tables, "stream", 64, 100000.0);
  EXPECT_FALSE(open.by_throughput);
  EXPECT_EQ(labels(open), (std::vector<std::string>{"shm/spin/cross", "pipe/cross", "zmq/cross"}));
  EXPECT_DOUBLE_EQ(*open.entries[0].achieved_rate, 99'000.0);
  // The closed-loop table at the same size does not hold the open-loop rows.
  EXPECT_EQ(table(tables, "stream", 64).entries.size(), 5u);
}

TEST(Report, SchemaTwoFloorWarningsAndRatiosAreShown) {
  const std::string text = report_text(fixture("report-v2"));
  EXPECT_THAT(text, HasSubstr("floor: cache-line round trip 180 ns, futex round trip 5.20 us"));
  EXPECT_THAT(text, HasSubstr("warning: CPU frequency scaling is enabled"));
  EXPECT_THAT(text, HasSubstr("× floor"));
  EXPECT_THAT(text, HasSubstr("of memcpy"));
  const std::string basic = report_text(fixture("report-basic"));
  EXPECT_THAT(basic, Not(HasSubstr("floor")));
  EXPECT_THAT(basic, Not(HasSubstr("warning")));
}

// The cache-line floor of a run is the median of samples taken at its start, halfway and end,
// while the line extremes are the first sample's: printed as "95 ns (median of lines, 48 ns to
// 56 ns)" they did not belong together (95 is not between them). The range printed is now always
// that of the samples the figure is the median of.
std::string floor_line(const json& floor) {
  json doc = one_row();
  doc["context"]["floor"] = floor;
  const std::string text = report_text(read(doc));
  const auto start = text.find("floor: ");
  return start == std::string::npos ? "" : text.substr(start, text.find('\n', start) - start);
}

TEST(Report, CachelineFloorOfSeveralSamplesShowsTheirMedianAndTheirOwnRange) {
  const json floor = {{"cacheline_rtt_ns", 95.0},           {"cacheline_rtt_timed_ns", 130.0},
                      {"cacheline_rtt_fastest_line_ns", 48.0}, {"cacheline_rtt_slowest_line_ns", 56.0},
                      {"cacheline_rtt_samples_ns", {52.0, 95.0, 110.0}}, {"cacheline_rtt_timed_samples_ns", {60.0, 130.0, 140.0}}};
  EXPECT_EQ(floor_line(floor),
            "floor: cache-line round trip 95 ns (median of 3 samples, 52 ns to 110 ns; 130 ns timed one by one)");
}

TEST(Report, CachelineFloorOfOneSampleShowsItsOwnLines) {
  const json floor = {{"cacheline_rtt_ns", 52.0}, {"cacheline_rtt_timed_ns", 60.0},
                      {"cacheline_rtt_fastest_line_ns", 48.0}, {"cacheline_rtt_slowest_line_ns", 56.0}};
  EXPECT_EQ(floor_line(floor), "floor: cache-line round trip 52 ns (median of lines, 48 ns to 56 ns; 60 ns timed one by one)");
  json one = floor;
  one["cacheline_rtt_samples_ns"] = {52.0};  // an interrupted run: the first sample only
  EXPECT_EQ(floor_line(one), floor_line(floor));
}

TEST(Report, RowWithoutTransportIsRejectedNamingTheRow) {
  json doc = one_row();
  doc["benchmarks"][0].erase("transport");
  EXPECT_EQ(rank_error(doc), "t.json: benchmarks[0] 'shm/pingpong/64/spin': 'transport' is missing");
}

TEST(Report, MistypedFieldsAreRejected) {
  json slow = testing::latency_ns(640, 990);
  slow["p50"] = "fast";
  EXPECT_THAT(rank_error(one_row({{"message_size", "64"}})),
              HasSubstr("'message_size' is not a positive integer (got \"64\")"));
  EXPECT_THAT(rank_error(one_row({{"message_size", 0}})),
              HasSubstr("'message_size' is not a positive integer (got 0)"));
  EXPECT_THAT(rank_error(one_row({{"latency_ns", slow}})), HasSubstr("'latency_ns.p50' is not a number"));
  EXPECT_THAT(rank_error(one_row({{"latency_ns", 5}})), HasSubstr("'latency_ns' is not an object"));
  EXPECT_EQ(rank_error(json::object()), "t.json is not an ipcmark results file (no 'benchmarks' array)");
  EXPECT_EQ(rank_error(json::array()), "t.json is not an ipcmark results file (no 'benchmarks' array)");
}

TEST(Report, RowWithoutHistogramRanksByRealTime) {
  json doc = one_row();
  doc["benchmarks"][0].erase("latency_ns");
  const auto tables = rank_results(read(doc));
  EXPECT_DOUBLE_EQ(*tables.at(0).entries.at(0).p50_ns, 700.0);
  EXPECT_FALSE(tables.at(0).entries.at(0).p99_ns.has_value());
}

TEST(Report, EmptyDocumentSaysSo) {
  EXPECT_THAT(report_text(read(testing::valid_document(json::array()))), HasSubstr("no benchmark rows"));
}

TEST(Report, PrintReportWritesTheTextReport) {
  std::ostringstream out;
  print_report(out, fixture("report-basic"));
  EXPECT_EQ(out.str(), report_text(fixture("report-basic")));
}

TEST(ReportHtml, SvgIsInlinedWithoutPrologOrMetadata) {
  const std::string file =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://x/svg11.dtd\">\n"
      "<svg width=\"10pt\"><metadata><rdf:RDF>https://matplotlib.org/</rdf:RDF></metadata><g/></svg>\n";
  EXPECT_EQ(svg_for_inlining(file), "<svg width=\"10pt\"><g/></svg>");
  EXPECT_THROW(svg_for_inlining("<html></html>"), UsageError);
}

TEST(ReportHtml, PageHasTitleMachineTablesAndFiguresAndNothingToFetch) {
  json doc = fixture_json("report-v2");
  doc["context"]["cpu_model"] = "Fixture <CPU> & \"co\"";
  const std::string page = report_html(read(doc), "results/x.json", {{"Latency", "<svg id=\"a\"><g/></svg>"}});
  EXPECT_THAT(page, HasSubstr("<title>ipcmark report: fixture-v2 on Fixture &lt;CPU&gt; &amp; &quot;co&quot;</title>"));
  EXPECT_THAT(page, Not(HasSubstr("<CPU>")));
  EXPECT_THAT(page, HasSubstr("results/x.json"));
  EXPECT_THAT(page, HasSubstr("<figcaption>Latency</figcaption>\n<svg id=\"a\"><g/></svg>"));
  EXPECT_THAT(page, HasSubstr("<td>180 ns</td>"));                      // the floor
  EXPECT_THAT(page, HasSubstr("load average 1.50 at start"));          // a warning
  EXPECT_THAT(page, HasSubstr("<td class=\"text\">zmq/cross</td>"));   // a ranked row
  for (const char* fetch : {"<script", "<link", "src=", "@import", "url(", "http"})
    EXPECT_THAT(page, Not(HasSubstr(fetch))) << fetch;
}

TEST(ReportHtml, PageWithoutFiguresSaysWhy) {
  const std::string page = report_html(fixture("report-basic"), "x.json", {}, "No plots: no run succeeded.");
  EXPECT_THAT(page, HasSubstr("No plots: no run succeeded."));
  EXPECT_THAT(page, Not(HasSubstr("<figure>")));
}

}  // namespace
}  // namespace ipcmark
