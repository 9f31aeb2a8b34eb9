// harness/history/change_points.hpp — E-divisive means (Matteson & James 2014, as Apache Otava /
// Hunter and MongoDB's CI use it): split a series where the distributions before and after differ
// most, keep the split only when a permutation test says the difference is not chance, recurse.
//
// Contract:
//  * The statistic is the energy distance with alpha = 1 between the two sides of a split τ of a
//    segment [a, b): Q(τ) = m·n/(m+n) · (2/(m·n)·Σ|x−y| − Σ_{x<x'}|x−x'|/C(m,2) − Σ_{y<y'}|y−y'|/C(n,2)).
//    Like Otava, the split's right end is the segment's end (no second κ search).
//  * In 1-D with alpha = 1 every pairwise sum comes from a Fenwick tree over value ranks, so one
//    scan over every τ is O(T log T), not O(T²): that is what makes 100 rows × 1,000 runs cheap.
//  * Significance: the segment is shuffled `permutations` times; p = (1 + #{max Q of a shuffle ≥
//    observed}) / (1 + permutations). A split is kept when p ≤ max_p_value. Shuffles stop early once
//    the count of exceedances already makes p too large (most series have no change point).
//  * Hierarchical, as in the paper: the best split over all current segments is tested; the first
//    one that is not significant ends the search. Each side of a kept split has ≥ min_segment points.
//  * The search runs on the series clipped to its median ± 5 median absolute deviations: a run 4×
//    slower than the rest (a scheduler hiccup, a neighbour's burst) then weighs like a run a few
//    deviations out, so a handful of them cannot hide a 10% step that persists, nor fake one, and
//    the permutation test stays exact (it shuffles the clipped series). A step larger than the
//    bound still separates the runs after it from those before. Ranks would bound outliers too,
//    but they spread every segment evenly and moved a clean step's split by 3 runs in 100.
//    Sizes (mean_before, mean_after) are of the values as recorded.
//  * Deterministic for a given seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipcmark {

struct ChangePointOptions {
  double max_p_value = 0.01;
  int permutations = 199;
  std::size_t min_segment = 3;
  std::uint64_t seed = 1;
};

struct ChangePoint {
  std::size_t index = 0;   // the first point of the new segment
  double p_value = 1;
  double mean_before = 0;  // of the segments on either side (after every split is found)
  double mean_after = 0;
  double relative_change() const { return mean_before == 0 ? 0 : mean_after / mean_before - 1; }
};

// Change points of `series`, in index order.
std::vector<ChangePoint> find_change_points(const std::vector<double>& series, const ChangePointOptions& options = {});

// The largest Q(τ) over τ in [min_segment, size − min_segment] and that τ ({0, 0} when the series is
// too short): exposed for the tests, which compare it with the O(T²) definition.
struct BestSplit {
  std::size_t index = 0;
  double q = 0;
};
BestSplit best_split(const std::vector<double>& segment, std::size_t min_segment);

}  // namespace ipcmark
