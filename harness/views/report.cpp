#include "harness/views/report.hpp"

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

using nlohmann::json;

// ---- grouping rows ---------------------------------------------------------------------

struct Repetition {
  bool ok = true;
  std::string error;
  std::optional<double> p50, p99, cpu, msgs, bytes, real_time, achieved, x_floor, x_memcpy;
  std::string x_floor_of;
  bool moved = false;
};

struct GroupKey {
  std::string pattern;
  std::optional<double> rate;
  std::optional<double> readers;
  std::size_t size = 0;
  std::string transport, wait, placement, copy;
  auto operator<=>(const GroupKey&) const = default;
};

struct Collected {
  std::map<GroupKey, std::vector<Repetition>> groups;
  std::map<std::string, std::set<std::string>> waits_of;  // transport -> waits seen
  std::set<std::string> placements;
};

Collected collect(const ResultsDocument& document) {
  Collected c;
  for (const Row& row : document.rows) {
    if (row.run_type == RunType::Aggregate) continue;
    GroupKey key;
    key.transport = row.transport;
    key.pattern = row.pattern;
    key.size = row.message_size;
    key.wait = row.wait.value_or("");
    key.placement = row.placement.value_or("");
    key.copy = row.copy.value_or("");  // "zero" rows are their own configuration
    key.rate = row.target_rate;
    if (row.readers) key.readers = double(*row.readers);

    Repetition rep;
    rep.ok = !row.failed();
    rep.error = row.error.value_or("");
    if (row.latency_ns) {
      rep.p50 = row.latency_ns->p50;
      rep.p99 = row.latency_ns->p99;
    }
    rep.cpu = row.cpu_time_ns;
    rep.msgs = row.items_per_second;
    rep.bytes = row.bytes_per_second;
    rep.real_time = row.real_time_ns;
    rep.achieved = row.achieved_rate;
    rep.x_floor = row.x_floor;
    rep.x_memcpy = row.x_memcpy;
    rep.x_floor_of = row.x_floor_of.value_or("");
    rep.moved = row.floor_moved.value_or(false);

    c.waits_of[key.transport].insert(key.wait);
    c.placements.insert(key.placement);
    c.groups[key].push_back(std::move(rep));
  }
  return c;
}

// Only what tells two rows apart: the wait where it is a choice (a transport seen with
// two waits, or spinning), zero-copy, the placement when the file holds more than one.
std::string label_of(const GroupKey& k, const Collected& c) {
  std::string label = k.transport;
  const std::set<std::string>& waits = c.waits_of.at(k.transport);
  if (!k.wait.empty() && (waits.size() > 1 || waits.contains("spin"))) label += "/" + k.wait;
  if (k.copy == "zero") label += "/zero-copy";
  if (!k.placement.empty() && c.placements.size() > 1) label += "/" + k.placement;
  return label;
}

std::optional<double> median_of(const std::vector<Repetition>& reps, std::optional<double> Repetition::*field) {
  std::vector<double> values;
  for (const Repetition& r : reps)
    if (r.ok && (r.*field).has_value()) values.push_back(*(r.*field));
  if (values.empty()) return std::nullopt;
  return median(values);
}

int pattern_rank(const std::string& pattern) {
  if (pattern == "pingpong") return 0;
  if (pattern == "stream") return 1;
  if (pattern == "fanout") return 2;
  if (pattern == "oneshot") return 3;
  return 4;
}

// ---- formatting -------------------------------------------------------------------------

