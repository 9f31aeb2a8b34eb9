// harness/views/report.hpp — a results document as a person reads it: for each pattern and
// message size, the configurations ranked (pingpong and oneshot by median latency,
// stream by throughput, fixed-rate stream by median one-way latency), with p99, CPU per
// message and how many times slower than the best each one is; rendered as plain text,
// Markdown, or one self-contained HTML page.
//
// Pure: a document read by results_reader.hpp in, text out, so golden files test it. The
// `report` command (report_command.cpp) reads the file, runs scripts/plot and writes the pages.
// Figures are medians over each configuration's successful iteration rows, grouped by
// their fields (transport, pattern, message_size, wait, placement, target_rate), never
// by parsing names; fields of schema 2 (placement, x_floor, x_memcpy, target_rate,
// context.floor, context.warnings) are shown when present.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "harness/results/reader.hpp"

namespace ipcmark {

// One configuration at one size.
struct RankedEntry {
  std::string label;               // "shm/spin", "pipe", "shm/spin/same": only what tells rows apart
  int ok = 0, total = 0;           // successful repetitions, all repetitions
  std::string error;               // the first failure, when ok == 0
  std::optional<double> p50_ns, p99_ns, cpu_ns, msgs_per_s, bytes_per_s, achieved_rate, x_floor, x_memcpy;
  std::optional<double> times_best;  // 1 for the best, 2 for twice as slow; none when failed
  std::string x_floor_of;            // the floor x_floor divides by ("cacheline", "futex", "memcpy"), or ""
  int moved = 0;                     // repetitions whose floor moved during them (floor_moved)
};

// The entries of one pattern (and open-loop rate) at one message size, best first,
// failed configurations last.
struct RankedTable {
  std::string pattern;
  std::optional<double> target_rate;  // msgs/s of open-loop stream and fanout rows
  std::optional<double> readers;      // fanout: reader processes
  std::size_t message_size = 0;
  bool by_throughput = false;         // closed-loop stream and fanout; otherwise by median latency
  std::vector<RankedEntry> entries;
};

std::vector<RankedTable> rank_results(const ResultsDocument& document);

// The document with each repetition's placement refined by the floor cluster its repetition fell
// in (`floor_cluster`: "cross · two cores"), so that every table ranks the repetitions of each
// cluster apart, as if they were two placements: what `ipcmark report --by-cluster` shows. Rows
// without a cluster keep their placement.
ResultsDocument split_by_floor_cluster(ResultsDocument document);

std::string report_text(const ResultsDocument& document);
std::string report_markdown(const ResultsDocument& document);

// A plot to inline in the HTML page: a caption and the SVG file's text.
struct ReportFigure {
  std::string caption;
  std::string svg;
};

// The SVG element of an SVG file, without the XML prolog and metadata, ready to sit in
// an HTML page. Throws UsageError when the text holds no <svg> element.
std::string svg_for_inlining(const std::string& svg_file_text);

// One page with no scripts, fonts or links to fetch: the machine (and its floor and
// warnings when present), the ranked tables, and `figures` (or `figures_note` instead,
// saying why there are none). `source` names the results file in the page.
std::string report_html(const ResultsDocument& document, const std::string& source,
                        const std::vector<ReportFigure>& figures, const std::string& figures_note = "");

// The text report; `ipcmark run` prints it at its end.
void print_report(std::ostream& out, const ResultsDocument& document);

}  // namespace ipcmark
