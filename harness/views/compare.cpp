#include "harness/views/compare.hpp"
#include "harness/views/units.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "harness/measure/stats.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

// Standard normal upper tail.
double upper_tail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// How many of the C(m+n, m) orderings of m NEW and n BASE values (no ties) give each U,
// the count of pairs new > base. The largest value is either NEW's, beating all n base
// values, or BASE's, beating none: c(m, n, u) = c(m-1, n, u-n) + c(m, n-1, u).
// Doubles hold C(100, 50) ≈ 1e29 with ample precision.
std::vector<double> u_counts(std::size_t m, std::size_t n) {
  std::vector<std::vector<double>> previous(n + 1), current(n + 1);
  for (std::size_t i = 0; i <= m; ++i) {
    for (std::size_t j = 0; j <= n; ++j) {
      std::vector<double>& c = current[j];
      c.assign(i * j + 1, 0.0);
      if (i == 0 || j == 0) {
        c[0] = 1.0;
        continue;
      }
      for (std::size_t u = 0; u < previous[j].size(); ++u) c[u + j] += previous[j][u];
      for (std::size_t u = 0; u < current[j - 1].size(); ++u) c[u] += current[j - 1][u];
    }
    std::swap(previous, current);
  }
  return previous[n];
}

std::string percent(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", value);
  return buf;
}

std::string p_text(double p) {
  if (p < 0.0001) return "<0.0001";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", p);
  return buf;
}

std::string number_text(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

// ---- pooling ---------------------------------------------------------------------------

void require_same_schema(const std::vector<ResultsDocument>& files) {
  if (files.empty()) return;
  const int first = files.front().context.schema_version;
  for (const ResultsDocument& f : files)
    if (f.context.schema_version != first)
      throw UsageError("json_schema_version differs: " + files.front().source + " has " + std::to_string(first) +
                       ", " + f.source + " has " + std::to_string(f.context.schema_version) +
                       " (compare files written by the same schema)");
}

std::vector<RowSample> pool_rows(const std::vector<ResultsDocument>& files, CompareMetric metric) {
  std::vector<RowSample> rows;
  std::map<std::string, std::size_t> index_of;
  const bool x_floor = metric == CompareMetric::XFloor;
  for (const ResultsDocument& file : files)
    for (const Row& row : file.rows) {
      if (row.run_type != RunType::Iteration) continue;
      auto [it, added] = index_of.try_emplace(row.name, rows.size());
      if (added)
        rows.push_back({row.name, x_floor ? "x_floor" : row.open_loop() ? "latency_p50" : "real_time", {}, {}, "", 0, 0});
      RowSample& sample = rows[it->second];
      if (row.failed()) {
        ++sample.failed;
        continue;
      }
      if (x_floor && !row.x_floor) {
        ++sample.without_metric;
        continue;
      }
      if (x_floor && sample.x_floor_of.empty()) sample.x_floor_of = row.x_floor_of.value_or("");
      sample.values.push_back(x_floor           ? *row.x_floor
                              : row.open_loop() ? row.latency_ns->p50  // the reader checked
                                                : row.real_time_ns);
      sample.moved.push_back(row.floor_moved.value_or(false));
    }
  return rows;
}

// ---- statistics ------------------------------------------------------------------------

MannWhitney mann_whitney(const std::vector<double>& base, const std::vector<double>& next) {
  MannWhitney r;
  const std::size_t n = base.size(), m = next.size();
  if (m == 0 || n == 0) return r;
  for (double y : next)
    for (double x : base) r.u += y > x ? 1.0 : y == x ? 0.5 : 0.0;

  std::vector<double> pooled(base);
  pooled.insert(pooled.end(), next.begin(), next.end());
  std::sort(pooled.begin(), pooled.end());
  double tie_term = 0;  // sum of t^3 - t over groups of t equal values
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    while (j < pooled.size() && pooled[j] == pooled[i]) ++j;
    const double t = double(j - i);
    tie_term += t * t * t - t;
    i = j;
  }

  if (tie_term == 0 && m <= kExactLimit && n <= kExactLimit) {
    const std::vector<double> counts = u_counts(m, n);
    const auto u = static_cast<std::size_t>(r.u);  // an integer without ties
    double total = 0, at_least = 0, at_most = 0;
    for (std::size_t k = 0; k < counts.size(); ++k) {
      total += counts[k];
      if (k >= u) at_least += counts[k];
      if (k <= u) at_most += counts[k];
    }
    r.p_slower = at_least / total;
    r.p_faster = at_most / total;
    r.exact = true;
    return r;
  }
  const double N = double(m + n), mean_u = double(m) * double(n) / 2.0;
  const double variance = double(m) * double(n) / 12.0 * ((N + 1.0) - tie_term / (N * (N - 1.0)));
  if (variance <= 0) return r;  // every value equal: no evidence either way
  const double sd = std::sqrt(variance);
  r.p_slower = std::clamp(upper_tail((r.u - 0.5 - mean_u) / sd), 0.0, 1.0);
  r.p_faster = std::clamp(1.0 - upper_tail((r.u + 0.5 - mean_u) / sd), 0.0, 1.0);
  return r;
}

