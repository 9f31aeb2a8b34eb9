// harness/history/check.hpp — `history check`: change points in every row's series of a testbed,
// and whether the newest runs start a regression.
//
// Contract:
//  * Each series is searched with find_change_points (change_points.hpp), seeded per row so the
//    result does not depend on which other rows are in the store.
//  * A change point is a regression when its relative change (mean after / mean before − 1) is
//    above `threshold` (series figures are lower-is-better, series.hpp).
//  * The check fails (exit 1) when a regression starts within the newest `recent` runs of its row.
//    Why a window and not only the newest run: a single run cannot be told from an outlier by a
//    permutation test (about 2 shuffles in T put an outlier at an end), so a step becomes
//    significant only once a few runs show it — min_segment of them at least.
#pragma once

#include <cstddef>
#include <vector>

#include "harness/history/change_points.hpp"
#include "harness/history/series.hpp"

namespace ipcmark {

struct CheckOptions {
  ChangePointOptions change_points;
  double threshold = 0.05;
  std::size_t recent = 5;
};

struct Finding {
  std::string row, figure;
  ChangePoint change;
  SeriesPoint before, after;  // the last run before the change and the first after it
  bool regression = false;    // a rise above the threshold
  bool recent = false;        // starts within the newest `recent` runs
};

struct CheckResult {
  std::size_t rows = 0, points = 0;
  std::vector<Finding> findings;
  bool failed() const;  // a recent regression
};

CheckResult check_series(const std::vector<Series>& series, const CheckOptions& options);

}  // namespace ipcmark
