// harness/history/store.cpp — the history store over SOCI (store.hpp).
#include "harness/history/store.hpp"

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

bool is_postgres(const std::string& dest) {
  return dest.rfind("postgresql://", 0) == 0 || dest.rfind("postgres://", 0) == 0;
}

std::string without_password(const std::string& dest) {
  return std::regex_replace(dest, std::regex("^(postgres(ql)?://[^:/@]*):[^@/]*@"), "$1:***@");
}

// SOCI's message as one line without its own plumbing: libpq's reason is on the next lines, and
// the backend's function name and the statement say nothing to a user.
std::string one_line(const std::string& what) {
  std::string text = std::regex_replace(what, std::regex("\\s*\n\\s*"), " ");
  text = std::regex_replace(text, std::regex("^[a-z0-9_]+::[A-Za-z_]+: "), "");
  text = std::regex_replace(text, std::regex(" while (preparing|executing) \".*$"), "");
  while (!text.empty() && (text.back() == ' ' || text.back() == '.')) text.pop_back();
  return text;
}

int busy_timeout_ms() {
  // Tests of a locked store shorten the wait; nothing else should need to.
  const char* ms = std::getenv("IPCMARK_HISTORY_BUSY_MS");
  return ms != nullptr && *ms != '\0' ? std::atoi(ms) : kBusyTimeoutMs;
}

// A SQL value that may be NULL, bound by reference for SOCI.
template <typename T>
struct Nullable {
  T value{};
  soci::indicator indicator = soci::i_null;
  void set(const std::optional<T>& v) {
    value = v.value_or(T{});
    indicator = v ? soci::i_ok : soci::i_null;
  }
  std::optional<T> get() const { return indicator == soci::i_ok ? std::optional<T>(value) : std::nullopt; }
};

}  // namespace

struct HistoryStore::Impl {
  std::string name;
  SqlDialect dialect = SqlDialect::Sqlite;
  mutable soci::session sql;

  // Runs `body` and turns any database error into one line naming the store.
  template <typename F>
  auto guarded(F&& body) const {
    try {
      return body();
    } catch (const soci::soci_error& e) {
      throw UsageError(name + ": " + one_line(e.what()));
    }
  }

  // One write transaction: committed by commit(), rolled back otherwise (an exception midway).
  class Write {
   public:
    explicit Write(const Impl& store) : store_(store) {
      store_.sql << (store_.dialect == SqlDialect::Sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    }
    void commit() {
      store_.sql << "COMMIT";
      done_ = true;
    }
    ~Write() {
      if (done_) return;
      try {
        store_.sql << "ROLLBACK";
      } catch (const soci::soci_error&) {  // the connection is gone: the server rolls back itself
      }
    }
    Write(const Write&) = delete;
    Write& operator=(const Write&) = delete;

   private:
    const Impl& store_;
    bool done_ = false;
  };

  long long testbed_id(const Testbed& t) {
    long long cpus = t.num_cpus;
    sql << "INSERT INTO testbeds (name, cpu_model, kernel, num_cpus, virtualization, pinning) "
           "VALUES (:name, :cpu, :kernel, :cpus, :virt, :pin) ON CONFLICT (name) DO NOTHING",
        soci::use(t.name), soci::use(t.cpu_model), soci::use(t.kernel), soci::use(cpus), soci::use(t.virtualization),
        soci::use(t.pinning);
    long long id = 0;
    sql << "SELECT id FROM testbeds WHERE name = :name", soci::use(t.name), soci::into(id);
    return id;
  }

