// transports/iceoryx/roudi_config.hpp — the memory pools of a RouDi that ipcmark starts.
//
// iceoryx hands out shared memory in fixed-size chunks from pools configured when RouDi starts;
// a message bigger than the largest chunk cannot be sent at all. The plan is a ladder of pools,
// each a power of four of payload (256 B .. 4 MiB) plus room for iceoryx's chunk header and our
// own, up to the transport's limit. Pools up to the run's largest message get enough chunks for
// the queues of a few channels at once (about 64 MiB each, at most 4096 chunks); the pools above
// it get a few chunks only, so a concurrent user with bigger messages (tests run side by side)
// still finds a chunk rather than a RouDi that cannot carry its messages.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ipcmark::iceoryx {

// The largest message the iceoryx transport carries (the top of the ladder).
inline constexpr std::size_t kMaxMessage = 4 * 1024 * 1024;

struct Mempool {
  std::size_t chunk_payload;  // bytes a chunk holds after iceoryx's chunk header
  std::size_t count;
};

// The pools for a run whose largest message is `run_max_message` (clamped to kMaxMessage).
std::vector<Mempool> plan_mempools(std::size_t run_max_message);

// RouDi's TOML config (format version 1: one segment, the pools).
std::string roudi_toml(const std::vector<Mempool>& pools);

// One line for the results' context: "12 pools, 128 B..4 MiB, 310 MiB".
std::string describe_mempools(const std::vector<Mempool>& pools);

}  // namespace ipcmark::iceoryx
