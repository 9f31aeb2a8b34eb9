// harness/views/recommend.hpp — `ipcmark recommend`: which transport meets my constraints at my
// message size? Pure functions over a results document (read by results_reader.hpp);
// recommend_command.cpp reads the file or measures one first.
//
// A candidate is one (transport, wait, placement) in the file, judged on its successful
// repetitions at one message size (medians over repetitions; closed-loop rows only):
//   p99       latency_ns.p99 of its `pingpong` rows: the round trip, which bounds the
//             one-way latency from above (closed-loop stream latency includes queueing
//             in a full channel, so it says nothing about an unloaded message)
//   capacity  items_per_second and bytes_per_second of its `stream` rows
//   CPU       cpu_time of its `stream` rows (both processes, per message, at full speed)
//             times the required message rate, as a share of one core. A `spin` reader
//             polls its core whenever it waits, so below capacity it costs a whole core
//             plus the writer's share (cpu_ns_per_message.server) instead.
// The required rate is --throughput-mbps (10^6 bytes per second, not megabits) divided by
// the requested size. When no row has the requested size, the nearest size present (by
// ratio) is used and the output says so. With --readers N > 1 the rows are those of
// pattern `fanout` whose `readers` field is N (p99 and capacity from them).
// Candidates meeting every constraint are ranked by p99 (lowest first), then by
// capacity; the others are listed with each constraint they fail.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/results/reader.hpp"

namespace ipcmark {

struct RecommendRequest {
  std::size_t size = 0;                       // bytes per message
  std::optional<double> latency_p99_us{};     // p99 at most this, microseconds
  std::optional<double> throughput_mbps{};    // at least this, 10^6 bytes per second
  std::optional<double> cpu_budget_percent{}; // CPU at the required rate, % of one core
  int readers = 1;
};

struct Candidate {
  std::string label;  // "shm/spin", "pipe", "shm/block/same"
  std::string transport, wait, placement;
  std::optional<double> p99_ns, messages_per_second, bytes_per_second, cpu_ns_per_message, cpu_percent;
  bool spins = false;
  std::vector<std::string> passed, failed;  // one clause per figure, e.g. "p99 2.58 us <= 10 us"
  bool meets() const { return failed.empty(); }
};

struct Recommendation {
  std::size_t requested_size = 0, used_size = 0;
  std::vector<std::size_t> sizes_present;
  std::vector<Candidate> meeting;   // ranked, best first
  std::vector<Candidate> failing;   // in the file's order
  std::string latency_kind;         // "round trip" or "one-way (fanout)"
};

// Throws UsageError when the request is inconsistent (--cpu-budget-percent without
// --throughput-mbps, size 0) or the results have no successful row to judge.
// Throws NoFanoutRows when readers > 1 and the document has no fanout rows for it.
Recommendation recommend(const ResultsDocument& results, const RecommendRequest& request);

struct NoFanoutRows : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The answer as printed: the request, a note when the size was not measured, the
// ranked candidates with one line of why each, and those that fail with what failed.
std::string render_recommendation(const Recommendation& recommendation, const RecommendRequest& request,
                                  const std::string& source);

}  // namespace ipcmark
