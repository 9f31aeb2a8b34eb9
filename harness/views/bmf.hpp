// harness/views/bmf.hpp — a results document as Bencher Metric Format (BMF) JSON, the input of
// `bencher run --adapter json` (https://bencher.dev/docs/reference/bencher-metric-format):
//   { "<benchmark name>": { "<measure slug>": { "value": n, "lower_value": n, "upper_value": n } } }
//
// One benchmark per `_median` aggregate row, named by its `run_name` (the row name of
// its repetitions). Measures, each with bounds where the file has them:
//   latency          real_time in ns (as Bencher's Google Benchmark adapter reads it:
//                    per round trip, per message for stream, per fetch for oneshot)
//   throughput       items_per_second: round trips, messages or fetches per second
//   latency-p50      latency_ns.p50 in ns: round trip, or one-way for stream
//   latency-p99      latency_ns.p99 in ns
//   cpu-time         cpu_time in ns per iteration, both processes
// Bounds: the bootstrap 95 % interval of the median (`ci95_low`/`ci95_high`, and
// `p99_ci95_low`/`p99_ci95_high` for p99) when the row carries them (schema 2); else
// the smallest and largest value over the successful repetitions. `throughput` bounds
// are the inverse of the latency interval (items_per_second = 1e9 / real_time).
// Failed repetitions carry no values and names whose repetitions all failed have no
// `_median` row, so neither appears. Built-in measures: latency (ns), throughput (ops/s).
#pragma once

#include <nlohmann/json.hpp>

#include "harness/results/reader.hpp"

namespace ipcmark {

// Pure: a results document in, the BMF object out.
nlohmann::json bmf_document(const ResultsDocument& results);

}  // namespace ipcmark