double smallest_p(std::size_t m, std::size_t n) {
  // 1 / C(m+n, m) as a running product, which stays within double range.
  double p = 1.0;
  for (std::size_t k = 1; k <= std::min(m, n); ++k) p *= double(k) / double(std::max(m, n) + k);
  return p;
}

std::size_t repetitions_needed(double alpha) {
  std::size_t n = 1;
  while (n < 1000 && smallest_p(n, n) >= alpha) ++n;
  return n;
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
  std::vector<std::size_t> order(p.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  std::vector<double> adjusted(p.size());
  double running = 0;  // step-down: an adjusted p never falls below one ranked before it
  for (std::size_t k = 0; k < order.size(); ++k) {
    running = std::max(running, std::min(1.0, double(order.size() - k) * p[order[k]]));
    adjusted[order[k]] = running;
  }
  return adjusted;
}

// ---- comparing -------------------------------------------------------------------------

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Regression: return "regression";
    case Verdict::Improvement: return "improvement";
    case Verdict::Same: return "same";
    case Verdict::TooFew: return "too few repetitions";
  }
  return "same";
}

std::size_t Comparison::repetitions_needed() const {
  const double k = options.correction == Correction::Holm ? double(std::max<std::size_t>(family, 1)) : 1.0;
  return ipcmark::repetitions_needed(options.alpha / k);
}

std::size_t Comparison::count(Verdict verdict) const {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [&](const RowComparison& r) { return r.verdict == verdict; }));
}

std::size_t Comparison::changed_by_moved() const {
  return static_cast<std::size_t>(std::count_if(
      rows.begin(), rows.end(), [](const RowComparison& r) { return r.verdict != r.verdict_without_moved; }));
}

std::size_t Comparison::moved() const {
  std::size_t n = 0;
  for (const RowComparison& r : rows) n += std::size_t(r.base_moved + r.new_moved);
  return n;
}

namespace {

// The samples without their moved repetitions.
std::vector<RowSample> unmoved(const std::vector<RowSample>& samples) {
  std::vector<RowSample> out = samples;
  for (RowSample& s : out) {
    std::vector<double> kept;
    for (std::size_t i = 0; i < s.values.size(); ++i)
      if (!s.moved[i]) kept.push_back(s.values[i]);
    s.values = std::move(kept);
    s.moved.assign(s.values.size(), false);
  }
  return out;
}

int moved_in(const RowSample& s) { return static_cast<int>(std::count(s.moved.begin(), s.moved.end(), true)); }

bool any_moved(const std::vector<RowSample>& samples) {
  return std::any_of(samples.begin(), samples.end(), [](const RowSample& s) { return moved_in(s) > 0; });
}

Comparison test_rows(const std::vector<RowSample>& base, const std::vector<RowSample>& next,
                     const CompareOptions& options);

}  // namespace

