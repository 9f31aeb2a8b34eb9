// harness/run/run_result.hpp — what one repetition of one RunSpec measured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "harness/machine/repetition_floor.hpp"
#include "harness/measure/histogram.hpp"
#include "harness/run/scenario.hpp"

namespace ipcmark {

struct RunResult {
  RunSpec spec;
  int repetition_index = 0;
  std::string error;  // one line; empty when the run succeeded

  std::uint64_t messages = 0;    // measured messages (stream), round trips (pingpong), deliveries (fanout)
  std::uint64_t elapsed_ns = 0;  // the client's measured window
  LatencyHistogram latency;      // one-way (stream), round trip (pingpong), fetch (oneshot)
  std::uint64_t lost = 0, reordered = 0, corrupted = 0;
  std::uint64_t server_cpu_ns = 0, client_cpu_ns = 0;  // over each peer's measured window
  std::uint64_t server_context_switches = 0, client_context_switches = 0;
  double achieved_rate = 0;     // open loop: messages/s the sender managed (spec.rate was the aim)
  std::uint64_t pacing_ns = 0;  // open loop: the sender's busy-waiting for due times (in its CPU)

  // Fanout: readers dropped mid-stream by the writer, and the worst reader's percentiles
  // (`latency` merges every reader's). client_cpu_ns sums every reader's.
  int readers_lost = 0;
  std::uint64_t worst_reader_p50_ns = 0, worst_reader_p99_ns = 0;

  // The short floor taken on the repetition's CPUs right before and after it (repetition_floor.hpp);
  // none with --no-floor or unpinned.
  std::optional<RepetitionFloor> floor;

  bool ok() const { return error.empty(); }
  double ns_per_message() const { return messages ? double(elapsed_ns) / double(messages) : 0.0; }
  double messages_per_second() const { return elapsed_ns ? double(messages) * 1e9 / double(elapsed_ns) : 0.0; }
  double bytes_per_second() const { return messages_per_second() * double(spec.message_size); }
  double cpu_ns_per_message() const {
    return messages ? double(server_cpu_ns + client_cpu_ns) / double(messages) : 0.0;
  }
};

}  // namespace ipcmark
