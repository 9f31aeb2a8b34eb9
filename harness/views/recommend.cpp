#include "harness/views/recommend.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "harness/views/compare.hpp"
#include "harness/views/units.hpp"
#include "harness/measure/stats.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

// Open-loop rows are paced, so they say nothing of capacity.
bool usable(const Row& row) { return row.run_type == RunType::Iteration && !row.failed() && !row.open_loop(); }

std::string si(double value, const char* unit) {  // 1.59e9 → "1.59 GB/s" (unit "B/s")
  static const char* prefixes[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (std::fabs(value) >= 1000.0 && i < 4) {
    value /= 1000.0;
    ++i;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3g %s%s", value, prefixes[i], unit);
  return buf;
}

std::string rate_text(double per_second) {  // "20.2 M msgs/s", "479 msgs/s"
  std::string s = si(per_second, "");
  if (s.back() == ' ') s.pop_back();
  return s + " msgs/s";
}

std::string number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

std::string percent(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, value < 10 ? "%.1f%%" : "%.0f%%", value);
  return buf;
}

std::optional<double> median_of(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  return median(values);
}

struct Rows {  // one candidate's repetitions at the chosen size
  std::vector<double> p99, items, bytes, cpu, server_cpu;
};

}  // namespace

Recommendation recommend(const ResultsDocument& results, const RecommendRequest& request) {
  if (request.size == 0) throw UsageError("--size must be at least 1 byte");
  if (request.cpu_budget_percent && !request.throughput_mbps)
    throw UsageError("--cpu-budget-percent needs --throughput-mbps: CPU is counted at that message rate");

  const bool fanout = request.readers > 1;
  const std::set<std::string> patterns = fanout ? std::set<std::string>{"fanout"}
                                                : std::set<std::string>{"pingpong", "stream"};
  std::vector<const Row*> rows;
  bool any_fanout = false;
  for (const Row& row : results.rows) {
    if (!usable(row)) continue;
    any_fanout = any_fanout || row.pattern == "fanout";
    if (!patterns.contains(row.pattern)) continue;
    if (fanout && row.readers != request.readers) continue;
    rows.push_back(&row);
  }
  if (fanout && rows.empty())
    throw NoFanoutRows(any_fanout ? "no fanout rows with " + std::to_string(request.readers) + " readers"
                                  : "no fanout rows (one writer, several readers)");
  if (rows.empty()) throw UsageError("no successful pingpong or stream rows to judge");

  Recommendation r;
  r.requested_size = request.size;
  r.latency_kind = fanout ? "one-way" : "round trip";
  std::set<std::size_t> sizes;
  for (const Row* row : rows) sizes.insert(row->message_size);
  r.sizes_present.assign(sizes.begin(), sizes.end());
  // Nearest by ratio; on a tie the larger size, whose per-message figures are the harsher.
  r.used_size = r.sizes_present.front();
  for (std::size_t s : r.sizes_present) {
    const double d = std::fabs(std::log(double(s) / double(request.size)));
    const double best = std::fabs(std::log(double(r.used_size) / double(request.size)));
    if (d < best || (d == best && s > r.used_size)) r.used_size = s;
  }

  std::vector<std::tuple<std::string, std::string, std::string>> order;
  std::map<std::tuple<std::string, std::string, std::string>, Rows> by_candidate;
  std::map<std::string, std::set<std::string>> waits_of;
  std::set<std::string> placements;
  for (const Row* row : rows) {
    if (row->message_size != r.used_size) continue;
    const auto key = std::make_tuple(row->transport, row->wait.value_or(""), row->placement.value_or(""));
    if (!by_candidate.contains(key)) order.push_back(key);
    waits_of[std::get<0>(key)].insert(std::get<1>(key));
    placements.insert(std::get<2>(key));
    Rows& c = by_candidate[key];
    const std::string& pattern = row->pattern;
    if (pattern == "pingpong" || pattern == "fanout")
      if (row->latency_ns) c.p99.push_back(row->latency_ns->p99);
    if (pattern == "stream" || pattern == "fanout") {
      // A fanout row counts deliveries to all its readers: what each reader gets is 1/readers of it.
      const double share = pattern == "fanout" ? 1.0 / double(row->readers.value_or(1)) : 1.0;
      if (auto v = row->items_per_second) c.items.push_back(*v * share);
      if (auto v = row->bytes_per_second) c.bytes.push_back(*v * share);
      c.cpu.push_back(row->cpu_time_ns);
      if (row->cpu_ns_per_message) c.server_cpu.push_back(row->cpu_ns_per_message->server);
    }
  }

  // Messages per second the request needs (0: no throughput asked for).
  const double required_rate = request.throughput_mbps ? *request.throughput_mbps * 1e6 / double(request.size) : 0.0;
  for (const auto& key : order) {
    const Rows& rows_of = by_candidate[key];
    Candidate c;
    std::tie(c.transport, c.wait, c.placement) = key;
    c.label = c.transport;
    // Name the wait where it is a choice (shm), the placement where the file has several.
    if (waits_of[c.transport].size() > 1 || c.wait == "spin") c.label += "/" + c.wait;
    if (placements.size() > 1 && !c.placement.empty()) c.label += "/" + c.placement;
    c.spins = c.wait == "spin";
    c.p99_ns = median_of(rows_of.p99);
    c.messages_per_second = median_of(rows_of.items);
    c.bytes_per_second = median_of(rows_of.bytes);
    c.cpu_ns_per_message = median_of(rows_of.cpu);

    const std::string which = fanout ? "fanout" : "pingpong";
    if (c.p99_ns) {
      std::string clause = "p99 " + format_ns(*c.p99_ns);
      if (request.latency_p99_us) {
        const bool ok = *c.p99_ns <= *request.latency_p99_us * 1e3;
        clause += (ok ? " <= " : " > ") + format_ns(*request.latency_p99_us * 1e3);
        (ok ? c.passed : c.failed).push_back(clause);
      } else {
        c.passed.push_back(clause);
      }
    } else if (request.latency_p99_us) {
      c.failed.push_back("no " + which + " rows to judge p99");
    }

    if (c.messages_per_second && c.bytes_per_second) {
      std::string clause = si(*c.bytes_per_second, "B/s") + " (" + rate_text(*c.messages_per_second) + ")";
      if (required_rate > 0) {
        const bool ok = *c.messages_per_second >= required_rate;
        clause += (ok ? " >= " : " < ") + si(*request.throughput_mbps * 1e6, "B/s");
        (ok ? c.passed : c.failed).push_back(clause);
      } else {
        c.passed.push_back(clause);
      }
    } else if (request.throughput_mbps) {
      c.failed.push_back("no " + std::string(fanout ? "fanout" : "stream") + " rows to judge throughput");
    }

    if (c.cpu_ns_per_message) {
      std::string clause = "CPU " + format_ns(*c.cpu_ns_per_message) + "/msg";
      if (required_rate > 0) {
        const double rate = required_rate;
        double share = *c.cpu_ns_per_message * rate / 1e9 * 100.0;
        if (c.spins && c.messages_per_second && rate < *c.messages_per_second) {
          // Below capacity a spinning reader polls its core between messages.
          const double server = rows_of.server_cpu.empty() ? *c.cpu_ns_per_message / 2 : median(rows_of.server_cpu);
          share = std::max(share, 100.0 + server * rate / 1e9 * 100.0);
          clause += " = " + percent(share) + " of a core at " + rate_text(rate) + " (the reader spins)";
        } else {
          clause += " = " + percent(share) + " of a core at " + rate_text(rate);
        }
        c.cpu_percent = share;
        if (request.cpu_budget_percent) {
          const bool ok = share <= *request.cpu_budget_percent;
          clause += (ok ? " <= " : " > ") + number(*request.cpu_budget_percent) + "%";
          (ok ? c.passed : c.failed).push_back(clause);
        } else {
          c.passed.push_back(clause);
        }
      } else {
        c.passed.push_back(clause);
      }
    } else if (request.cpu_budget_percent) {
      c.failed.push_back("no stream rows to judge CPU");
    }
    (c.meets() ? r.meeting : r.failing).push_back(std::move(c));
  }

  std::stable_sort(r.meeting.begin(), r.meeting.end(), [](const Candidate& a, const Candidate& b) {
    if (a.p99_ns.has_value() != b.p99_ns.has_value()) return a.p99_ns.has_value();
    if (a.p99_ns && *a.p99_ns != *b.p99_ns) return *a.p99_ns < *b.p99_ns;
    return a.messages_per_second.value_or(0) > b.messages_per_second.value_or(0);
  });
  return r;
}

