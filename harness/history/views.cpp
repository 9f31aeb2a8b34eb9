// harness/history/views.cpp — tables and JSON of the history commands (views.hpp).
#include "harness/history/views.hpp"

#include <cstdio>

namespace ipcmark {
namespace {

std::string short_commit(const std::string& commit) { return commit.substr(0, 12); }

// printf into a string of whatever length it needs (row names and file paths have no bound).
std::string line(const char* format, auto... values) {
  std::string text(std::size_t(std::snprintf(nullptr, 0, format, values...)), '\0');
  std::snprintf(text.data(), text.size() + 1, format, values...);
  return text;
}

std::string percent(double change) { return line("%+.1f%%", 100 * change); }

nlohmann::json point_json(const SeriesPoint& p) {
  return {{"run", p.run_id}, {"date", p.run_date}, {"commit", p.git_commit}, {"branch", p.git_branch}, {"value", p.value},
          {"repetitions", p.repetitions}};
}

}  // namespace

std::string runs_table(const std::vector<RunSummary>& runs) {
  std::string out = line("%6s  %-20s  %-16s  %-12s  %-16s  %-14s  %5s  %s\n", "run", "recorded", "testbed", "commit",
                         "branch", "scenario", "rows", "source");
  for (const RunSummary& r : runs)
    out += line("%6lld  %-20s  %-16s  %-12s  %-16s  %-14s  %5lld  %s%s\n", (long long)r.id, r.recorded_at.c_str(),
                r.testbed.c_str(), short_commit(r.git_commit).c_str(), r.git_branch.c_str(), r.scenario.c_str(),
                (long long)r.rows, r.source.c_str(),
                r.failed_rows > 0 ? line(" (%lld failed)", (long long)r.failed_rows).c_str() : "");
  out += line("%zu runs\n", runs.size());
  return out;
}

nlohmann::json runs_json(const std::vector<RunSummary>& runs) {
  nlohmann::json out = nlohmann::json::array();
  for (const RunSummary& r : runs)
    out.push_back({{"run", r.id}, {"recorded_at", r.recorded_at}, {"date", r.run_date}, {"testbed", r.testbed},
                   {"commit", r.git_commit}, {"branch", r.git_branch}, {"scenario", r.scenario}, {"source", r.source},
                   {"rows", r.rows}, {"failed_rows", r.failed_rows}});
  return out;
}

std::string series_table(const Series& s) {
  std::string out = s.row + " (" + s.figure + ", median of the repetitions)\n";
  out += line("%6s  %-25s  %-12s  %-16s  %4s  %12s\n", "run", "date", "commit", "branch", "reps", s.figure.c_str());
  for (const SeriesPoint& p : s.points)
    out += line("%6lld  %-25s  %-12s  %-16s  %4d  %12.4g\n", (long long)p.run_id, p.run_date.c_str(),
                short_commit(p.git_commit).c_str(), p.git_branch.c_str(), p.repetitions, p.value);
  return out;
}

nlohmann::json series_json(const Series& s) {
  nlohmann::json points = nlohmann::json::array();
  for (const SeriesPoint& p : s.points) points.push_back(point_json(p));
  return {{"row", s.row}, {"figure", s.figure}, {"points", points}};
}

std::string check_table(const CheckResult& r, const CheckOptions& o) {
  std::string out;
  for (const Finding& f : r.findings)
    out += line("%-44s  %-14s  run %lld %s -> run %lld %s  %s  p=%.3g%s\n", f.row.c_str(), f.figure.c_str(),
                (long long)f.before.run_id, short_commit(f.before.git_commit).c_str(), (long long)f.after.run_id,
                short_commit(f.after.git_commit).c_str(), percent(f.change.relative_change()).c_str(), f.change.p_value,
                f.regression && f.recent ? "  REGRESSION (recent)" : f.regression ? "  regression" : "");
  out += line("%zu change points in %zu rows (%zu points; p <= %g, %d permutations); ", r.findings.size(), r.rows,
              r.points, o.change_points.max_p_value, o.change_points.permutations);
  out += r.failed() ? line("a regression above %s starts in the newest %zu runs\n", percent(o.threshold).c_str(), o.recent)
                    : line("no regression above %s in the newest %zu runs\n", percent(o.threshold).c_str(), o.recent);
  return out;
}

nlohmann::json check_json(const CheckResult& r, const CheckOptions& o) {
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding& f : r.findings)
    findings.push_back({{"row", f.row}, {"figure", f.figure}, {"index", f.change.index}, {"before", point_json(f.before)},
                        {"after", point_json(f.after)}, {"mean_before", f.change.mean_before},
                        {"mean_after", f.change.mean_after}, {"relative_change", f.change.relative_change()},
                        {"p_value", f.change.p_value}, {"regression", f.regression}, {"recent", f.recent}});
  return {{"rows", r.rows}, {"points", r.points}, {"threshold", o.threshold}, {"recent", o.recent},
          {"max_p_value", o.change_points.max_p_value}, {"permutations", o.change_points.permutations},
          {"failed", r.failed()}, {"change_points", findings}};
}

}  // namespace ipcmark
