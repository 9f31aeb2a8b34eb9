// The history store on a real PostgreSQL server (tests/support/postgres_cluster.hpp, started once
// for this binary): what SQLite does in history_test.cpp, through a postgresql:// URI, two
// writers at once included.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "tests/support/history_series.hpp"
#include "tests/support/postgres_cluster.hpp"
#include "tests/support/processes.hpp"

namespace ipcmark {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using testing::ipcmark;

::testing::Environment* const kCluster = ::testing::AddGlobalTestEnvironment(new testing::PostgresCluster);

class HistoryPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    const testing::PostgresCluster* cluster = testing::PostgresCluster::instance();
    ASSERT_NE(cluster, nullptr);
    ASSERT_EQ(cluster->failure(), "");
    // A database of its own per test: no test sees another's runs.
    database_ = "t_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::transform(database_.begin(), database_.end(), database_.begin(), ::tolower);
    soci::session admin(soci::postgresql, cluster->uri("postgres"));
    admin << "CREATE DATABASE " + database_;
    uri_ = cluster->uri(database_);
    dir_ = testing::temp_path(database_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  testing::CommandResult history(std::vector<std::string> args) {
    args.insert(args.begin(), "history");
    args.insert(args.begin() + 2, {"--history", uri_});
    return ipcmark(args);
  }

  std::string database_, uri_, dir_;
};

TEST_F(HistoryPostgres, ImportListShowAndCheckAStep) {
  std::vector<std::string> import{"import"};
  for (const std::string& f : testing::history_series_files(dir_, 30, "unix/pingpong/64", 26)) import.push_back(f);
  const auto imported = history(import);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(json::parse(history({"list", "--format", "json"}).out).size(), 30u);
  const auto show = history({"show", "unix/pingpong/64", "--format", "json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out)["points"].size(), 30u);
  const auto check = history({"check", "--format", "json"});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  const json result = json::parse(check.out);
  ASSERT_EQ(result["change_points"].size(), 1u) << check.out;
  EXPECT_EQ(result["change_points"][0]["row"], "unix/pingpong/64");
  EXPECT_EQ(result["change_points"][0]["after"]["commit"], "commit126");
}

TEST_F(HistoryPostgres, TwoWritersAtOnceLoseNothing) {
  const std::string file = testing::history_series_files(dir_, 1, "", 0).front();
  const std::string writer = "for i in $(seq 20); do " + testing::quote(testing::built_binary()) +
                             " history import --history " + testing::quote(uri_) + " " + testing::quote(file) +
                             " >/dev/null || exit 1; done";
  ASSERT_EQ(std::system(("timeout 120 bash -c " + testing::quote(testing::two_at_once(writer))).c_str()), 0);
  EXPECT_EQ(json::parse(history({"list", "--format", "json"}).out).size(), 40u);
}

TEST_F(HistoryPostgres, RunRecordsIntoTheStoreNamedByTheEnvironment) {
  ::setenv("IPCMARK_HISTORY", uri_.c_str(), 1);
  const auto run = ipcmark({"run", "--transports", "pipe", "--pattern", "pingpong", "--sizes", "64", "--messages", "300",
                            "--repetitions", "2", "--no-floor", "--out", dir_ + "/r.json"});
  const auto list = ipcmark({"history", "list", "--format", "json"});
  ::unsetenv("IPCMARK_HISTORY");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const json runs = json::parse(list.out);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["rows"], 2);
}

TEST_F(HistoryPostgres, ANewerSchemaIsOneLineAndExitTwo) {
  ASSERT_EQ(history({"import", testing::history_series_files(dir_, 1, "", 0).front()}).exit_code, 0);
  {
    soci::session sql(soci::postgresql, uri_);
    sql << "UPDATE ipcmark_schema SET version = 99";
  }
  const auto list = history({"list"});
  EXPECT_EQ(list.exit_code, 2);
  EXPECT_THAT(list.err, HasSubstr("history schema version 99 is newer"));
  EXPECT_EQ(testing::count_lines(list.err), 1);
}

TEST_F(HistoryPostgres, AnUnreachableServerIsOneLineWithoutThePassword) {
  const auto list = ipcmark({"history", "list", "--history", "postgresql://someone:s3cret@/nowhere?host=" + dir_});
  EXPECT_EQ(list.exit_code, 2);
  EXPECT_EQ(testing::count_lines(list.err), 1) << list.err;
  EXPECT_THAT(list.err, HasSubstr("postgresql://someone:***@/nowhere"));
  EXPECT_THAT(list.err, ::testing::Not(HasSubstr("s3cret")));
}

}  // namespace
}  // namespace ipcmark
