// The history store on real SQLite files: what is recorded reads back, a write is all or nothing,
// and a locked, corrupt, newer-schema or missing store is one UsageError that changes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "harness/history/store.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

using ::testing::HasSubstr;

class HistoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("ipcmark-history-" + std::to_string(::getpid()) + "-" +
                                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "h.sqlite").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static RunRecord run(const std::string& commit, double x_floor, int repetitions = 2) {
    RunRecord r;
    r.testbed = {"bench-1", "Xeon", "6.1", "kvm", "0,1", 2};
    r.run_date = "2026-12-0" + commit.substr(0, 1) + "T10:00:00+00:00";
    r.git_commit = commit;
    r.git_branch = "main";
    r.scenario = "regression";
    r.source = "test";
    r.context = "{}";
    for (int k = 0; k < repetitions; ++k) {
      RowRecord row;
      row.name = "shm/pingpong/64/spin/cross";
      row.transport = "shm";
      row.pattern = "pingpong";
      row.repetition_index = k;
      row.message_size = 64;
      row.iterations = 1000;
      row.real_time_ns = 500 + k;
      row.cpu_time_ns = 900;
      row.latency_p50_ns = 480 + k;
      row.x_floor = x_floor + k;
      row.x_floor_of = "cacheline";
      r.rows.push_back(row);
    }
    RowRecord failed = r.rows.front();
    failed.name = "pipe/pingpong/64/cross";
    failed.error = "peer died";
    failed.x_floor.reset();
    r.rows.push_back(failed);
    return r;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(HistoryStoreTest, ARecordedRunReadsBack) {
  HistoryStore store = HistoryStore::open(path_, OpenMode::CreateIfMissing);
  const std::int64_t first = store.record(run("1aaa", 2.0));
  const std::int64_t second = store.record(run("2bbb", 3.0));
  EXPECT_LT(first, second);
  const std::vector<RunSummary> runs = store.runs(std::nullopt);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].git_commit, "1aaa");
  EXPECT_EQ(runs[1].testbed, "bench-1");
  EXPECT_EQ(runs[1].rows, 3);
  EXPECT_EQ(runs[1].failed_rows, 1);
  EXPECT_EQ(store.testbeds(), std::vector<std::string>{"bench-1"});

  const std::vector<RowPoint> points = store.points({"bench-1", std::nullopt, std::nullopt});
  ASSERT_EQ(points.size(), 4u);  // the failed repetitions are not part of any series
  EXPECT_EQ(points[2].run_id, second);
  EXPECT_EQ(points[3].repetition_index, 1);
  EXPECT_EQ(points[3].x_floor, 4.0);
  EXPECT_EQ(points[3].x_floor_of, "cacheline");
  EXPECT_EQ(points[3].latency_p50_ns, 481.0);
  EXPECT_FALSE(points[3].items_per_second.has_value());  // NULL stays absent, not 0
  EXPECT_EQ(store.points({"bench-1", std::nullopt, std::string("2026-12-02")}).size(), 2u);
  EXPECT_TRUE(store.points({"other", std::nullopt, std::nullopt}).empty());
}

TEST_F(HistoryStoreTest, TheStoreIsInWalModeAtTheCurrentSchema) {
  HistoryStore::open(path_, OpenMode::CreateIfMissing);
  soci::session sql(soci::sqlite3, path_);
  std::string mode;
  int version = 0;
  sql << "PRAGMA journal_mode", soci::into(mode);
  sql << "SELECT version FROM ipcmark_schema", soci::into(version);
  EXPECT_EQ(mode, "wal");
  EXPECT_EQ(version, kHistorySchemaVersion);
}

TEST_F(HistoryStoreTest, AFailedWriteStoresNothingOfAnyRun) {
  HistoryStore store = HistoryStore::open(path_, OpenMode::CreateIfMissing);
  RunRecord duplicate = run("2bbb", 3.0);
  duplicate.rows.push_back(duplicate.rows.front());  // the same repetition twice: the primary key refuses it
  EXPECT_THROW(store.record_all({run("1aaa", 2.0), duplicate}), UsageError);
  EXPECT_TRUE(store.runs(std::nullopt).empty());
  EXPECT_TRUE(store.testbeds().empty());
}

