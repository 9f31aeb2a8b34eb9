// tests/bench/measure_bench.cpp — what the harness's own measuring costs per message (issue 5).
//
//   histogram/record          LatencyHistogram::record() of varied latencies (log-spread over
//                             200 ns..2 ms, so the counter touched changes like in a real run)
//   clock/clock_gettime       clock_gettime(CLOCK_MONOTONIC) called directly
//   clock/now_ns              harness/measure/clock.hpp's now_ns(), the stamp in every message
//   clock/steady_clock        std::chrono::steady_clock::now(), the Clock deadlines are read from
//   payload/fill/<bytes>      fill_payload(): header + pattern, what the sender does per message
//   payload/check/<bytes>     check_payload(): what the reader does to every byte it receives
// Figures only; nothing here is asserted.
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/measure/clock.hpp"
#include "harness/measure/histogram.hpp"
#include "harness/measure/payload.hpp"

namespace ipcmark {
namespace {

// A fixed table of latencies, log-uniform in [200 ns, 2 ms]; the same on every run.
std::vector<std::uint64_t> latency_table() {
  std::vector<std::uint64_t> values(4096);
  std::uint64_t state = 0x243F6A8885A308D3ULL;
  for (auto& v : values) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;  // LCG: deterministic, no <random> state
    const double unit = static_cast<double>(state >> 11) / static_cast<double>(1ULL << 53);
    v = static_cast<std::uint64_t>(200.0 * std::pow(1e4, unit));
  }
  return values;
}

void BM_HistogramRecord(benchmark::State& state) {
  const std::vector<std::uint64_t> values = latency_table();
  LatencyHistogram histogram;
  std::size_t i = 0;
  for (auto _ : state) {
    histogram.record(values[i++ & 4095]);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(histogram.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord)->Name("histogram/record");

void BM_ClockGettime(benchmark::State& state) {
  timespec ts;
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_ClockGettime)->Name("clock/clock_gettime");

void BM_NowNs(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(now_ns());
}
BENCHMARK(BM_NowNs)->Name("clock/now_ns");

void BM_SteadyClock(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_SteadyClock)->Name("clock/steady_clock");

void BM_PayloadFill(benchmark::State& state, std::size_t size) {
  std::vector<std::byte> message(size);
  std::uint64_t sequence = 0;
  for (auto _ : state) {
    fill_payload(message, sequence++, 0);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

void BM_PayloadCheck(benchmark::State& state, std::size_t size) {
  std::vector<std::byte> message(size);
  fill_payload(message, 42, 0);
  bool intact = true;
  for (auto _ : state) {
    benchmark::ClobberMemory();  // the message counts as new each time
    intact &= check_payload(message).intact;
  }
  if (!intact) state.SkipWithError("check_payload() rejected a filled message");
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

int register_payload_benchmarks() {
  for (const std::size_t size : {std::size_t{16}, std::size_t{64}, std::size_t{4096}, std::size_t{65536}}) {
    benchmark::RegisterBenchmark(("payload/fill/" + std::to_string(size)).c_str(), BM_PayloadFill, size);
    benchmark::RegisterBenchmark(("payload/check/" + std::to_string(size)).c_str(), BM_PayloadCheck, size);
  }
  return 0;
}
const int registered = register_payload_benchmarks();

}  // namespace
}  // namespace ipcmark

BENCHMARK_MAIN();
