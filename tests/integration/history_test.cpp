// `ipcmark run --history` and `ipcmark history …` on SQLite, as a user runs them: exit codes, what
// is stored, change points in a series built from a fixture file, and two writers at once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/history_series.hpp"
#include "tests/support/processes.hpp"

namespace ipcmark {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using testing::ipcmark;

class HistoryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_path(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = dir_ + "/history.sqlite";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> series_files(int count, const std::string& stepped, int step_at) {
    return testing::history_series_files(dir_, count, stepped, step_at);
  }

  testing::CommandResult history(std::vector<std::string> args) {
    args.insert(args.begin(), "history");
    args.insert(args.begin() + 2, {"--history", store_});
    return ipcmark(args);
  }

  std::string dir_, store_;
};

TEST_F(HistoryCli, RunRecordsItsRepetitionsIntoTheStore) {
  const auto run = ipcmark({"run", "--transports", "pipe", "--pattern", "pingpong", "--sizes", "64", "--messages", "300",
                            "--repetitions", "2", "--no-floor", "--out", dir_ + "/r.json", "--history", store_,
                            "--branch", "feature-x"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("history: run 1 in " + store_));
  const auto list = history({"list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const json runs = json::parse(list.out);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["rows"], 2);
  EXPECT_EQ(runs[0]["branch"], "feature-x");
  EXPECT_EQ(runs[0]["source"], "run");
  const auto show = history({"show", "pipe/pingpong/64/cross", "--format", "json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const json series = json::parse(show.out);
  EXPECT_EQ(series["figure"], "latency_p50_ns");  // --no-floor: no x_floor to prefer
  ASSERT_EQ(series["points"].size(), 1u);
  EXPECT_EQ(series["points"][0]["repetitions"], 2);
  EXPECT_GT(series["points"][0]["value"].get<double>(), 0);
}

TEST_F(HistoryCli, CheckFindsAStepInTheNewestRunsOfOneRowOnly) {
  std::vector<std::string> import{"import"};
  for (const std::string& f : series_files(30, "unix/pingpong/64", 26)) import.push_back(f);
  const auto imported = history(import);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("recorded 30 runs"));
  const auto check = history({"check", "--format", "json"});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  const json result = json::parse(check.out);
  EXPECT_EQ(result["rows"], 16);
  ASSERT_EQ(result["change_points"].size(), 1u) << check.out;
  const json& found = result["change_points"][0];
  EXPECT_EQ(found["row"], "unix/pingpong/64");
  EXPECT_EQ(found["after"]["commit"], "commit126");
  EXPECT_EQ(found["before"]["commit"], "commit125");
  EXPECT_NEAR(found["relative_change"].get<double>(), 0.10, 0.02);
  EXPECT_TRUE(found["regression"].get<bool>());
  const auto table = history({"check"});
  EXPECT_EQ(table.exit_code, 1);
  EXPECT_THAT(table.out, HasSubstr("REGRESSION (recent)"));
}

TEST_F(HistoryCli, CheckPassesASeriesWithoutAStep) {
  std::vector<std::string> import{"import"};
  for (const std::string& f : series_files(30, "", 0)) import.push_back(f);
  ASSERT_EQ(history(import).exit_code, 0);
  const auto check = history({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_THAT(check.out, HasSubstr("0 change points in 16 rows (480 points"));
}

// Named *HtmlReport* so the sanitizer presets skip it with the other pages: the drawing is Python.
TEST_F(HistoryCli, HtmlReportWithAHistoryHasATrendSection) {
  std::vector<std::string> import{"import"};
  const std::vector<std::string> files = series_files(12, "unix/pingpong/64", 6);
  for (const std::string& f : files) import.push_back(f);
  ASSERT_EQ(history(import).exit_code, 0);
  const auto report = ipcmark({"report", files.back(), "--html", dir_ + "/page.html", "--history", store_});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string page = testing::slurp(dir_ + "/page.html");
  const auto caption = page.find("Trends: each row");
  ASSERT_NE(caption, std::string::npos);
  EXPECT_NE(page.find("<svg", caption), std::string::npos);  // the drawing follows its caption
  EXPECT_EQ(ipcmark({"report", files.back(), "--history", store_}).exit_code, 2);  // a trend needs the page
}

TEST_F(HistoryCli, BadInputIsOneLineAndExitTwo) {
  const auto missing = history({"list"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("no history store there"));
  EXPECT_FALSE(std::filesystem::exists(store_));  // reading never creates a store

  { std::ofstream(dir_ + "/broken.json") << "{ not json"; }
  const std::string good = series_files(1, "", 0).front();
  const auto broken = history({"import", good, dir_ + "/broken.json"});
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_EQ(testing::count_lines(broken.err), 1) << broken.err;
  EXPECT_FALSE(std::filesystem::exists(store_));  // checked before anything is stored

  ASSERT_EQ(history({"import", good}).exit_code, 0);
  EXPECT_EQ(history({"check", "--p-value", "2"}).exit_code, 2);
  EXPECT_EQ(history({"check", "--testbed", "nowhere"}).exit_code, 2);
  EXPECT_EQ(history({"show", "no/such/row"}).exit_code, 2);
  { std::ofstream(dir_ + "/garbage.sqlite") << "garbage"; }
  const auto corrupt = ipcmark({"history", "list", "--history", dir_ + "/garbage.sqlite"});
  EXPECT_EQ(corrupt.exit_code, 2);
  EXPECT_EQ(corrupt.err, "ipcmark: error: " + dir_ + "/garbage.sqlite: file is not a database\n");
}

TEST_F(HistoryCli, TwoWritersAtOnceLoseNothing) {
  const std::string file = series_files(1, "", 0).front();
  const std::string writer = "for i in $(seq 25); do " + testing::quote(testing::built_binary()) +
                             " history import --history " + testing::quote(store_) + " " + testing::quote(file) +
                             " >/dev/null || exit 1; done";
  ASSERT_EQ(std::system(("timeout 120 bash -c " + testing::quote(testing::two_at_once(writer))).c_str()), 0);
  const auto list = history({"list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json::parse(list.out).size(), 50u);
}

}  // namespace
}  // namespace ipcmark
