// harness/cli/run_command.cpp — `ipcmark run`: the flags (over a scenario file or the defaults),
// then the run pipeline: expand the scenario, measure, write the results file as it goes, report.
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <random>

#include "harness/results/output_path.hpp"
#include "harness/cli/plugin_options.hpp"
#include "harness/cli/subcommand.hpp"
#include "harness/history/recorder.hpp"
#include "harness/history/store.hpp"
#include "harness/machine/affinity.hpp"
#include "harness/results/context.hpp"
#include "harness/results/reader.hpp"
#include "harness/results/writer.hpp"
#include "harness/run/broker_leases.hpp"
#include "harness/run/runner.hpp"
#include "harness/usage_error.hpp"
#include "harness/views/report.hpp"
#include "transports/transport.hpp"

namespace ipcmark {
namespace {

struct RunFlags {
  std::string scenario_file;
  std::vector<std::string> transports, patterns, waits, cpus, copies;
  std::vector<std::size_t> sizes;
  std::vector<std::uint64_t> rates;
  std::vector<int> readers;
  std::uint64_t messages = 0, warmup = 0, warmup_ms = 0;
  bool warmup_set = false, warmup_ms_set = false;
  int repetitions = 0, timeout_s = 0;
  std::string repetitions_text;  // N or "auto"
  bool repetitions_set = false;
  double ci_width_percent = 2;
  int time_budget_s = 300;
  std::optional<bool> interleave;
  bool no_floor = false, fail_fast = false;
  std::uint64_t seed = 0;
  std::string out = "results/latest.json";
  std::string history;  // a store to record the run into (harness/history/store.hpp), or none
  RecordLabels labels;
};

Scenario scenario_with_flags(const RunFlags& f) {
  Scenario s = f.scenario_file.empty() ? Scenario{} : load_scenario(f.scenario_file);
  if (!f.transports.empty()) s.transports = f.transports;
  if (!f.patterns.empty()) {
    s.patterns.clear();
    for (const std::string& p : f.patterns) s.patterns.push_back(parse_pattern(p));
  }
  if (!f.sizes.empty()) {
    s.sizes = f.sizes;
    s.sizes_of.clear();
  }
  if (f.messages != 0) s.messages.fill(f.messages);
  if (f.warmup_set) s.warmup_messages.fill(f.warmup);
  if (f.warmup_ms_set) s.warmup_ms = f.warmup_ms;
  if (f.repetitions != 0) s.repetitions = f.repetitions;
  if (!f.waits.empty()) {
    s.waits.clear();
    for (const std::string& w : f.waits) s.waits.push_back(parse_wait(w));
  }
  if (f.timeout_s != 0) s.timeout = std::chrono::seconds(f.timeout_s);
  if (!f.cpus.empty()) {
    s.placements = f.cpus;
    s.placements_of.clear();
  }
  if (!f.rates.empty()) s.rates = f.rates;
  if (!f.readers.empty()) s.readers = f.readers;
  if (!f.copies.empty()) {
    s.zero_copy.clear();
    for (const std::string& c : f.copies) s.zero_copy.push_back(parse_copy_mode(c));
  }
  if (f.interleave) s.interleave = *f.interleave;
  return s;
}

std::string duration_text(double seconds) {
  const long s = std::lround(seconds);
  return s >= 60 ? std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s" : std::to_string(s) + "s";
}

// --repetitions: a count, or "auto" (the scenario's count first, then more until narrow).
void parse_repetitions(RunFlags& f, AutoRepetitions& a) {
  if (!f.repetitions_set) return;
  if (f.repetitions_text == "auto") {
    a.on = true;
    return;
  }
  std::size_t used = 0;
  try {
    f.repetitions = std::stoi(f.repetitions_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != f.repetitions_text.size() || f.repetitions < 1 || f.repetitions > 1000)
    throw UsageError("--repetitions '" + f.repetitions_text + "': expected a count from 1 to 1000, or auto");
}

int command_run(RunFlags f) {
  AutoRepetitions automatic;
  parse_repetitions(f, automatic);
  automatic.half_width = f.ci_width_percent / 100;
  automatic.budget = std::chrono::seconds(f.time_budget_s);
  const Scenario s = scenario_with_flags(f);
  const std::vector<int> allowed = allowed_cpus();
  std::vector<std::string> skipped;
  const std::vector<RunSpec> specs = expand(s, allowed, &skipped);
  check_output_path("results", f.out, MissingDirectories::Create);  // before anything is measured
  if (!f.history.empty()) HistoryStore::open(f.history, OpenMode::CreateIfMissing);  // a bad store fails now, too
  RunOptions options;
  options.interleave = s.interleave;
  options.fail_fast = f.fail_fast;
  options.repetition_floors = !f.no_floor;
  options.auto_repetitions = automatic;
  options.seed = f.seed != 0 ? f.seed : std::random_device{}();

  nlohmann::json context = run_context({.scenario = s.name,
                                        .specs = specs,
                                        .interleave = options.interleave,
                                        .shuffle_seed = options.seed,
                                        .measure_floor = !f.no_floor,
                                        .allowed_cpu_count = static_cast<int>(allowed.size()),
                                        .warnings = skipped});
  // Daemons (iceoryx's RouDi) up for the whole run, released when command_run returns.
  const BrokerLeases brokers = take_broker_leases(specs);
  if (!brokers.leases.empty()) context["brokers"] = brokers.context;

  std::signal(SIGINT, [](int) { interrupt_runs(); });
  std::signal(SIGTERM, [](int) { interrupt_runs(); });

  const bool progress = ::isatty(STDERR_FILENO);
  const auto started = Clock::now();
  std::vector<RunResult> so_far;
  auto next_write = Clock::now();
  auto results = run_all(specs, options, [&](const RunResult& r, std::size_t done, std::size_t total) {
    so_far.push_back(r);
    if (total >= 2 && done == total / 2) sample_floors(context, specs);  // halfway (floor_drift.hpp)
    // A valid file all along (a killed harness loses at most the last seconds), but not
    // rewritten after every run: with histograms a full suite's file is megabytes.
    if (Clock::now() >= next_write) {
      write_results_file(f.out, results_document(context, so_far));
      next_write = Clock::now() + std::chrono::seconds(5);
    }
    if (progress) {
      const double spent = std::chrono::duration<double>(Clock::now() - started).count();
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s #%d %s, %s left", done, total, r.spec.name().c_str(),
                   r.repetition_index, r.ok() ? "ok" : "FAILED",
                   duration_text(spent / double(done) * double(total - done)).c_str());
    }
    if (!r.ok()) std::fprintf(stderr, "%sipcmark: %s #%d failed: %s\n", progress ? "\n" : "",
                              r.spec.name().c_str(), r.repetition_index, r.error.c_str());
  });
  if (progress) std::fprintf(stderr, "\r\033[K");
  if (automatic.on) record_auto_repetitions(context, automatic, results);
  finish_context(context, specs, results, runs_interrupted());
  const nlohmann::json document = results_document(context, results);
  write_results_file(f.out, document);
  print_report(std::cout, read_results(document, f.out));
  std::cout << "results: " << f.out << '\n';
  if (!f.history.empty() && !runs_interrupted()) {  // an interrupted suite is not a run of it
    const auto ids = record_documents(f.history, {{document, "run"}}, f.labels);
    std::cout << "history: run " << ids.front() << " in " << HistoryStore::open(f.history, OpenMode::ExistingOnly).name()
              << '\n';
  }
  if (runs_interrupted()) {
    std::cerr << "ipcmark: interrupted; " << results.size() << " completed runs are in " << f.out << '\n';
    return 130;
  }
  for (const RunResult& r : results)
    if (!r.ok()) return 1;
  return 0;
}

}  // namespace

Subcommand add_run_command(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  RunFlags& f = *flags;
  CLI::App* run = app.add_subcommand("run", "Run a suite of server/client process pairs and write JSON results");
  run->add_option("--scenario", f.scenario_file, "Scenario JSON file (see scenarios/)")->check(CLI::ExistingFile);
  run->add_option("--transports,--transport", f.transports, "Transports, comma-separated (see `ipcmark list`)")
      ->delimiter(',');
  add_plugin_option(*run);
  run->add_option("--pattern,--patterns", f.patterns, "Patterns: oneshot, stream, pingpong, fanout (comma-separated)")
      ->delimiter(',');
  run->add_option("--sizes,--size", f.sizes, "Message sizes in bytes, comma-separated")->delimiter(',');
  run->add_option("--messages", f.messages, "Measured messages (or round trips) per run")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  run->add_option("--warmup", f.warmup, "Warm-up messages per run, not measured")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1'000'000'000}))
      ->each([&f](const std::string&) { f.warmup_set = true; });
  run->add_option("--repetitions", f.repetitions_text,
                  "Repetitions, each a fresh process pair; or auto: the scenario's count, then more rounds of every "
                  "configuration whose median's 95% interval is wider than --ci-width, within --time-budget")
      ->each([&f](const std::string&) { f.repetitions_set = true; });
  run->add_option("--ci-width", f.ci_width_percent, "--repetitions auto: the interval's half width, % of the median")
      ->check(CLI::Range(0.1, 100.0))
      ->capture_default_str();
  run->add_option("--time-budget", f.time_budget_s, "--repetitions auto: no new round after this many seconds")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  run->add_option("--wait", f.waits, "Wait strategies for shm: spin, block, futex, eventfd, sem, uds (comma-separated; the shm fanout takes spin and block)")->delimiter(',');
  run->add_option("--timeout", f.timeout_s, "Deadline of each run, seconds")->check(CLI::Range(1, 3600));
  run->add_option("--cpus", f.cpus,
                  "Placement: SERVER_CPU,CLIENT_CPU, cross (two distinct CPUs, the default), same (both on one) or none; "
                  "repeat for several (--cpus cross --cpus same)");
  run->add_option("--rate", f.rates, "Open loop: stream/fanout messages/s on a fixed schedule (0 = closed loop); comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1'000'000'000}));
  run->add_option("--readers", f.readers, "Pattern fanout: reader processes, 1 to 16 (comma-separated for several)")
      ->delimiter(',')
      ->check(CLI::Range(1, kMaxReaders));
  run->add_option("--copy", f.copies,
                  "copy (send/receive, every transport; the default) or zero (shm writes and reads in place); comma-separated")
      ->delimiter(',');
  run->add_option("--warmup-ms", f.warmup_ms, "Warm-up also lasts at least this long, milliseconds")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{600'000}))
      ->each([&f](const std::string&) { f.warmup_ms_set = true; });
  run->add_flag("--interleave,!--no-interleave", f.interleave,
                "Shuffle the runs of each repetition round (default on; --no-interleave runs spec by spec)");
  run->add_option("--seed", f.seed, "Seed of the interleaving shuffle (default: random, recorded in the results)");
  run->add_flag("--no-floor", f.no_floor, "Do not measure the machine's floor, first or around each repetition (saves about a second per placement and a few ms per repetition)");
  run->add_flag("--fail-fast", f.fail_fast, "Stop at the first failed run");
  run->add_option("--out", f.out, "Results file (JSON)")->capture_default_str();
  run->add_option("--history", f.history, "Also record the run into this store: a SQLite file or a postgresql:// URI "
                                          "(see `ipcmark history`)")
      ->envname("IPCMARK_HISTORY");
  run->add_option("--testbed", f.labels.testbed, "With --history: label of this machine's series (default: a hash of "
                                                 "CPU, kernel, CPUs, VM, pinning)");
  run->add_option("--commit", f.labels.git_commit, "With --history: the code's commit (default: the build's)");
  run->add_option("--branch", f.labels.git_branch, "With --history: the code's branch (default: $GITHUB_REF_NAME, else unknown)");

  return {run, [flags] { return command_run(*flags); }};  // a copy: command_run settles --repetitions in it
}

}  // namespace ipcmark
