// harness/cli/compare_command.cpp — `ipcmark compare`, the CI gate: reads result files,
// prints the comparison table (harness/views/compare.hpp says how rows are judged) and exits
// 1 when any row regressed, 0 when none did, 2 on bad input or when no row could be
// tested. Sides: the positional pair `BASE.json NEW.json`, or `--base FILE` and
// `--new FILE`, each repeatable, so interleaved rounds (scripts/regression-check) pool
// their repetitions; the two forms do not mix.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/cli/subcommand.hpp"
#include "harness/views/compare.hpp"
#include "harness/results/output_path.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

struct CompareFlags {
  std::vector<std::string> positional, base, next;
  CompareOptions options;
  std::string json_out;
  std::string correction = "holm";
  std::string metric = "real_time";
};

// The same file twice, on one side or on both, would count its repetitions twice or
// compare a run with itself: always a mistake, so it is refused.
void refuse_repeats(const std::vector<std::string>& base, const std::vector<std::string>& next) {
  std::set<std::string> seen;
  for (const auto* side : {&base, &next})
    for (const std::string& path : *side) {
      std::error_code ec;
      const std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
      if (!seen.insert(ec ? path : canonical.string()).second)
        throw UsageError("file '" + path + "' is given twice (each file belongs to one side, once)");
    }
}

std::vector<ResultsDocument> load_all(const std::vector<std::string>& paths) {
  std::vector<ResultsDocument> files;
  for (const std::string& path : paths) files.push_back(read_results(path));
  return files;
}

std::string as_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string some_names(const std::vector<RowSample>& rows) {
  std::string out;
  for (std::size_t i = 0; i < rows.size() && i < 3; ++i) out += (i ? ", " : "") + rows[i].name;
  return out.empty() ? "none" : out + (rows.size() > 3 ? ", ..." : "");
}

int command_compare(CompareFlags f) {
  if (!f.json_out.empty()) check_output_path("--json", f.json_out);
  f.options.correction = f.correction == "none" ? Correction::None : Correction::Holm;
  if (!(f.options.alpha > 0.0 && f.options.alpha < 1.0))
    throw UsageError("--alpha " + as_text(f.options.alpha) + ": expected a probability between 0 and 1");
  if (!(f.options.threshold_percent >= 0.0))
    throw UsageError("--threshold " + as_text(f.options.threshold_percent) + ": expected a percentage >= 0");
  std::vector<std::string> base_paths = f.base, new_paths = f.next;
  if (!f.positional.empty()) {
    if (!base_paths.empty() || !new_paths.empty())
      throw UsageError("give either BASE.json NEW.json or --base/--new files, not both");
    if (f.positional.size() != 2)
      throw UsageError("expected two files, BASE.json NEW.json (got " + std::to_string(f.positional.size()) + ")");
    base_paths = {f.positional[0]};
    new_paths = {f.positional[1]};
  }
  if (base_paths.empty() || new_paths.empty())
    throw UsageError("nothing to compare: give BASE.json NEW.json, or at least one --base and one --new file");

  refuse_repeats(base_paths, new_paths);
  const std::vector<ResultsDocument> base = load_all(base_paths), next = load_all(new_paths);
  std::vector<ResultsDocument> all(base);
  all.insert(all.end(), next.begin(), next.end());
  require_same_schema(all);

  f.options.metric = f.metric == "x_floor" ? CompareMetric::XFloor : CompareMetric::RealTime;
  const std::vector<RowSample> base_rows = pool_rows(base, f.options.metric),
                               new_rows = pool_rows(next, f.options.metric);
  Comparison comparison = compare_rows(base_rows, new_rows, f.options);
  comparison.base_sources = base_paths;
  comparison.new_sources = new_paths;
  if (comparison.rows.empty())
    throw UsageError("no common rows: BASE has " + some_names(base_rows) + "; NEW has " + some_names(new_rows));

  std::cout << render_table(comparison) << std::flush;
  if (!f.json_out.empty()) {
    std::ofstream out(f.json_out);
    out << comparison_json(comparison).dump(2) << '\n';
    if (!out) throw UsageError("cannot write --json file '" + f.json_out + "'");
  }
  if (comparison.count(Verdict::TooFew) == comparison.rows.size()) {
    std::cerr << "ipcmark: error: no row has enough repetitions to test: need >= " << comparison.repetitions_needed()
              << " per side at --alpha " << f.options.alpha
              << (f.options.correction == Correction::Holm
                      ? " over " + std::to_string(comparison.family) + " rows (Holm)" : std::string())
              << " (ipcmark run --repetitions N)\n";
    return 2;
  }
  return comparison.count(Verdict::Regression) > 0 ? 1 : 0;
}

}  // namespace

Subcommand add_compare_command(CLI::App& app) {
  auto flags = std::make_shared<CompareFlags>();
  CLI::App* sub = app.add_subcommand(
      "compare", "Is NEW slower than BASE? Per row, one-sided Mann-Whitney U over repetitions plus a threshold; "
                 "exit 1 on a regression");
  sub->add_option("files", flags->positional, "BASE.json NEW.json (result files of `ipcmark run`)");
  sub->add_option("--base", flags->base, "A BASE result file; repeat to pool rounds")->allow_extra_args(false);
  sub->add_option("--new", flags->next, "A NEW result file; repeat to pool rounds")->allow_extra_args(false);
  sub->add_option("--threshold", flags->options.threshold_percent,
                  "Smallest median change that counts, percent")->capture_default_str();
  sub->add_option("--alpha", flags->options.alpha, "Significance level of the one-sided test")->capture_default_str();
  sub->add_option("--json", flags->json_out, "Also write the comparison as JSON to this file");
  sub->add_option("--correction", flags->correction,
                  "holm: adjust p over the rows compared, so an unchanged build fails at most alpha of the time; "
                  "none: test each row at alpha alone")
      ->check(CLI::IsMember({"holm", "none"}))
      ->capture_default_str();
  sub->add_option("--metric", flags->metric,
                  "real_time: ns per iteration; x_floor: each repetition over its own floor (use it where the host "
                  "moves the CPUs: compare says so when repetitions moved)")
      ->check(CLI::IsMember({"real_time", "x_floor"}))
      ->capture_default_str();
  return {sub, [flags] { return command_compare(*flags); }};
}

}  // namespace ipcmark