std::string render_recommendation(const Recommendation& r, const RecommendRequest& request, const std::string& source) {
  std::ostringstream out;
  out << "transports for " << request.size << " B messages";
  if (request.readers > 1) out << " to " << request.readers << " readers";
  std::vector<std::string> wants;
  if (request.latency_p99_us) wants.push_back("p99 <= " + format_ns(*request.latency_p99_us * 1e3));
  if (request.throughput_mbps) wants.push_back(">= " + si(*request.throughput_mbps * 1e6, "B/s"));
  if (request.cpu_budget_percent) wants.push_back("CPU <= " + number(*request.cpu_budget_percent) + "% of a core");
  for (std::size_t i = 0; i < wants.size(); ++i) out << (i ? ", " : ": ") << wants[i];
  out << " (from " << source << ")\n";
  if (r.used_size != r.requested_size) {
    out << "no rows at " << r.requested_size << " B; using the nearest size measured, " << r.used_size
        << " B (sizes present:";
    for (std::size_t s : r.sizes_present) out << ' ' << s;
    out << ")\n";
  }
  std::size_t width = 4;
  for (const auto* list : {&r.meeting, &r.failing})
    for (const Candidate& c : *list) width = std::max(width, c.label.size());
  auto clauses = [](const std::vector<std::string>& parts) {
    std::string s;
    for (const std::string& p : parts) s += (s.empty() ? "" : ", ") + p;
    return s;
  };
  if (!r.meeting.empty()) {
    out << "meet the constraints, ranked by p99 " << r.latency_kind << " (lowest first):\n";
    for (std::size_t i = 0; i < r.meeting.size(); ++i) {
      const Candidate& c = r.meeting[i];
      char head[64];
      std::snprintf(head, sizeof head, "%2zu. %-*s  ", i + 1, int(width), c.label.c_str());
      out << head << clauses(c.passed) << '\n';
    }
  } else {
    out << "none of the " << r.failing.size() << " measured transport configurations meets the constraints:\n";
  }
  if (!r.failing.empty()) {
    if (!r.meeting.empty()) out << "do not meet them:\n";
    for (const Candidate& c : r.failing) {
      char head[64];
      std::snprintf(head, sizeof head, "    %-*s  ", int(width), c.label.c_str());
      out << head << "fails: " << clauses(c.failed) << '\n';
    }
  }
  out << "(p99: " << r.latency_kind << " latency"
      << (request.readers > 1 ? "" : " of pingpong, an upper bound on one way")
      << "; throughput and CPU: " << (request.readers > 1 ? "fanout" : "stream")
      << " rows; medians over repetitions; MB = 10^6 bytes)\n";
  return out.str();
}

}  // namespace ipcmark
