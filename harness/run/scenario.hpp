// harness/run/scenario.hpp — a workload as data: a JSON file in scenarios/, overridden by
// flags, expanded into one RunSpec per transport × pattern × size × wait.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "harness/machine/affinity.hpp"
#include "harness/machine/placement.hpp"
#include "transports/transport.hpp"

namespace ipcmark {

// Fanout: one server streams to `readers` client processes, each receiving every message.
enum class Pattern { Oneshot, Stream, Pingpong, Fanout };
inline constexpr std::array kAllPatterns{Pattern::Oneshot, Pattern::Stream, Pattern::Pingpong, Pattern::Fanout};
std::string_view to_string(Pattern pattern);
Pattern parse_pattern(std::string_view text);  // throws UsageError
WaitKind parse_wait(std::string_view text);    // throws UsageError
bool parse_copy_mode(std::string_view text);   // "copy" false, "zero" true; throws UsageError

// A count that may differ per pattern ("messages": 1000 or {"stream": 100000, ...}).
using PerPattern = std::array<std::uint64_t, kAllPatterns.size()>;

struct Scenario {  // defaults live here and nowhere else
  std::string name = "custom";
  std::string description;
  std::vector<std::string> transports{"shm", "pipe"};
  std::vector<Pattern> patterns{Pattern::Pingpong, Pattern::Stream};
  std::vector<std::size_t> sizes{64, 4096, 65536};
  PerPattern messages{20, 50'000, 10'000, 20'000};  // oneshot, stream, pingpong, fanout
  PerPattern warmup_messages{2, 5'000, 1'000, 2'000};
  // Reader processes of pattern fanout (each 1..kMaxReaders); other patterns have one client.
  std::vector<int> readers{1};
  int repetitions = 3;
  std::vector<WaitKind> waits{WaitKind::Spin, WaitKind::Block};
  std::chrono::seconds timeout{30};
  // --cpus values: "cross", "same", "none" or "A,B" (see harness/machine/placement.hpp).
  std::vector<std::string> placements{"cross"};
  // Stream and fanout send rates in messages/s; 0 is closed loop (as fast as the channel takes them).
  std::vector<std::uint64_t> rates{0};
  // Warm-up lasts until both warmup_messages have gone and warmup_ms have passed.
  std::uint64_t warmup_ms = 0;
  bool interleave = true;  // shuffle the runs of each repetition round
  // Caps a stream run's payload volume (measured messages × size), so big messages over
  // slow transports stay short: messages = min(messages, max(100, max_bytes / size)). 0 = no cap.
  std::uint64_t max_bytes = 0;
  // Copy modes: false = copy (send/receive, every transport), true = zero-copy loans (shm).
  std::vector<bool> zero_copy{false};
  // Per-pattern lists ("sizes": {"fanout": [64, 4096]}) for the patterns they name; the
  // others use `sizes` / `placements`. The --sizes and --cpus flags replace them all.
  std::map<Pattern, std::vector<std::size_t>> sizes_of;
  std::map<Pattern, std::vector<std::string>> placements_of;
  const std::vector<std::size_t>& sizes_for(Pattern p) const;
  const std::vector<std::string>& placements_for(Pattern p) const;
};

// One run: a process pair measuring one configuration.
struct RunSpec {
  const Transport* transport = nullptr;
  Pattern pattern = Pattern::Pingpong;
  std::size_t message_size = 0;
  WaitKind wait = WaitKind::Block;  // Block for transports without wait modes
  std::uint64_t messages = 0;
  std::uint64_t warmup_messages = 0;
  std::chrono::seconds timeout{30};
  int repetitions = 1;
  PinnedPlacement placement;
  std::uint64_t rate = 0;  // stream, fanout: messages/s on a fixed schedule; 0 = closed loop
  int readers = 1;         // fanout: reader processes, all on placement.cpus.client
  std::uint64_t warmup_ms = 0;
  bool zero_copy = false;  // write into and read from the channel's memory (Transport::zero_copy)
  int index = 0;  // position in the expanded scenario: tables list runs in this order

  // One measured message in this many carries its send time and is timed by its reader: 1,
  // except in closed-loop stream and fanout, where reading the clock on both sides of every
  // message (about 22 ns each on this project's VMs) would bound a small-message stream by the
  // harness rather than the transport. The first measured message is always timed.
  std::uint64_t timed_every() const;

  // "<transport>/<pattern>/<size>[/spin|/block][/zero-copy]/<placement>[/readers=N][/rate=N]":
  // the wait where it is a choice (transports with wait modes, patterns other than oneshot),
  // the copy mode when it is zero-copy, the readers of fanout, the rate for open loop.
  std::string name() const;
};

// Strict: unknown keys, wrong types, empty lists, zero or oversized values are a
// UsageError naming `source` and the key.
Scenario parse_scenario(const nlohmann::json& json, std::string_view source);
Scenario load_scenario(const std::string& path);

// Expands a scenario into runs. Placements resolve against `allowed` CPUs. A spinning wait
// is not run where two processes share a CPU (both peers on one, or several fanout readers
// on the client's): the spinner would hold the CPU its peer needs until the scheduler's tick. A size above one transport's limit skips that transport at
// that size, said in `skipped` (one line each); a size no listed transport can carry, or
// any other bad combination, is a UsageError.
std::vector<RunSpec> expand(const Scenario& scenario, const std::vector<int>& allowed = allowed_cpus(),
                            std::vector<std::string>* skipped = nullptr);

}  // namespace ipcmark
