// harness/history/check.cpp — change points over every series (check.hpp).
#include "harness/history/check.hpp"

#include <functional>

namespace ipcmark {

bool CheckResult::failed() const {
  for (const Finding& f : findings)
    if (f.regression && f.recent) return true;
  return false;
}

CheckResult check_series(const std::vector<Series>& series, const CheckOptions& options) {
  CheckResult result;
  for (const Series& s : series) {
    ++result.rows;
    result.points += s.points.size();
    std::vector<double> values;
    for (const SeriesPoint& p : s.points) values.push_back(p.value);
    ChangePointOptions o = options.change_points;
    o.seed ^= std::hash<std::string>{}(s.row);
    for (const ChangePoint& c : find_change_points(values, o)) {
      Finding f{s.row, s.figure, c, s.points[c.index - 1], s.points[c.index], false, false};
      f.regression = c.relative_change() > options.threshold;
      f.recent = values.size() - c.index <= options.recent;
      result.findings.push_back(std::move(f));
    }
  }
  return result;
}

}  // namespace ipcmark