Comparison compare_rows(const std::vector<RowSample>& base, const std::vector<RowSample>& next,
                        const CompareOptions& options) {
  Comparison c = test_rows(base, next, options);
  for (RowComparison& r : c.rows) r.verdict_without_moved = r.verdict;
  if (any_moved(base) || any_moved(next)) {
    const Comparison without = test_rows(unmoved(base), unmoved(next), options);
    std::map<std::string, Verdict> verdict_of;
    for (const RowComparison& r : without.rows) verdict_of[r.name] = r.verdict;
    for (RowComparison& r : c.rows) r.verdict_without_moved = verdict_of.at(r.name);
  }
  return c;
}

namespace {

Comparison test_rows(const std::vector<RowSample>& base, const std::vector<RowSample>& next,
                     const CompareOptions& options) {
  Comparison c;
  c.options = options;
  std::map<std::string, const RowSample*> new_by_name;
  for (const RowSample& s : next) new_by_name[s.name] = &s;
  std::set<std::string> base_names;
  for (const RowSample& b : base) {
    base_names.insert(b.name);
    const auto found = new_by_name.find(b.name);
    if (found == new_by_name.end()) {
      c.only_in_base.push_back(b.name);
      continue;
    }
    const RowSample& n = *found->second;
    if ((b.values.empty() && b.without_metric > 0) || (n.values.empty() && n.without_metric > 0)) {
      c.without_metric.push_back(b.name);  // no x_floor here (oneshot, an older file): nothing to test
      continue;
    }
    if (b.x_floor_of != n.x_floor_of) {
      c.without_metric.push_back(b.name + " (x_floor of " + (b.x_floor_of.empty() ? "an unnamed floor" : b.x_floor_of) +
                                 " vs " + (n.x_floor_of.empty() ? "an unnamed floor" : n.x_floor_of) + ")");
      continue;
    }
    RowComparison r;
    r.name = b.name;
    r.base_moved = moved_in(b);
    r.new_moved = moved_in(n);
    r.metric = b.metric;
    r.base_n = b.values.size();
    r.new_n = n.values.size();
    r.base_failed = b.failed;
    r.new_failed = n.failed;
    r.base_median = median(b.values);
    r.new_median = median(n.values);
    r.change_percent = r.base_median > 0 ? (r.new_median - r.base_median) / r.base_median * 100.0 : 0.0;
    r.test = mann_whitney(b.values, n.values);
    c.rows.push_back(std::move(r));
  }

  // Holm over the rows that have repetitions on both sides, one family per direction.
  std::vector<std::size_t> tested;
  std::vector<double> slower, faster;
  for (std::size_t i = 0; i < c.rows.size(); ++i)
    if (c.rows[i].base_n > 0 && c.rows[i].new_n > 0) {
      tested.push_back(i);
      slower.push_back(c.rows[i].test.p_slower);
      faster.push_back(c.rows[i].test.p_faster);
    }
  c.family = tested.size();
  if (options.correction == Correction::Holm) {
    slower = holm_adjust(slower);
    faster = holm_adjust(faster);
  }
  const double k = options.correction == Correction::Holm ? double(c.family) : 1.0;
  for (std::size_t t = 0; t < tested.size(); ++t) {
    RowComparison& r = c.rows[tested[t]];
    r.p_slower = slower[t];
    r.p_faster = faster[t];
    if (smallest_p(r.base_n, r.new_n) * k >= options.alpha)
      r.verdict = Verdict::TooFew;
    else if (r.p_slower < options.alpha && r.change_percent > options.threshold_percent)
      r.verdict = Verdict::Regression;
    else if (r.p_faster < options.alpha && r.change_percent < -options.threshold_percent)
      r.verdict = Verdict::Improvement;
  }
  for (RowComparison& r : c.rows)
    if (r.base_n == 0 || r.new_n == 0) r.verdict = Verdict::TooFew;
  for (const RowSample& n : next)
    if (!base_names.contains(n.name)) c.only_in_new.push_back(n.name);
  return c;
}

}  // namespace

