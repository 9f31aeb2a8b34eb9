// harness/cli/history_command.cpp — `ipcmark history import|list|show|check`: the store of every
// recorded run (harness/history/). DEST is --history, else IPCMARK_HISTORY, else
// results/history.sqlite; reading commands never create a store.
#include <iostream>
#include <memory>

#include "harness/cli/subcommand.hpp"
#include "harness/history/check.hpp"
#include "harness/history/recorder.hpp"
#include "harness/history/series.hpp"
#include "harness/history/store.hpp"
#include "harness/history/views.hpp"
#include "harness/results/reader.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

struct HistoryFlags {
  std::string dest, testbed, format = "table", since, row, commit, branch, figure;
  std::vector<std::string> files;
  CheckOptions check;
};

void add_common(CLI::App* sub, HistoryFlags& f, bool reading) {
  sub->add_option("--history", f.dest, "Store: a SQLite file or a postgresql:// URI (default: $IPCMARK_HISTORY, "
                                       "else results/history.sqlite)");
  if (!reading) return;
  sub->add_option("--testbed", f.testbed, "The testbed (machine fingerprint) to read; needed when the store has several");
  sub->add_option("--format", f.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  if (sub->get_name() != "list")
    sub->add_option("--figure", f.figure, "The figure of every series (default: x_floor where every run has it, "
                                          "else latency_p50_ns, else real_time_ns)")
        ->check(CLI::IsMember(series_figures()));
}

HistoryStore reading_store(const HistoryFlags& f) {
  return HistoryStore::open(history_destination(f.dest), OpenMode::ExistingOnly);
}

int import_files(const HistoryFlags& f) {
  std::vector<SourcedDocument> documents;
  for (const std::string& file : f.files) documents.push_back({read_results_json(file), file});
  const std::string dest = history_destination(f.dest);
  const auto ids = record_documents(dest, documents, {f.testbed, f.commit, f.branch});
  std::cout << "recorded " << ids.size() << " runs into " << HistoryStore::open(dest, OpenMode::ExistingOnly).name()
            << '\n';
  return 0;
}

int list_runs(const HistoryFlags& f) {
  const HistoryStore store = reading_store(f);
  const auto runs = store.runs(f.testbed.empty() ? std::nullopt : std::optional(f.testbed));
  std::cout << (f.format == "json" ? runs_json(runs).dump(1) + "\n" : runs_table(runs));
  return 0;
}

int show_rows(const HistoryFlags& f) {
  const HistoryStore store = reading_store(f);
  PointFilter filter{chosen_testbed(store, f.testbed), std::nullopt, std::nullopt};
  if (!f.row.empty()) filter.row = f.row;
  if (!f.since.empty()) filter.since = f.since;
  const std::vector<Series> series = series_of(store.points(filter), f.figure);
  if (series.empty())
    throw UsageError(store.name() + ": no successful runs" + (f.row.empty() ? "" : " of row '" + f.row + "'") +
                     " on testbed " + filter.testbed + (f.since.empty() ? "" : " since " + f.since));
  // One row: its series; every row: a list of them.
  nlohmann::json all = nlohmann::json::array();
  for (const Series& s : series) {
    if (f.format == "json") all.push_back(series_json(s));
    else std::cout << series_table(s) << (series.size() > 1 ? "\n" : "");
  }
  if (f.format == "json") std::cout << (f.row.empty() ? all : all.front()).dump(1) << '\n';
  return 0;
}

int check_rows(const HistoryFlags& f) {
  if (!(f.check.threshold >= 0)) throw UsageError("--threshold must be 0 or more");
  if (!(f.check.change_points.max_p_value > 0 && f.check.change_points.max_p_value < 1))
    throw UsageError("--p-value must be between 0 and 1");
  const HistoryStore store = reading_store(f);
  const std::string testbed = chosen_testbed(store, f.testbed);
  const CheckResult result = check_series(series_of(store.points({testbed, std::nullopt, std::nullopt}), f.figure), f.check);
  std::cout << (f.format == "json" ? check_json(result, f.check).dump(1) + "\n" : check_table(result, f.check));
  return result.failed() ? 1 : 0;
}

}  // namespace

Subcommand add_history_command(CLI::App& app) {
  auto flags = std::make_shared<HistoryFlags>();
  HistoryFlags& f = *flags;
  CLI::App* history = app.add_subcommand("history", "Every recorded run: import, list, show a row's series, check for change points");
  history->require_subcommand(1);

  CLI::App* import = history->add_subcommand("import", "Record existing results files into the store");
  import->add_option("files", f.files, "Results files (ipcmark run --out)")->required();
  add_common(import, f, false);
  import->add_option("--testbed", f.testbed, "Label the runs' testbed (default: a hash of CPU, kernel, CPUs, VM, pinning)");
  import->add_option("--commit", f.commit, "The code's git commit (default: the file's context.git_commit)");
  import->add_option("--branch", f.branch, "The code's git branch (default: $GITHUB_REF_NAME, else unknown)");

  CLI::App* list = history->add_subcommand("list", "The recorded runs");
  add_common(list, f, true);

  CLI::App* show = history->add_subcommand("show", "A row's series (every row's without ROW): the median of its "
                                                   "repetitions in every run");
  show->add_option("row", f.row, "Row name, e.g. shm/pingpong/64/spin/cross");
  add_common(show, f, true);
  show->add_option("--since", f.since, "Only runs dated at or after this ISO 8601 date (e.g. 2026-12-01)");

  CLI::App* check = history->add_subcommand("check", "Change points in every row's series (E-divisive means); "
                                                     "exit 1 when the newest runs start a regression");
  add_common(check, f, true);
  check->add_option("--threshold", f.check.threshold, "A rise above this fraction is a regression (default 0.05)");
  check->add_option("--p-value", f.check.change_points.max_p_value, "Largest p-value of a change point (default 0.01)");
  check->add_option("--permutations", f.check.change_points.permutations, "Shuffles of the significance test (default 199)")
      ->check(CLI::Range(19, 100000));
  check->add_option("--recent", f.check.recent, "Runs that count as newest for the exit code (default 5)")
      ->check(CLI::Range(1, 1000000));
  check->add_option("--min-segment", f.check.change_points.min_segment, "Fewest runs on either side of a change (default 3)")
      ->check(CLI::Range(1, 1000000));
  check->add_option("--seed", f.check.change_points.seed, "Seed of the shuffles (default 1)");

  return {history, [flags, import, list, show, check] {
            const HistoryFlags& f = *flags;
            if (import->parsed()) return import_files(f);
            if (list->parsed()) return list_runs(f);
            if (show->parsed()) return show_rows(f);
            if (check->parsed()) return check_rows(f);
            return 2;
          }};
}

}  // namespace ipcmark
