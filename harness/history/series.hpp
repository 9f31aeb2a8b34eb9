// harness/history/series.hpp — one row's figure over runs, as change points are looked for in it.
//
// Contract:
//  * One point per run that has successful repetitions of the row: the median over them.
//  * The figure is, per row, the first of x_floor, latency_p50_ns, real_time_ns that every one of
//    its runs has. x_floor comes first because it divides by the floor measured in the same run,
//    so a runner that is slower all over (a noisy neighbour, another CPU model) moves it less.
//    It counts as had only when every repetition divides by the same floor (`x_floor_of`): a row
//    whose floor changed (shm `block` went from the futex to the cache-line round trip) falls back
//    to latency_p50_ns rather than showing the change of floor as a change point.
//    All three are "lower is better": a rise is a regression.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/history/store.hpp"

namespace ipcmark {

struct SeriesPoint {
  std::int64_t run_id = 0;
  std::string run_date, git_commit, git_branch;
  double value = 0;
  int repetitions = 0;
};

struct Series {
  std::string row, figure;
  std::vector<SeriesPoint> points;  // run order
};

// The figures a series can use, in the order of preference above.
const std::vector<std::string>& series_figures();

// `points` as HistoryStore::points returns them (run order); one Series per row name, by name.
// `figure` empty: the preferred figure per row; else that one, and rows lacking it in some run
// are left out.
std::vector<Series> series_of(const std::vector<RowPoint>& points, const std::string& figure = "");

}  // namespace ipcmark
