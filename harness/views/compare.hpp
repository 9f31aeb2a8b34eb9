// harness/views/compare.hpp — `ipcmark compare`: is NEW slower than BASE? Pure functions over
// result documents (files are read by results_reader.hpp), so every decision is tested
// without running anything.
//
// The test. Rows are matched by exact name. Each side's sample is its successful
// repetitions (iteration rows; failed ones are skipped), pooled over every file given
// for that side. Per row, a one-sided Mann–Whitney U test asks whether NEW's values tend
// to be larger (slower) than BASE's, and another whether they tend to be smaller; the
// verdict is
//   regression   p_slower (adjusted) < alpha and the median change > +threshold %
//   improvement  p_faster (adjusted) < alpha and the median change < -threshold %
//   same         otherwise
//   too few repetitions  when no outcome could reach an adjusted p < alpha at these
//                sample sizes
// Why Mann–Whitney rather than a bootstrap or a t-test: repetition times are skewed and
// carry outliers (a descheduled run), so a rank test that assumes no distribution fits;
// its p-value is deterministic (no resampling seed), exact for small samples, and it is
// the test Google Benchmark's compare.py runs, so the two tools read alike. The test
// alone flags tiny but consistent shifts, hence the effect-size threshold on medians.
// Exact distribution when both sides have at most kExactLimit values and no value is
// tied; otherwise the normal approximation with tie and continuity corrections.
//
// Many rows are many tests: at alpha 0.05 each noisy row (one whose repetitions spread
// past the threshold) fails an unchanged build about 5 % of the time, and a gate has many
// rows. Two back-to-back runs of one build on the shared 2-vCPU machine, tested row by
// row, gave 1 regression and 2 improvements among 16 rows (tests/data/results/
// compare-live-aa-*.json). So by default the p-values are Holm–Bonferroni adjusted over
// the rows compared (one family per direction): the chance that an unchanged build fails
// the gate stays at or below alpha, at the price of needing stronger evidence per row
// (more repetitions). `Correction::None` tests each row at alpha alone, as compare.py does.
// A consequence to say out loud: with m and n repetitions the smallest one-sided exact p
// is 1 / C(m+n, m); with 3 and 3 that is 1/20 = 0.05, which never beats alpha = 0.05 even
// for one row, and Holm over k rows needs k times less.
//
// The metric is `real_time` (ns per round trip, per message for stream, per fetch for
// oneshot: larger is slower in every case), converted from `time_unit`. Open-loop rows
// (they carry `target_rate`) are paced, so their real_time is fixed by the rate; they
// are compared on `latency_ns.p50` instead.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/results/reader.hpp"

namespace ipcmark {

inline constexpr std::size_t kExactLimit = 50;

// ---- pooling repetitions -----------------------------------------------------------------

// Throws UsageError unless every file carries the same schema version.
void require_same_schema(const std::vector<ResultsDocument>& files);

// What is compared. RealTime: ns per iteration (open-loop rows: latency p50). XFloor: each
// repetition over its own floor (results/README.md, x_floor), which a host moving the CPUs between
// repetitions changes far less than the raw time: a repetition on two hyperthreads of one core and
// one on two cores differ 2x in their round trips and in their floors alike. It should be the
// metric wherever the host moves the CPUs (repetitions flagged floor_moved, or floor_clusters in the
// context, which `compare` then points out) and busy-poll or kernel round trips are gated; real_time
// stays the default because x_floor cannot see a change that moves the floor too (a slower futex
// path in the kernel) and older files lack it.
enum class CompareMetric { RealTime, XFloor };

// The successful repetitions of one row name, pooled over files, in ns (or × floor).
struct RowSample {
  std::string name;
  std::string metric;  // "real_time", "latency_p50" (open-loop rows) or "x_floor"
  std::vector<double> values;
  std::vector<bool> moved;  // per value: the repetition's floor moved during it (floor_moved)
  std::string x_floor_of;   // the floor x_floor divides by, as the rows say ("" when they do not)
  int failed = 0;  // repetitions skipped because they failed
  int without_metric = 0;  // successful repetitions skipped because they lack the metric (no x_floor)
};

// Iteration rows by name, in first-seen order. With XFloor, a row none of whose repetitions
// carries an x_floor has no values and a without_metric count.
std::vector<RowSample> pool_rows(const std::vector<ResultsDocument>& files,
                                 CompareMetric metric = CompareMetric::RealTime);

// ---- the statistics --------------------------------------------------------------------

struct MannWhitney {
  double u = 0;          // pairs (base, new) with new > base, ties counting 1/2
  double p_slower = 1;   // one-sided: new tends to be larger than base
  double p_faster = 1;   // one-sided: new tends to be smaller than base
  bool exact = false;    // exact distribution (else the normal approximation)
};

MannWhitney mann_whitney(const std::vector<double>& base, const std::vector<double>& next);

// 1 / C(m+n, m): the smallest one-sided p any outcome of the exact test can give.
double smallest_p(std::size_t m, std::size_t n);
// Smallest n with smallest_p(n, n) < alpha: repetitions per side the test needs (pass
// alpha / rows under the Holm correction).
std::size_t repetitions_needed(double alpha);

// Holm–Bonferroni step-down adjusted p-values, in the order given.
std::vector<double> holm_adjust(const std::vector<double>& p);

// ---- comparing -------------------------------------------------------------------------

enum class Verdict { Regression, Improvement, Same, TooFew };
const char* to_string(Verdict verdict);

enum class Correction { Holm, None };

struct CompareOptions {
  CompareMetric metric = CompareMetric::RealTime;
  double threshold_percent = 5.0;
  double alpha = 0.05;
  Correction correction = Correction::Holm;
};

struct RowComparison {
  std::string name, metric;
  std::size_t base_n = 0, new_n = 0;
  int base_failed = 0, new_failed = 0;
  double base_median = 0, new_median = 0;  // ns
  double change_percent = 0;               // (new - base) / base, in %
  MannWhitney test;
  double p_slower = 1, p_faster = 1;  // test's p-values after the correction (equal without one)
  Verdict verdict = Verdict::Same;
  int base_moved = 0, new_moved = 0;  // repetitions whose floor moved, kept in the test
  // The verdict with the moved repetitions left out (Holm over the same rows): whether they
  // change the outcome. Equal to verdict when none moved.
  Verdict verdict_without_moved = Verdict::Same;
  // The adjusted one-sided p in the direction of the change: p_slower when new >= base.
  double p_value() const { return change_percent >= 0 ? p_slower : p_faster; }
};

struct Comparison {
  CompareOptions options;
  std::vector<std::string> base_sources, new_sources;
  std::vector<RowComparison> rows;                  // BASE's order
  std::vector<std::string> only_in_base, only_in_new;
  std::vector<std::string> without_metric;  // rows with no x_floor on a side, or x_floor of different floors
  std::size_t family = 0;  // rows with repetitions on both sides: the Holm family size
  std::size_t count(Verdict verdict) const;
  // Rows whose verdict the moved repetitions decide (verdict != verdict_without_moved).
  std::size_t changed_by_moved() const;
  std::size_t moved() const;  // moved repetitions over every row and both sides
  // Repetitions per side any row needs to be testable here (alpha, correction, family).
  std::size_t repetitions_needed() const;
};

Comparison compare_rows(const std::vector<RowSample>& base, const std::vector<RowSample>& next,
                        const CompareOptions& options);

// The table `ipcmark compare` prints, with the rows only one side has and a summary.
std::string render_table(const Comparison& comparison);
// What `--json FILE` writes.
nlohmann::json comparison_json(const Comparison& comparison);

}  // namespace ipcmark
