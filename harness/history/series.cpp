// harness/history/series.cpp — medians per run, the figure chosen per row (series.hpp).
#include "harness/history/series.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>

namespace ipcmark {
namespace {

using Figure = std::optional<double> (*)(const RowPoint&);

struct NamedFigure {
  const char* name;
  Figure get;
};

const NamedFigure kFigures[] = {
    {"x_floor", [](const RowPoint& p) { return p.x_floor; }},
    {"latency_p50_ns", [](const RowPoint& p) { return p.latency_p50_ns; }},
    {"real_time_ns", [](const RowPoint& p) { return std::optional<double>(p.real_time_ns); }},
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The row's repetitions, grouped by run (in run order).
using Runs = std::vector<std::vector<const RowPoint*>>;

// Whether every repetition of the row divides by the same floor: x_floor over a cache-line round
// trip in some runs and over a futex one in others (a change of x_floor_of) is no series.
bool one_floor(const Runs& runs) {
  const std::optional<std::string>& first = runs.front().front()->x_floor_of;
  for (const auto& reps : runs)
    for (const RowPoint* p : reps)
      if (p->x_floor_of != first) return false;
  return true;
}

std::optional<Series> series_with(const std::string& row, const Runs& runs, const NamedFigure& figure) {
  if (std::string_view(figure.name) == "x_floor" && !one_floor(runs)) return std::nullopt;
  Series s{row, figure.name, {}};
  for (const auto& reps : runs) {
    std::vector<double> values;
    for (const RowPoint* p : reps)
      if (const auto v = figure.get(*p)) values.push_back(*v);
    if (values.empty()) return std::nullopt;
    const RowPoint& first = *reps.front();
    s.points.push_back({first.run_id, first.run_date, first.git_commit, first.git_branch, median(values),
                        int(values.size())});
  }
  return s;
}

}  // namespace

const std::vector<std::string>& series_figures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const NamedFigure& f : kFigures) out.emplace_back(f.name);
    return out;
  }();
  return names;
}

std::vector<Series> series_of(const std::vector<RowPoint>& points, const std::string& figure_wanted) {
  std::map<std::string, Runs> by_row;
  for (const RowPoint& p : points) {
    Runs& runs = by_row[p.name];
    if (runs.empty() || runs.back().front()->run_id != p.run_id) runs.emplace_back();
    runs.back().push_back(&p);
  }
  std::vector<Series> out;
  for (const auto& [row, runs] : by_row)
    for (const NamedFigure& figure : kFigures) {
      if (!figure_wanted.empty() && figure_wanted != figure.name) continue;
      if (auto s = series_with(row, runs, figure)) {
        out.push_back(std::move(*s));
        break;
      }
    }
  return out;
}

}  // namespace ipcmark
