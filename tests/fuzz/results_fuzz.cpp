// tests/fuzz/results_fuzz.cpp — result files are read back (the histogram of every row, by
// compare/report and by the runner from a peer's report; the rows by report, compare,
// recommend and bmf through harness/results/reader.hpp): any bytes must give a histogram or
// std::invalid_argument, and a histogram that loads must be self-consistent and survive a
// round trip exactly; the results reader must accept the document or refuse it with a
// UsageError, and compare must pool what it accepts.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "harness/measure/histogram.hpp"
#include "harness/views/compare.hpp"
#include "harness/results/reader.hpp"
#include "harness/usage_error.hpp"

namespace {

void check(const ipcmark::LatencyHistogram& h) {
  // Queries a reader makes; they must not crash and must agree with each other.
  const auto s = ipcmark::summarize(h);
  if (h.count() != 0 && (s.min > s.p50 || s.p50 > s.p99 || s.p99 > s.max)) __builtin_trap();
  const auto again = ipcmark::LatencyHistogram::from_json(h.to_json());
  if (!(again == h)) __builtin_trap();
}

void load(const nlohmann::json& j) {
  try {
    check(ipcmark::LatencyHistogram::from_json(j));
  } catch (const std::invalid_argument&) {
    // The documented way to refuse a histogram.
  }
}

void read_rows(const nlohmann::json& document) {
  try {
    const ipcmark::ResultsDocument file = ipcmark::read_results(document, "fuzz.json");
    for (const ipcmark::RowSample& row : ipcmark::pool_rows({file}))
      if (row.name.empty()) __builtin_trap();
  } catch (const ipcmark::UsageError&) {
    // The documented way to refuse a results file (one line, exit code 2).
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  read_rows(j);
  // A bare histogram, or a whole results file whose rows carry one each.
  if (j.is_object() && j.contains("benchmarks") && j["benchmarks"].is_array()) {
    for (const auto& row : j["benchmarks"])
      if (row.is_object() && row.contains("histogram")) load(row["histogram"]);
    return 0;
  }
  load(j);
  return 0;
}