  std::int64_t insert(const RunRecord& run, const std::string& recorded_at) {
    long long testbed = testbed_id(run.testbed);
    long long id = 0;
    sql << "INSERT INTO runs (testbed_id, recorded_at, run_date, git_commit, git_branch, scenario, ipcmark_version, "
           "source, context) VALUES (:tb, :at, :date, :commit, :branch, :scenario, :version, :source, :context) "
           "RETURNING id",
        soci::use(testbed), soci::use(recorded_at), soci::use(run.run_date), soci::use(run.git_commit),
        soci::use(run.git_branch), soci::use(run.scenario), soci::use(run.ipcmark_version), soci::use(run.source),
        soci::use(run.context), soci::into(id);

    // The optional figures, in the column order of the statement below.
    static constexpr std::optional<double> RowRecord::* kFigures[] = {
        &RowRecord::items_per_second, &RowRecord::bytes_per_second, &RowRecord::latency_p50_ns,
        &RowRecord::latency_p90_ns,   &RowRecord::latency_p99_ns,   &RowRecord::latency_p999_ns,
        &RowRecord::latency_max_ns,   &RowRecord::cpu_ns_server,    &RowRecord::cpu_ns_client,
        &RowRecord::x_floor};
    RowRecord r;
    long long repetition = 0, size = 0, iterations = 0;
    Nullable<std::string> placement, error, floor_of;
    std::array<Nullable<double>, std::size(kFigures)> figures;
    auto prepared = (sql.prepare << "INSERT INTO run_rows (run_id, name, repetition_index, transport, pattern, "
                                    "message_size, placement, error, iterations, real_time_ns, cpu_time_ns, "
                                    "items_per_second, bytes_per_second, latency_p50_ns, latency_p90_ns, latency_p99_ns, "
                                    "latency_p999_ns, latency_max_ns, cpu_ns_server, cpu_ns_client, x_floor, x_floor_of) VALUES "
                                    "(:run, :name, :rep, :transport, :pattern, :size, :placement, :error, :iterations, "
                                    ":real, :cpu, :ips, :bps, :p50, :p90, :p99, :p999, :max, :cs, :cc, :xf, :xfo)",
                     soci::use(id), soci::use(r.name), soci::use(repetition), soci::use(r.transport),
                     soci::use(r.pattern), soci::use(size), soci::use(placement.value, placement.indicator),
                     soci::use(error.value, error.indicator), soci::use(iterations), soci::use(r.real_time_ns),
                     soci::use(r.cpu_time_ns));
    for (Nullable<double>& figure : figures) prepared, soci::use(figure.value, figure.indicator);
    prepared, soci::use(floor_of.value, floor_of.indicator);
    soci::statement insert_row = prepared;
    for (const RowRecord& row : run.rows) {
      r = row;
      repetition = row.repetition_index;
      size = row.message_size;
      iterations = row.iterations;
      placement.set(row.placement);
      error.set(row.error);
      floor_of.set(row.x_floor_of);
      for (std::size_t k = 0; k < figures.size(); ++k) figures[k].set(row.*kFigures[k]);
      insert_row.execute(true);
    }
    return id;
  }
};

HistoryStore::HistoryStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HistoryStore::HistoryStore(HistoryStore&&) noexcept = default;
HistoryStore& HistoryStore::operator=(HistoryStore&&) noexcept = default;
HistoryStore::~HistoryStore() = default;

SqlDialect HistoryStore::dialect() const { return impl_->dialect; }
const std::string& HistoryStore::name() const { return impl_->name; }

HistoryStore HistoryStore::open(const std::string& dest, OpenMode mode) {
  auto impl = std::make_unique<Impl>();
  impl->name = without_password(dest);
  impl->dialect = is_postgres(dest) ? SqlDialect::Postgres : SqlDialect::Sqlite;
  if (dest.empty()) throw UsageError("history: an empty store name");
  if (impl->dialect == SqlDialect::Sqlite) {
    // SOCI reads a string with '=' as "key=value" parameters, not as a file name.
    if (dest.find('=') != std::string::npos) throw UsageError(dest + ": a history file name may not contain '='");
    std::error_code ec;
    if (mode == OpenMode::ExistingOnly && !std::filesystem::exists(dest, ec))
      throw UsageError(dest + ": no history store there (record one with `ipcmark run --history` or `history import`)");
    if (std::filesystem::is_directory(dest, ec)) throw UsageError(dest + ": is a directory, not a history store");
  }
  const auto set_up = [&] {
    if (impl->dialect == SqlDialect::Postgres) {
      impl->sql.open(soci::postgresql, dest);
    } else {
      impl->sql.open(soci::sqlite3, dest);
      int applied = 0;
      std::string journal;
      impl->sql << "PRAGMA busy_timeout = " + std::to_string(busy_timeout_ms()), soci::into(applied);
      // WAL: readers never block the writer, and a writer waits for another (busy timeout)
      // instead of failing. It is a property of the file, kept once set.
      impl->sql << "PRAGMA journal_mode = WAL", soci::into(journal);
      impl->sql << "PRAGMA foreign_keys = ON";
    }
    if (stored_version(impl->sql, impl->dialect) == kHistorySchemaVersion) return 0;
    Impl::Write write(*impl);
    migrate(impl->sql, impl->dialect, impl->name);  // reads the version again, under the write lock
    write.commit();
    return 0;
  };
  impl->guarded([&] {
    // One SQLITE_BUSY the busy handler never sees: opening a WAL store while its last other
    // connection closes (and, under an exclusive lock, checkpoints and removes the WAL) fails at
    // once (sqlite.org/wal.html, "Sometimes Queries Return SQLITE_BUSY In WAL Mode"); two writers
    // importing in a loop meet it. Opening is retried within the busy timeout; a store that stays
    // locked is still the one-line error.
    constexpr int kSqliteBusy = 5;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms());
    for (;;) {
      try {
        return set_up();
      } catch (const soci::sqlite3_soci_error& e) {
        if ((e.result() & 0xff) != kSqliteBusy || std::chrono::steady_clock::now() >= give_up) throw;
      }
      impl->sql.close();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  return HistoryStore(std::move(impl));
}

namespace {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

std::int64_t HistoryStore::record(const RunRecord& run) { return record_all({run}).at(0); }

std::vector<std::int64_t> HistoryStore::record_all(const std::vector<RunRecord>& runs) {
  return impl_->guarded([&] {
    const std::string at = utc_now();
    std::vector<std::int64_t> ids;
    Impl::Write write(*impl_);
    for (const RunRecord& run : runs) ids.push_back(impl_->insert(run, at));
    write.commit();
    return ids;
  });
}

std::vector<RunSummary> HistoryStore::runs(const std::optional<std::string>& testbed) const {
  return impl_->guarded([&] {
    RunSummary s;
    long long id = 0, rows = 0, failed = 0;
    int any_testbed = testbed ? 0 : 1;
    const std::string wanted = testbed.value_or("");
    soci::statement st =
        (impl_->sql.prepare << "SELECT r.id, r.recorded_at, coalesce(r.run_date, ''), t.name, r.git_commit, "
                               "r.git_branch, coalesce(r.scenario, ''), r.source, "
                               "(SELECT count(*) FROM run_rows w WHERE w.run_id = r.id), "
                               "(SELECT count(*) FROM run_rows w WHERE w.run_id = r.id AND w.error IS NOT NULL) "
                               "FROM runs r JOIN testbeds t ON t.id = r.testbed_id "
                               "WHERE (:any = 1 OR t.name = :testbed) ORDER BY r.id",
         soci::into(id), soci::into(s.recorded_at), soci::into(s.run_date), soci::into(s.testbed),
         soci::into(s.git_commit), soci::into(s.git_branch), soci::into(s.scenario), soci::into(s.source),
         soci::into(rows), soci::into(failed), soci::use(any_testbed), soci::use(wanted));
    st.execute();
    std::vector<RunSummary> out;
    while (st.fetch()) {
      s.id = id;
      s.rows = rows;
      s.failed_rows = failed;
      out.push_back(s);
    }
    return out;
  });
}

std::vector<std::string> HistoryStore::testbeds() const {
  return impl_->guarded([&] {
    std::string name;
    soci::statement st = (impl_->sql.prepare << "SELECT name FROM testbeds ORDER BY name", soci::into(name));
    st.execute();
    std::vector<std::string> out;
    while (st.fetch()) out.push_back(name);
    return out;
  });
}

std::vector<RowPoint> HistoryStore::points(const PointFilter& f) const {
  return impl_->guarded([&] {
    RowPoint p;
    long long run = 0, repetition = 0;
    Nullable<double> p50, p99, ips, x_floor, cpu_server, cpu_client;
    Nullable<std::string> floor_of;
    int any_row = f.row ? 0 : 1, any_date = f.since ? 0 : 1;
    const std::string row = f.row.value_or(""), since = f.since.value_or("");
    soci::statement st =
        (impl_->sql.prepare << "SELECT r.id, coalesce(r.run_date, ''), r.git_commit, r.git_branch, w.name, "
                               "w.repetition_index, w.real_time_ns, w.latency_p50_ns, w.latency_p99_ns, "
                               "w.items_per_second, w.x_floor, w.x_floor_of, w.cpu_ns_server, w.cpu_ns_client "
                               "FROM run_rows w JOIN runs r ON r.id = w.run_id JOIN testbeds t ON t.id = r.testbed_id "
                               "WHERE t.name = :testbed AND w.error IS NULL AND (:any_row = 1 OR w.name = :row) "
                               "AND (:any_date = 1 OR r.run_date >= :since) ORDER BY r.id, w.name, w.repetition_index",
         soci::into(run), soci::into(p.run_date), soci::into(p.git_commit), soci::into(p.git_branch),
         soci::into(p.name), soci::into(repetition), soci::into(p.real_time_ns), soci::into(p50.value, p50.indicator),
         soci::into(p99.value, p99.indicator), soci::into(ips.value, ips.indicator),
         soci::into(x_floor.value, x_floor.indicator), soci::into(floor_of.value, floor_of.indicator),
         soci::into(cpu_server.value, cpu_server.indicator),
         soci::into(cpu_client.value, cpu_client.indicator), soci::use(f.testbed), soci::use(any_row), soci::use(row),
         soci::use(any_date), soci::use(since));
    st.execute();
    std::vector<RowPoint> out;
    while (st.fetch()) {
      p.run_id = run;
      p.repetition_index = repetition;
      p.latency_p50_ns = p50.get();
      p.latency_p99_ns = p99.get();
      p.items_per_second = ips.get();
      p.x_floor = x_floor.get();
      p.x_floor_of = floor_of.get();
      p.cpu_ns_server = cpu_server.get();
      p.cpu_ns_client = cpu_client.get();
      out.push_back(p);
    }
    return out;
  });
}

std::string chosen_testbed(const HistoryStore& store, const std::string& given) {
  const std::vector<std::string> all = store.testbeds();
  std::string names;
  for (const std::string& t : all) names += (names.empty() ? "" : ", ") + t;
  if (!given.empty()) {
    for (const std::string& t : all)
      if (t == given) return t;
    throw UsageError(store.name() + ": no testbed '" + given + "' (testbeds: " + (names.empty() ? "none" : names) + ")");
  }
  if (all.size() == 1) return all.front();
  if (all.empty()) throw UsageError(store.name() + ": no runs recorded yet");
  throw UsageError(store.name() + ": " + std::to_string(all.size()) + " testbeds; choose one with --testbed (" + names + ")");
}

std::string history_destination(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("IPCMARK_HISTORY");
  return env != nullptr && *env != '\0' ? env : "results/history.sqlite";
}

}  // namespace ipcmark