std::string printf_text(const char* format, double value) {
  char buf[48];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string duration_text(std::optional<double> ns) { return ns ? format_ns(*ns) : "-"; }

std::string si_text(std::optional<double> value, const std::string& unit) {  // 1.43e6 -> "1.43 M<unit>"
  if (!value) return "-";
  static const char* prefixes[] = {"", " k", " M", " G", " T"};
  double v = *value;
  int i = 0;
  for (; v >= 1000.0 && i < 4; ++i) v /= 1000.0;
  return printf_text("%.3g", v) + prefixes[i] + (i == 0 && !unit.empty() ? " " : "") + unit;
}

std::string size_text(std::size_t size) {
  struct Unit { std::size_t scale; const char* name; };
  static const Unit units[] = {
      {std::size_t{1} << 30, " GiB"}, {std::size_t{1} << 20, " MiB"}, {std::size_t{1} << 10, " KiB"}};
  for (const Unit& u : units)
    if (size >= u.scale && size % u.scale == 0) return std::to_string(size / u.scale) + u.name;
  return std::to_string(size) + " B";
}

std::string times_text(std::optional<double> x) { return x ? format_times(*x) : "-"; }

std::string wrapped(const std::string& text, std::size_t columns) {
  std::istringstream words(text);
  std::string out, line, word;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > columns) {
      out += line + '\n';
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  return out + line + '\n';
}

std::size_t display_width(const std::string& s) {  // UTF-8 code points ("×" is one)
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// ---- sections: the tables as cells, shared by the three renderers -------------------------

struct Column {
  std::string head;
  bool right = true;  // numbers right-aligned
};

struct Line {
  bool first_of_size = false;
  bool best = false;
  std::vector<std::string> cells;
};

struct Section {
  std::string title;
  std::vector<Column> columns;
  std::vector<Line> lines;
  std::vector<std::string> failures;
};

std::string section_title(const RankedTable& t) {
  if (t.pattern == "pingpong") return "pingpong (round trip), ranked by median latency";
  if (t.pattern == "oneshot") return "oneshot (open, read one message, close), ranked by median latency";
  if (t.pattern == "stream" && t.target_rate)
    return "stream at " + si_text(t.target_rate, "") + " msgs/s (open loop), ranked by median one-way latency";
  if (t.pattern == "stream") return "stream, ranked by throughput (p99: one-way latency, queueing included)";
  if (t.pattern == "fanout") {
    const std::string to = "fanout to " + si_text(t.readers, "") + (t.readers == 1.0 ? " reader" : " readers");
    if (t.target_rate)
      return to + " at " + si_text(t.target_rate, "") + " msgs/s (open loop), ranked by median one-way latency";
    return to + ", ranked by messages delivered per second (p99: one-way, every reader merged)";
  }
  return t.pattern + ", ranked by median latency";
}

Section make_section(std::vector<RankedTable>::const_iterator begin, std::vector<RankedTable>::const_iterator end) {
  const RankedTable& first = *begin;
  const bool open_loop = first.target_rate.has_value();
  bool any_floor = false, any_memcpy = false, any_partial = false, any_moved = false, any_floor_of = false;
  for (auto t = begin; t != end; ++t)
    for (const RankedEntry& e : t->entries) {
      any_moved = any_moved || e.moved > 0;
      any_floor_of = any_floor_of || (e.x_floor && !e.x_floor_of.empty());
      any_floor = any_floor || e.x_floor.has_value();
      any_memcpy = any_memcpy || e.x_memcpy.has_value();
      any_partial = any_partial || e.ok < e.total;
    }

  Section s;
  s.title = section_title(first);
  s.columns = {{"size"}, {"#"}, {"run", false}};
  if (first.by_throughput) s.columns.insert(s.columns.end(), {{"msgs/s"}, {"bytes/s"}, {"p99"}});
  else if (open_loop) s.columns.insert(s.columns.end(), {{"achieved"}, {"p50"}, {"p99"}});
  else s.columns.insert(s.columns.end(), {{"p50"}, {"p99"}});
  s.columns.insert(s.columns.end(), {{"cpu/msg"}, {"× best"}});
  const bool show_floor = !first.by_throughput && any_floor;
  const bool show_memcpy = first.by_throughput && any_memcpy;
  if (show_floor) s.columns.push_back({"× floor"});
  const bool show_floor_of = show_floor && any_floor_of;  // files before x_floor_of do not say
  if (show_floor_of) s.columns.push_back({"floor", false});
  if (show_memcpy) s.columns.push_back({"of memcpy"});
  if (any_partial) s.columns.push_back({"reps"});
  if (any_moved) s.columns.push_back({"moved"});

  for (auto t = begin; t != end; ++t) {
    int rank = 0;
    for (const RankedEntry& e : t->entries) {
      const bool failed = e.ok == 0;
      Line line;
      line.first_of_size = &e == &t->entries.front();
      line.best = !failed && rank == 0;
      line.cells = {line.first_of_size ? size_text(t->message_size) : "", failed ? "-" : std::to_string(++rank),
                    e.label};
      if (first.by_throughput) {
        line.cells.insert(line.cells.end(), {si_text(e.msgs_per_s, ""), si_text(e.bytes_per_s, "B"),
                                             duration_text(e.p99_ns)});
      } else {
        if (open_loop) line.cells.push_back(si_text(e.achieved_rate, ""));
        line.cells.insert(line.cells.end(), {duration_text(e.p50_ns), duration_text(e.p99_ns)});
      }
      line.cells.push_back(duration_text(e.cpu_ns));
      line.cells.push_back(failed ? "failed" : times_text(e.times_best));
      if (show_floor) line.cells.push_back(times_text(e.x_floor));
      if (show_floor_of) line.cells.push_back(e.x_floor ? e.x_floor_of : "");
      if (show_memcpy) line.cells.push_back(e.x_memcpy ? printf_text("%.2g%%", *e.x_memcpy * 100) : "-");
      if (any_partial) line.cells.push_back(std::to_string(e.ok) + "/" + std::to_string(e.total));
      if (any_moved) line.cells.push_back(std::to_string(e.moved) + "/" + std::to_string(e.total));
      s.lines.push_back(std::move(line));
      if (e.ok < e.total)
        s.failures.push_back(e.label + " at " + size_text(t->message_size) + ": " + std::to_string(e.total - e.ok) +
                             " of " + std::to_string(e.total) + " repetitions failed: " + e.error);
    }
  }
  return s;
}

std::vector<Section> sections_of(const std::vector<RankedTable>& tables) {
  std::vector<Section> sections;
  for (auto begin = tables.begin(); begin != tables.end();) {
    auto end = std::find_if(begin, tables.end(), [&](const RankedTable& t) {
      return t.pattern != begin->pattern || t.target_rate != begin->target_rate || t.readers != begin->readers;
    });
    sections.push_back(make_section(begin, end));
    begin = end;
  }
  return sections;
}

// What the columns mean, below the tables; the floor sentence only when a column needs it.
std::string footnote(const std::vector<Section>& sections) {
  std::string text =
      "Medians over each configuration's successful repetitions. p50/p99: round trip for pingpong, one-way for "
      "stream, open-and-read for oneshot; cpu/msg: server + client CPU time per message; × best: how many times "
      "slower than the best at that size (latency over the lowest, or the highest throughput over this one).";
  if (std::any_of(sections.begin(), sections.end(), [](const Section& s) { return s.title.rfind("fanout", 0) == 0; }))
    text += " Fanout: msgs/s counts deliveries (messages × readers), p50/p99 are one-way with every reader merged, "
            "cpu/msg is the writer's and every reader's CPU per delivery.";
  bool floor = false;
  for (const Section& s : sections)
    for (const Column& c : s.columns) floor = floor || c.head == "× floor" || c.head == "of memcpy";
  if (floor)
    text += " × floor: median over the repetitions of each one's latency over the floor that bounds the row "
            "(floor: a cache-line round trip for busy-polling, a futex round trip for blocking waits and kernel "
            "transports, taken on the repetition's CPUs right before and after it); "
            "of memcpy: bytes/s as a share of this machine's memcpy bandwidth.";
  bool moved = false;
  for (const Section& s : sections)
    for (const Column& c : s.columns) moved = moved || c.head == "moved";
  if (moved)
    text += " moved: repetitions whose floor before and after disagreed (the host moved the CPUs during them); "
            "kept in every figure.";
  return text;
}

// ---- the machine ------------------------------------------------------------------------

std::string text_of(const std::optional<std::string>& value) { return value.value_or(""); }
std::string text_of(const std::optional<std::int64_t>& value) { return value ? std::to_string(*value) : ""; }

std::string pinning_text(const Context& context) {
  if (!context.pinning) return "";
  const double server = context.pinning->server, client = context.pinning->client;
  if (server < 0 && client < 0) return "server and client unpinned";
  if (server == client) return "server and client both on CPU " + printf_text("%.0f", server);
  return "server on CPU " + printf_text("%.0f", server) + ", client on CPU " + printf_text("%.0f", client);
}

// What the cache-line figure is the median of, and the range of those same samples: the run's
// start, halfway and end (floor_drift.hpp), or with one sample, its lines. Never one sample's lines
// beside the median of several.
std::string cacheline_detail(const Context& c) {
  std::vector<std::string> notes;
  const std::vector<double> samples = c.floor_samples("cacheline_rtt_samples_ns");
  if (samples.size() >= 2) {
    const auto [low, high] = std::minmax_element(samples.begin(), samples.end());
    notes.push_back("median of " + std::to_string(samples.size()) + " samples, " + duration_text(*low) + " to " +
                    duration_text(*high));
  } else if (const auto fastest = c.floor_figure("cacheline_rtt_fastest_line_ns"),
             slowest = c.floor_figure("cacheline_rtt_slowest_line_ns");
             fastest && slowest) {  // one sample: the range of its own lines
    notes.push_back("median of lines, " + duration_text(fastest) + " to " + duration_text(slowest));
  }
  if (auto timed = c.floor_figure("cacheline_rtt_timed_ns")) notes.push_back(duration_text(timed) + " timed one by one");
  std::string text;
  for (const std::string& n : notes) text += (text.empty() ? "" : "; ") + n;
  return text.empty() ? "" : " (" + text + ")";
}

// The floors taken around one placement's repetitions: each figure the median of its samples with
// their range, how many repetitions moved, and the clusters when the round trips split.
std::string repetition_floor_text(const nlohmann::json& floors, const nlohmann::json* clusters) {
  std::vector<std::string> parts;
  for (const auto& [key, name] : {std::pair{"cacheline_rtt_ns", "cache-line round trip"}, {"futex_rtt_ns", "futex round trip"}}) {
    const nlohmann::json spread = floors.value(key, nlohmann::json());
    if (!spread.is_object()) continue;
    parts.push_back(std::string(name) + " " + duration_text(spread.value("median", 0.0)) + " (" +
                    duration_text(spread.value("low", 0.0)) + " to " + duration_text(spread.value("high", 0.0)) +
                    " over " + std::to_string(spread.value("samples", 0)) + " samples)");
  }
  if (clusters)
    for (const nlohmann::json& k : clusters->value("clusters", nlohmann::json::array()))
      parts.push_back(std::to_string(k.value("repetitions", 0)) + " repetitions near " +
                      duration_text(k.value("median_ns", 0.0)) + " (" + k.value("label", std::string()) + ")");
  const int moved = floors.value("moved", 0);
  parts.push_back(std::to_string(moved) + " of " + std::to_string(floors.value("repetitions", 0)) +
                  " repetitions moved");
  std::string text;
  for (const std::string& p : parts) text += (text.empty() ? "" : ", ") + p;
  return text;
}

std::string floor_text(const Context& c) {
  std::vector<std::string> parts;
  if (auto v = c.floor_figure("cacheline_rtt_ns"))
    parts.push_back("cache-line round trip " + duration_text(v) + cacheline_detail(c));
  if (auto v = c.floor_figure("futex_rtt_ns")) parts.push_back("futex round trip " + duration_text(v));
  if (auto v = c.floor_figure("memcpy_l2_bytes_per_second"))
    parts.push_back("memcpy " + si_text(v, "B/s") + " (L2)");
  if (auto v = c.floor_figure("memcpy_dram_bytes_per_second"))
    parts.push_back("memcpy " + si_text(v, "B/s") + " (DRAM)");
  std::string text;
  for (const std::string& p : parts) text += (text.empty() ? "" : ", ") + p;
  return text;
}

// One (name, text) per placement whose repetitions carry floors (context.repetition_floors).
std::vector<std::pair<std::string, std::string>> repetition_floor_lines(const Context& context) {
  std::vector<std::pair<std::string, std::string>> lines;
  if (!context.repetition_floors) return lines;
  for (const auto& [placement, floors] : context.repetition_floors->items()) {
    const nlohmann::json* clusters = context.floor_clusters && context.floor_clusters->contains(placement)
                                         ? &(*context.floor_clusters)[placement]
                                         : nullptr;
    lines.emplace_back("floor around repetitions (" + placement + ")", repetition_floor_text(floors, clusters));
  }
  return lines;
}

// (name, text) lines above the tables in the text and Markdown reports.
std::vector<std::pair<std::string, std::string>> summary_lines(const Context& context) {
  std::vector<std::pair<std::string, std::string>> lines;
  std::vector<std::string> parts;
  auto add = [&](const std::string& prefix, const std::string& value, const std::string& suffix) {
    if (!value.empty()) parts.push_back(prefix + value + suffix);
  };
  add("", text_of(context.cpu_model), "");
  add("", text_of(context.num_cpus), " CPUs");
  add("", text_of(context.kernel), "");
  add("clocksource ", text_of(context.clocksource), "");
  std::string machine;
  for (const std::string& p : parts) machine += (machine.empty() ? "" : ", ") + p;
  if (const std::string pin = pinning_text(context); !pin.empty()) machine += (machine.empty() ? "" : "; ") + pin;
  if (!machine.empty()) lines.emplace_back("machine", machine);
  std::string run;
  if (const std::string s = text_of(context.scenario); !s.empty()) run = "scenario '" + s + "'";
  if (const std::string d = text_of(context.date); !d.empty()) run += (run.empty() ? "" : ", ") + d;
  if (const std::string v = text_of(context.ipcmark_version); !v.empty()) {
    run += (run.empty() ? "" : ", ") + std::string("ipcmark ") + v;
    if (const std::string g = text_of(context.git_commit); !g.empty()) run += " (" + g + ")";
  }
  if (!run.empty()) lines.emplace_back("run", run);
  if (const std::string f = floor_text(context); !f.empty()) lines.emplace_back("floor", f);
  for (auto& line : repetition_floor_lines(context)) lines.push_back(std::move(line));
  for (const std::string& w : context.warnings) lines.emplace_back("warning", w);
  return lines;
}

// ---- HTML helpers -----------------------------------------------------------------------

std::string escape_html(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fact_value(const std::string& key, const json& v) {
  if (v.is_number() && key.ends_with("_ns")) return duration_text(v.get<double>());
  if (v.is_number() && key.ends_with("_bytes_per_second")) return si_text(v.get<double>(), "B/s");
  return v.is_string() ? v.get<std::string>() : v.dump();
}

const char* const kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1d1d1f; }
h1 { margin-bottom: 0.2rem; } .source { color: #555; margin-top: 0; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2rem 0.7rem; text-align: right; }
th { background: #f2f2f4; } td.text, th.text { text-align: left; }
table.ranked tr.first td { border-top: 1px solid #bbb; } table.ranked tr.best td { font-weight: 600; }
table.facts th { text-align: left; font-weight: 500; } table.facts td { text-align: left; }
.warnings { background: #fff4d6; border-left: 4px solid #e0a800; padding: 0.3rem 1rem; }
.failed { color: #a40000; } .note { color: #555; font-size: 0.9rem; }
figure { margin: 1.5rem 0; } figcaption { font-weight: 600; margin-bottom: 0.3rem; }
figure svg { max-width: 100%; height: auto; }
)";

}  // namespace

// ---- public -------------------------------------------------------------------------------

std::vector<RankedTable> rank_results(const ResultsDocument& document) {
  const Collected c = collect(document);
  std::map<std::tuple<int, std::string, std::optional<double>, std::optional<double>, std::size_t>, RankedTable> tables;
  for (const auto& [key, reps] : c.groups) {
    RankedTable& t = tables[{pattern_rank(key.pattern), key.pattern, key.readers, key.rate, key.size}];
    t.pattern = key.pattern;
    t.target_rate = key.rate;
    t.readers = key.readers;
    t.message_size = key.size;
    t.by_throughput = (key.pattern == "stream" || key.pattern == "fanout") && !key.rate;
    RankedEntry e;
    e.label = label_of(key, c);
    e.total = static_cast<int>(reps.size());
    for (const Repetition& r : reps) {
      e.moved += r.moved ? 1 : 0;
      if (e.x_floor_of.empty()) e.x_floor_of = r.x_floor_of;
      if (r.ok) ++e.ok;
      else if (e.error.empty()) e.error = r.error.empty() ? "failed (no message)" : r.error;
    }
    e.p50_ns = median_of(reps, &Repetition::p50);
    e.p99_ns = median_of(reps, &Repetition::p99);
    e.cpu_ns = median_of(reps, &Repetition::cpu);
    e.msgs_per_s = median_of(reps, &Repetition::msgs);
    e.bytes_per_s = median_of(reps, &Repetition::bytes);
    e.achieved_rate = median_of(reps, &Repetition::achieved);
    e.x_floor = median_of(reps, &Repetition::x_floor);
    e.x_memcpy = median_of(reps, &Repetition::x_memcpy);
    if (!e.p50_ns && !t.by_throughput) e.p50_ns = median_of(reps, &Repetition::real_time);  // no histogram
    if (!e.bytes_per_s && e.msgs_per_s) e.bytes_per_s = *e.msgs_per_s * double(key.size);
    t.entries.push_back(std::move(e));
  }

  std::vector<RankedTable> out;
  for (auto& [_, t] : tables) {
    // The figure of merit, larger is better; none for failed configurations.
    auto merit = [&](const RankedEntry& e) -> std::optional<double> {
      if (e.ok == 0) return std::nullopt;
      const std::optional<double> v = t.by_throughput ? e.bytes_per_s : e.p50_ns;
      if (!v || *v <= 0) return std::nullopt;
      return t.by_throughput ? *v : -*v;
    };
    std::stable_sort(t.entries.begin(), t.entries.end(), [&](const RankedEntry& a, const RankedEntry& b) {
      const auto ma = merit(a), mb = merit(b);
      if (ma.has_value() != mb.has_value()) return ma.has_value();
      if (ma && *ma != *mb) return *ma > *mb;
      return a.label < b.label;
    });
    const std::optional<double> best = t.entries.empty() ? std::nullopt : merit(t.entries.front());
    for (RankedEntry& e : t.entries)
      if (const auto m = merit(e); m && best) e.times_best = t.by_throughput ? *best / *m : *m / *best;
    out.push_back(std::move(t));
  }
  return out;
}

ResultsDocument split_by_floor_cluster(ResultsDocument document) {
  for (Row& row : document.rows)
    if (row.run_type == RunType::Iteration && row.floor_cluster && !row.floor_cluster->empty())
      row.placement = row.placement.value_or("") + " · " + *row.floor_cluster;
  return document;
}

std::string report_text(const ResultsDocument& document) {
  const std::vector<Section> sections = sections_of(rank_results(document));
  std::ostringstream out;
  for (const auto& [name, text] : summary_lines(document.context)) out << name << ": " << text << '\n';
  if (sections.empty()) out << "\nno benchmark rows\n";
  for (const Section& s : sections) {
    out << '\n' << s.title << '\n';
    std::vector<std::size_t> width(s.columns.size());
    for (std::size_t i = 0; i < s.columns.size(); ++i) width[i] = display_width(s.columns[i].head);
    for (const Line& l : s.lines)
      for (std::size_t i = 0; i < l.cells.size(); ++i) width[i] = std::max(width[i], display_width(l.cells[i]));
    auto row = [&](const std::vector<std::string>& cells) {
      std::string text;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const std::string pad(width[i] - display_width(cells[i]), ' ');
        text += "  " + (s.columns[i].right ? pad + cells[i] : cells[i] + pad);
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out << text << '\n';
    };
    std::vector<std::string> heads;
    for (const Column& c : s.columns) heads.push_back(c.head);
    row(heads);
    for (const Line& l : s.lines) row(l.cells);
    for (const std::string& f : s.failures) out << "  failed: " << f << '\n';
  }
  if (!sections.empty()) out << '\n' << wrapped(footnote(sections), 100);
  return out.str();
}

std::string report_markdown(const ResultsDocument& document) {
  const std::vector<Section> sections = sections_of(rank_results(document));
  auto cell = [](std::string s) {  // a '|' would end the cell
    for (std::size_t at = s.find('|'); at != std::string::npos; at = s.find('|', at + 2)) s.replace(at, 1, "\\|");
    return s;
  };
  std::ostringstream out;
  out << "## ipcmark report\n\n";
  for (const auto& [name, text] : summary_lines(document.context))
    out << "- **" << name << "**: " << cell(text) << '\n';
  for (const Section& s : sections) {
    out << "\n### " << s.title << "\n\n|";
    for (const Column& c : s.columns) out << ' ' << c.head << " |";
    out << "\n|";
    for (const Column& c : s.columns) out << (c.right ? "---:|" : ":---|");
    out << '\n';
    for (const Line& l : s.lines) {
      out << '|';
      for (const std::string& c : l.cells) out << ' ' << cell(c) << " |";
      out << '\n';
    }
    if (!s.failures.empty()) out << '\n';
    for (const std::string& f : s.failures) out << "- failed: " << cell(f) << '\n';
  }
  out << '\n' << (sections.empty() ? "No benchmark rows." : footnote(sections)) << '\n';
  return out.str();
}

std::string svg_for_inlining(const std::string& text) {
  const std::size_t start = text.find("<svg");
  const std::size_t end = text.rfind("</svg>");
  if (start == std::string::npos || end == std::string::npos || end < start)
    throw UsageError("not an SVG file (no <svg> element)");
  std::string svg = text.substr(start, end + 6 - start);
  // matplotlib's <metadata> names its web site and license; a page to read offline needs neither.
  const std::size_t meta = svg.find("<metadata");
  const std::size_t meta_end = svg.find("</metadata>");
  if (meta != std::string::npos && meta_end != std::string::npos && meta_end > meta)
    svg.erase(meta, meta_end + 11 - meta);
  return svg;
}

std::string report_html(const ResultsDocument& document, const std::string& source,
                        const std::vector<ReportFigure>& figures, const std::string& figures_note) {
  const std::vector<Section> sections = sections_of(rank_results(document));
  const Context& context = document.context;
  std::string title = "ipcmark report";
  if (const std::string s = text_of(context.scenario); !s.empty()) title += ": " + s;
  if (const std::string m = text_of(context.cpu_model); !m.empty()) title += " on " + m;

  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>" << escape_html(title) << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
      << "<h1>" << escape_html(title) << "</h1>\n<p class=\"source\">" << escape_html(source);
  if (const std::string d = text_of(context.date); !d.empty()) out << " &middot; " << escape_html(d);
  out << "</p>\n";

  out << "<section id=\"machine\">\n<h2>Machine</h2>\n<table class=\"facts\">\n";
  auto fact = [&](const std::string& name, const std::string& value) {
    if (!value.empty()) out << "<tr><th>" << escape_html(name) << "</th><td>" << escape_html(value) << "</td></tr>\n";
  };
  fact("CPU", text_of(context.cpu_model));
  fact("CPUs", text_of(context.num_cpus));
  fact("MHz per CPU", text_of(context.mhz_per_cpu));
  fact("kernel", text_of(context.kernel));
  fact("clocksource", text_of(context.clocksource));
  fact("placement", pinning_text(context));
  if (context.cpu_scaling_enabled) fact("CPU frequency scaling", *context.cpu_scaling_enabled ? "enabled" : "off");
  std::string loads;
  for (double l : context.load_avg) loads += (loads.empty() ? "" : ", ") + printf_text("%.2f", l);
  fact("load average (1, 5, 15 min)", loads);
  fact("host", text_of(context.host_name));
  fact("scenario", text_of(context.scenario));
  std::string build;
  for (const auto* field : {&context.ipcmark_version, &context.git_commit, &context.library_build_type})
    if (const std::string v = text_of(*field); !v.empty()) build += (build.empty() ? "" : " ") + v;
  fact("ipcmark", build);
  if (context.timer_cost_ns) fact("timer cost", duration_text(context.timer_cost_ns));
  if (context.floor)
    for (const auto& [key, value] : context.floor->items()) fact("floor: " + key, fact_value(key, value));
  for (const auto& [name, text] : repetition_floor_lines(context)) fact(name, text);
  if (context.floor_moved_ratio)
    fact("moved when", "a repetition's floor after differs from its floor before by more than " +
                           printf_text("%.2g", *context.floor_moved_ratio) + "×");
  out << "</table>\n";
  if (!context.warnings.empty()) {
    out << "<div class=\"warnings\"><p>Warnings about this machine:</p>\n<ul>\n";
    for (const std::string& w : context.warnings) out << "<li>" << escape_html(w) << "</li>\n";
    out << "</ul></div>\n";
  }
  out << "</section>\n";

  out << "<section id=\"results\">\n<h2>Ranked results</h2>\n";
  if (sections.empty()) out << "<p>No benchmark rows.</p>\n";
  for (const Section& s : sections) {
    out << "<h3>" << escape_html(s.title) << "</h3>\n<table class=\"ranked\">\n<tr>";
    for (const Column& c : s.columns)
      out << (c.right ? "<th>" : "<th class=\"text\">") << escape_html(c.head) << "</th>";
    out << "</tr>\n";
    for (const Line& l : s.lines) {
      std::string classes = std::string(l.first_of_size ? "first" : "") + (l.best ? " best" : "");
      out << (classes.empty() ? "<tr>" : "<tr class=\"" + classes + "\">");
      for (std::size_t i = 0; i < l.cells.size(); ++i)
        out << (s.columns[i].right ? "<td>" : "<td class=\"text\">") << escape_html(l.cells[i]) << "</td>";
      out << "</tr>\n";
    }
    out << "</table>\n";
    if (!s.failures.empty()) {
      out << "<ul class=\"failed\">\n";
      for (const std::string& f : s.failures) out << "<li>" << escape_html(f) << "</li>\n";
      out << "</ul>\n";
    }
  }
  if (!sections.empty()) out << "<p class=\"note\">" << escape_html(footnote(sections)) << "</p>\n";
  out << "</section>\n";

  out << "<section id=\"plots\">\n<h2>Plots</h2>\n";
  if (figures.empty())
    out << "<p class=\"note\">" << escape_html(figures_note.empty() ? "No plots." : figures_note) << "</p>\n";
  for (const ReportFigure& f : figures)
    out << "<figure>\n<figcaption>" << escape_html(f.caption) << "</figcaption>\n" << f.svg << "\n</figure>\n";
  out << "</section>\n</body>\n</html>\n";
  return out.str();
}

void print_report(std::ostream& out, const ResultsDocument& document) { out << report_text(document); }

}  // namespace ipcmark