std::string render_table(const Comparison& c) {
  const std::size_t need = c.repetitions_needed();
  const bool holm = c.options.correction == Correction::Holm;
  std::size_t width = 3;
  for (const RowComparison& r : c.rows) width = std::max(width, r.name.size());
  std::ostringstream out;
  char line[512];
  const bool x_floor = c.options.metric == CompareMetric::XFloor;
  const bool moved = c.moved() > 0;
  const auto value_text = [&](double v) { return x_floor ? format_times(v) : format_ns(v); };
  std::snprintf(line, sizeof line, "| %-*s | %10s | %10s | %8s | %7s | %7s |%s %s\n", int(width), "row", "base", "new",
                "change", "p", "reps", moved ? "   moved |" : "", "verdict");
  out << line << '|' << std::string(width + 2, '-') << '|' << std::string(12, '-') << '|' << std::string(12, '-') << '|'
      << std::string(10, '-') << '|' << std::string(9, '-') << '|' << std::string(9, '-') << '|'
      << (moved ? std::string(9, '-') + "|" : "") << "--------\n";
  bool any_p50 = false;
  for (const RowComparison& r : c.rows) {
    std::string verdict = to_string(r.verdict);
    if (r.verdict == Verdict::TooFew) verdict += ": need >= " + std::to_string(need) + " per side";
    const std::string reps = std::to_string(r.base_n) + "/" + std::to_string(r.new_n);
    const bool empty = r.base_n == 0 || r.new_n == 0;
    if (r.verdict_without_moved != r.verdict)
      verdict += " (" + std::string(to_string(r.verdict_without_moved)) + " without the moved)";
    char moved_cell[32] = "";
    if (moved)
      std::snprintf(moved_cell, sizeof moved_cell, " %7s |", (std::to_string(r.base_moved) + "/" + std::to_string(r.new_moved)).c_str());
    std::snprintf(line, sizeof line, "| %-*s | %10s | %10s | %8s | %7s | %7s |%s %s", int(width),
                  (r.name + (r.metric == "latency_p50" ? "*" : "")).c_str(),
                  r.base_n ? value_text(r.base_median).c_str() : "-", r.new_n ? value_text(r.new_median).c_str() : "-",
                  empty ? "-" : percent(r.change_percent).c_str(), empty ? "-" : p_text(r.p_value()).c_str(),
                  reps.c_str(), moved_cell, verdict.c_str());
    out << line;
    if (r.base_failed || r.new_failed) {
      out << " (failed repetitions skipped: " << r.base_failed << " base, " << r.new_failed << " new)";
    }
    out << '\n';
    any_p50 = any_p50 || r.metric == "latency_p50";
  }
  out << (x_floor ? "(median x_floor per side: each repetition over its own floor (results/README.md, x_floor_of);\n"
                  : "(median real_time per side: ns per round trip, per message for stream, per fetch for oneshot;\n")
      << " p: one-sided Mann-Whitney U in the direction of the change"
      << (holm ? ", Holm-adjusted over the " + std::to_string(c.family) + " rows compared" : std::string())
      << ";\n reps: successful repetitions base/new"
      << (moved ? ";\n moved: of those, repetitions whose floor moved during them (kept in the test)" : "") << ")\n";
  if (any_p50) out << "(* open-loop row, paced at its target rate: compared on median latency p50 instead)\n";
  if (!c.only_in_base.empty()) out << "only in BASE, not compared: " << join(c.only_in_base) << '\n';
  if (!c.only_in_new.empty()) out << "only in NEW, not compared: " << join(c.only_in_new) << '\n';
  if (!c.without_metric.empty()) out << "no x_floor on both sides, not compared: " << join(c.without_metric) << '\n';
  const std::size_t regressions = c.count(Verdict::Regression), improvements = c.count(Verdict::Improvement),
                    few = c.count(Verdict::TooFew);
  out << c.rows.size() << " rows compared: " << regressions << (regressions == 1 ? " regression, " : " regressions, ")
      << improvements << (improvements == 1 ? " improvement, " : " improvements, ") << c.count(Verdict::Same)
      << " same";
  if (few) out << ", " << few << " with too few repetitions";
  out << " (alpha " << number_text(c.options.alpha) << ", threshold " << number_text(c.options.threshold_percent)
      << "%" << (holm ? ", Holm" : ", no correction") << ")\n";
  if (moved) {
    const std::size_t changed = c.changed_by_moved();
    out << c.moved() << " repetitions moved (their floor before and after disagreed: the host moved the CPUs); "
        << (changed == 0 ? std::string("leaving them out changes no verdict")
                         : "leaving them out changes the verdict of " + std::to_string(changed) +
                               (changed == 1 ? " row" : " rows") + " (marked above)")
        << '\n';
    if (!x_floor) out << "hint: on a host that moves the CPUs, --metric x_floor compares each repetition over its own floor\n";
  }
  if (few)
    out << "too few repetitions: with m and n repetitions the smallest possible one-sided p is 1/C(m+n, m) "
           "(3 and 3: 1/20 = 0.05); at alpha "
        << number_text(c.options.alpha)
        << (holm ? " over " + std::to_string(c.family) + " rows (Holm)" : std::string()) << " each side needs >= "
        << need << " repetitions (ipcmark run --repetitions, or pool rounds with --base/--new)\n";
  return out.str();
}

