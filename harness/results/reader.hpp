// harness/results/reader.hpp — the one reader of results files. Every command that reads one
// (report, compare, recommend, report --format bmf) reads it here: checked against the schema of
// results/README.md once, then handed over as typed rows, so no view re-checks a field or reads
// a missing one as 0.
//
// Contract:
//  * read_results() returns a document only when every check passes; otherwise it throws
//    UsageError with one line naming the file, the row and the key (the commands print it and
//    exit 2), e.g.
//      results/x.json: benchmarks[12] 'shm/pingpong/64/spin/cross': 'real_time' is missing
//  * json_schema_version 1 to kJsonSchemaVersion is read. Version 2 added fields (placement, cpus,
//    copy, x_floor, x_memcpy, outlier, ...) that version 1 rows lack: they are optional here.
//  * Every row needs Google Benchmark's name, run_name, run_type ("iteration" or "aggregate"),
//    repetitions, iterations, real_time, cpu_time and time_unit (ns, us, ms or s), and ipcmark's
//    transport, pattern and message_size (a positive integer). By kind, also:
//      iteration rows   repetition_index
//      aggregate rows   aggregate_name
//      failed rows      error_message when error_occurred is true
//      fanout rows      readers (pattern "fanout")
//      open-loop rows   (they carry target_rate) achieved_rate on iteration rows, and latency_ns
//                       unless the repetition failed: their real_time is fixed by the rate
//  * Every other documented field is optional; when present it must have its documented type.
//    null is "not measured" (x_floor without a floor), read as absent.
//  * Unknown keys are allowed: adding a field does not change json_schema_version.
//  * Times are in ns here: real_time, cpu_time, ci95_low and ci95_high are converted from
//    time_unit (latency_ns and the other *_ns fields are ns in the file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ipcmark {

inline constexpr int kOldestReadableSchema = 1;

// {server, client}: CPUs (-1 unpinned), CPU ns or context switches per message.
struct ServerClient {
  double server = 0, client = 0;
};

// latency_ns: percentiles of the row's histogram, ns.
struct Latency {
  double min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0, max = 0, mean = 0;
};

// The machine and the run (results/README.md, `context`).
struct Context {
  int schema_version = 0;  // json_schema_version
  std::optional<std::string> date, host_name, executable, library_build_type, ipcmark_version, git_commit, kernel,
      cpu_model, clocksource, scenario, compiler;
  std::optional<std::int64_t> num_cpus, mhz_per_cpu;
  std::optional<bool> cpu_scaling_enabled, interleave;
  std::optional<double> timer_cost_ns;
  std::optional<std::uint64_t> shuffle_seed;
  std::vector<double> load_avg;           // empty when absent
  std::optional<ServerClient> pinning;
  std::vector<std::string> warnings;      // empty when absent
  // The machine's floor (floor.hpp): an object of figures, each a number, null (not measurable
  // here) or an array of numbers (samples), kept as written because views list it key by key.
  std::optional<nlohmann::json> floor;
  // Per placement, the floors taken around the repetitions ({cacheline_rtt_ns: {median, low, high,
  // samples}, futex_rtt_ns, repetitions, moved}) and, when they split, their clusters
  // ({split_ns, clusters: [{label, median_ns, low_ns, high_ns, repetitions}]}); checked, kept as written.
  std::optional<nlohmann::json> repetition_floors, floor_clusters;
  std::optional<double> floor_moved_ratio;

  // floor[key] when it is a number; none when there is no floor or the figure is absent or null.
  std::optional<double> floor_figure(const std::string& key) const;
  // floor[key] when it is an array (of numbers); empty otherwise.
  std::vector<double> floor_samples(const std::string& key) const;
};

// A repetition's floor figure (repetition_floor in a row), ns; either may be null.
struct BeforeAfter {
  std::optional<double> before, after;
};

enum class RunType { Iteration, Aggregate };

// One element of `benchmarks`.
struct Row {
  std::size_t index = 0;  // in `benchmarks`
  // Google Benchmark's fields.
  std::string name, run_name;
  RunType run_type = RunType::Iteration;
  std::int64_t repetitions = 0;
  std::optional<std::int64_t> repetition_index;  // iteration rows
  std::optional<std::int64_t> threads;
  std::uint64_t iterations = 0;
  double real_time_ns = 0, cpu_time_ns = 0;
  std::optional<std::string> aggregate_name, aggregate_unit;  // aggregate rows
  // Set when the repetition failed: `error`, or `error_message` under error_occurred (may be empty).
  std::optional<std::string> error;

  // ipcmark's configuration; schema 1 has no copy, placement, cpus or timed_every.
  std::string transport, pattern;
  std::size_t message_size = 0;
  std::optional<std::string> wait, copy, placement;
  std::optional<ServerClient> cpus;
  std::optional<std::int64_t> readers;  // fanout rows
  std::optional<double> target_rate;    // open-loop rows
  std::optional<std::int64_t> timed_every;

  // ipcmark's figures.
  std::optional<double> items_per_second, bytes_per_second, achieved_rate, pacing_ns_per_message, x_floor, x_memcpy;
  std::optional<Latency> latency_ns;
  std::optional<ServerClient> cpu_ns_per_message, context_switches_per_message;
  std::optional<double> worst_reader_p50_ns, worst_reader_p99_ns;  // worst_reader_latency_ns
  std::optional<double> readers_lost, lost, reordered, corrupted;
  std::optional<std::string> outlier;
  // The floor of each repetition (iteration rows): which one x_floor divides by, the round trips
  // taken before and after it, whether they disagree (the host moved the CPUs), its cluster.
  std::optional<std::string> x_floor_of, floor_cluster;
  std::optional<bool> floor_moved;
  std::optional<BeforeAfter> cacheline_floor, futex_floor;
  std::optional<std::int64_t> floor_moved_repetitions;  // aggregate rows
  std::optional<double> ci95_low_ns, ci95_high_ns, p99_ci95_low, p99_ci95_high;  // `_median` rows

  bool failed() const { return error.has_value(); }
  bool open_loop() const { return target_rate.has_value(); }
};

struct ResultsDocument {
  std::string source;  // the path (or the name given): the start of every message about it
  Context context;
  std::vector<Row> rows;  // `benchmarks`, in the file's order
};

// Reads and checks a file: missing, a directory, unreadable, not JSON or off the schema is a
// UsageError of one line.
ResultsDocument read_results(const std::string& path);
// The file's JSON, unchecked (the same one-line errors for a missing, unreadable or non-JSON file):
// for callers that keep the document as written too (history import).
nlohmann::json read_results_json(const std::string& path);
// Checks a parsed document; `source` names it in messages.
ResultsDocument read_results(const nlohmann::json& document, const std::string& source);

}  // namespace ipcmark