TEST_F(HistoryStoreTest, AStoreOfSchemaOneGetsTheFloorColumnAndKeepsItsRuns) {
  {
    HistoryStore store = HistoryStore::open(path_, OpenMode::CreateIfMissing);
    store.record(run("1aaa", 2.0));
  }
  {  // back to what schema 1 had: no x_floor_of
    soci::session sql(soci::sqlite3, path_);
    sql << "ALTER TABLE run_rows DROP COLUMN x_floor_of";
    sql << "UPDATE ipcmark_schema SET version = 1";
  }
  HistoryStore store = HistoryStore::open(path_, OpenMode::ExistingOnly);
  store.record(run("2bbb", 3.0));
  const std::vector<RowPoint> points = store.points({"bench-1", std::nullopt, std::nullopt});
  ASSERT_EQ(points.size(), 4u);
  EXPECT_FALSE(points[0].x_floor_of.has_value());  // recorded before the column existed
  EXPECT_EQ(points[0].x_floor, 2.0);
  EXPECT_EQ(points[2].x_floor_of, "cacheline");
  soci::session sql(soci::sqlite3, path_);
  int version = 0;
  sql << "SELECT version FROM ipcmark_schema", soci::into(version);
  EXPECT_EQ(version, 2);
}

TEST_F(HistoryStoreTest, ANewerSchemaIsRefused) {
  HistoryStore::open(path_, OpenMode::CreateIfMissing);
  {
    soci::session sql(soci::sqlite3, path_);
    sql << "UPDATE ipcmark_schema SET version = 99";
  }
  try {
    HistoryStore::open(path_, OpenMode::ExistingOnly);
    FAIL() << "a store of schema 99 was opened";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("schema version 99 is newer"));
  }
}

TEST_F(HistoryStoreTest, ACorruptFileIsOneLineAndStaysAsItWas) {
  { std::ofstream(path_) << "not a database\n"; }
  try {
    HistoryStore::open(path_, OpenMode::CreateIfMissing);
    FAIL() << "a text file was opened as a store";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), path_ + ": file is not a database");
  }
  std::ifstream in(path_);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "not a database\n");
}

TEST_F(HistoryStoreTest, AMissingStoreIsNotCreatedByReading) {
  EXPECT_THROW(HistoryStore::open(path_, OpenMode::ExistingOnly), UsageError);
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(HistoryStoreTest, AStoreLockedPastTheBusyTimeoutIsAnErrorAndWritesNothing) {
  HistoryStore store = HistoryStore::open(path_, OpenMode::CreateIfMissing);
  soci::session other(soci::sqlite3, path_);
  other << "BEGIN IMMEDIATE";  // another writer holds the write lock
  ::setenv("IPCMARK_HISTORY_BUSY_MS", "200", 1);
  HistoryStore waiting = HistoryStore::open(path_, OpenMode::ExistingOnly);  // reading the version needs no write lock
  try {
    waiting.record(run("1aaa", 2.0));
    FAIL() << "recorded while another writer held the lock";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("database is locked"));
  }
  ::unsetenv("IPCMARK_HISTORY_BUSY_MS");
  other << "ROLLBACK";
  EXPECT_TRUE(store.runs(std::nullopt).empty());
  store.record(run("1aaa", 2.0));  // and the store works once the lock is gone
  EXPECT_EQ(store.runs(std::nullopt).size(), 1u);
}

TEST_F(HistoryStoreTest, ChoosingATestbed) {
  HistoryStore store = HistoryStore::open(path_, OpenMode::CreateIfMissing);
  EXPECT_THROW(chosen_testbed(store, ""), UsageError);  // none yet
  store.record(run("1aaa", 2.0));
  EXPECT_EQ(chosen_testbed(store, ""), "bench-1");
  RunRecord elsewhere = run("1aaa", 2.0);
  elsewhere.testbed.name = "bench-2";
  store.record(elsewhere);
  EXPECT_THROW(chosen_testbed(store, ""), UsageError);
  EXPECT_EQ(chosen_testbed(store, "bench-2"), "bench-2");
  EXPECT_THROW(chosen_testbed(store, "bench-3"), UsageError);
}

}  // namespace
}  // namespace ipcmark