json comparison_json(const Comparison& c) {
  json rows = json::array();
  for (const RowComparison& r : c.rows) {
    const bool empty = r.base_n == 0 || r.new_n == 0;
    rows.push_back({{"name", r.name},
                    {"metric", r.metric},
                    {"base_median_ns", r.base_n ? json(r.base_median) : json(nullptr)},
                    {"new_median_ns", r.new_n ? json(r.new_median) : json(nullptr)},
                    {"change_percent", empty ? json(nullptr) : json(r.change_percent)},
                    {"u", r.test.u},
                    {"p_slower", r.p_slower},
                    {"p_faster", r.p_faster},
                    {"p_slower_unadjusted", r.test.p_slower},
                    {"p_faster_unadjusted", r.test.p_faster},
                    {"exact", r.test.exact},
                    {"base_repetitions", r.base_n},
                    {"new_repetitions", r.new_n},
                    {"base_failed", r.base_failed},
                    {"new_failed", r.new_failed},
                    {"verdict", to_string(r.verdict)},
                    {"base_moved", r.base_moved},
                    {"new_moved", r.new_moved},
                    {"verdict_without_moved", to_string(r.verdict_without_moved)}});
  }
  return {{"test", "one-sided Mann-Whitney U"},
          {"metric", c.options.metric == CompareMetric::XFloor ? "x_floor" : "real_time"},
          {"moved_repetitions", c.moved()},
          {"verdicts_changed_by_moved", c.changed_by_moved()},
          {"without_metric", c.without_metric},
          {"alpha", c.options.alpha},
          {"threshold_percent", c.options.threshold_percent},
          {"correction", c.options.correction == Correction::Holm ? "holm" : "none"},
          {"rows_compared", c.family},
          {"repetitions_needed_per_side", c.repetitions_needed()},
          {"base", c.base_sources},
          {"new", c.new_sources},
          {"rows", rows},
          {"only_in_base", c.only_in_base},
          {"only_in_new", c.only_in_new},
          {"regressions", c.count(Verdict::Regression)},
          {"improvements", c.count(Verdict::Improvement)},
          {"same", c.count(Verdict::Same)},
          {"too_few_repetitions", c.count(Verdict::TooFew)}};
}

}  // namespace ipcmark
