// harness/history/store.hpp — the history store: every recorded run, in SQLite (a file, the
// default) or PostgreSQL (a server many machines share), through SOCI.
//
// Why SOCI 4.0 (Debian 12's libsoci-dev): one C++ API over both backends we need, so the queries
// and the migrations are written once; it is maintained (4.0.3, 2022) and packaged with both
// backends. SQLiteCpp would cover SQLite only and libpqxx PostgreSQL only: two stores to keep
// equal. Debian ships SOCI without a CMake package or a .pc file; CMakeLists.txt finds the
// libraries by name.
//
// Contract:
//  * DEST is a PostgreSQL URI (postgresql://… or postgres://…, libpq's syntax: a Unix socket is
//    ?host=/dir) or else a SQLite file path.
//  * Opening migrates the schema (schema.hpp) in a write transaction. OpenMode::ExistingOnly
//    refuses a missing SQLite file instead of creating it (reading commands).
//  * Many writers at once: SQLite is put in WAL mode with a busy timeout (kBusyTimeoutMs) and
//    every write is one BEGIN IMMEDIATE transaction (taking the write lock up front, so two
//    writers queue on the timeout instead of one failing at commit); PostgreSQL writes are one
//    transaction each. record() stores a whole run or nothing.
//  * Every failure — unreachable server, locked past the timeout, corrupt file, schema newer than
//    this ipcmark — is a UsageError of one line starting with DEST (with a URI's password hidden).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/history/run_record.hpp"
#include "harness/history/schema.hpp"

namespace ipcmark {

inline constexpr int kBusyTimeoutMs = 30000;

enum class OpenMode { CreateIfMissing, ExistingOnly };

// One run as `history list` shows it.
struct RunSummary {
  std::int64_t id = 0;
  std::string recorded_at, run_date, testbed, git_commit, git_branch, scenario, source;
  std::int64_t rows = 0, failed_rows = 0;
};

// One repetition of one row, with its run: what series are made of (series.hpp).
struct RowPoint {
  std::int64_t run_id = 0;
  std::string run_date, git_commit, git_branch, name;
  std::int64_t repetition_index = 0;
  double real_time_ns = 0;
  std::optional<double> latency_p50_ns, latency_p99_ns, items_per_second, x_floor, cpu_ns_server, cpu_ns_client;
  std::optional<std::string> x_floor_of;  // which floor x_floor divides by; unset in files that do not say
};

struct PointFilter {
  std::string testbed;             // required
  std::optional<std::string> row;  // one row's name, or every row
  std::optional<std::string> since;  // run_date ≥ since (ISO 8601 text compares in time order)
};

class HistoryStore {
 public:
  static HistoryStore open(const std::string& dest, OpenMode mode);
  HistoryStore(HistoryStore&&) noexcept;
  HistoryStore& operator=(HistoryStore&&) noexcept;
  ~HistoryStore();

  SqlDialect dialect() const;
  const std::string& name() const;  // DEST, password hidden

  // Stores the run in one transaction; returns its id.
  std::int64_t record(const RunRecord& run);
  // Stores several runs in one transaction (import): all or none.
  std::vector<std::int64_t> record_all(const std::vector<RunRecord>& runs);

  std::vector<RunSummary> runs(const std::optional<std::string>& testbed) const;
  std::vector<std::string> testbeds() const;
  // Successful repetitions (error null) in run order, then name, then repetition.
  std::vector<RowPoint> points(const PointFilter& filter) const;

 private:
  struct Impl;
  explicit HistoryStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The testbed `given` names, or the store's only one; UsageError listing them otherwise.
std::string chosen_testbed(const HistoryStore& store, const std::string& given);

// DEST from the flag, else IPCMARK_HISTORY, else results/history.sqlite.
std::string history_destination(const std::string& flag);

}  // namespace ipcmark
