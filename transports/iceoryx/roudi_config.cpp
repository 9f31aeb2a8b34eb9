#include "transports/iceoryx/roudi_config.hpp"

#include <algorithm>

namespace ipcmark::iceoryx {
namespace {

// Room for our message header (iceoryx_channel.hpp) and its alignment in every chunk; iceoryx
// adds its own chunk header to the configured size itself.
constexpr std::size_t kHeaderRoom = 64;
constexpr std::size_t kSmallestMessage = 256;
constexpr std::size_t kPoolBudget = 64 * 1024 * 1024;  // bytes per pool the run's sizes use
constexpr std::size_t kMaxChunksPerPool = 4096;
constexpr std::size_t kMinChunksPerPool = 64;
constexpr std::size_t kSpareChunks = 8;  // pools above the run's largest message

std::string bytes(std::size_t n) {
  if (n >= 1024 * 1024 && n % (1024 * 1024) == 0) return std::to_string(n / (1024 * 1024)) + " MiB";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n / 1024) + " KiB";
  return std::to_string(n) + " B";
}

}  // namespace

std::vector<Mempool> plan_mempools(std::size_t run_max_message) {
  run_max_message = std::min(run_max_message, kMaxMessage);
  std::vector<Mempool> pools;
  std::size_t below = 0;  // the previous rung's message size
  for (std::size_t message = kSmallestMessage;; message *= 4) {
    const std::size_t chunk = message + kHeaderRoom;
    const bool used = below < run_max_message;  // some message of the run lands in this pool
    const std::size_t count =
        used ? std::clamp(kPoolBudget / chunk, kMinChunksPerPool, kMaxChunksPerPool) : kSpareChunks;
    pools.push_back({chunk, count});
    if (message >= kMaxMessage) break;
    below = message;
  }
  return pools;
}

std::string roudi_toml(const std::vector<Mempool>& pools) {
  std::string toml = "# written by ipcmark for the RouDi it starts (transports/iceoryx/roudi_config.cpp)\n"
                     "[general]\nversion = 1\n\n[[segment]]\n";
  for (const Mempool& pool : pools)
    toml += "\n[[segment.mempool]]\nsize = " + std::to_string(pool.chunk_payload) +
            "\ncount = " + std::to_string(pool.count) + "\n";
  return toml;
}

std::string describe_mempools(const std::vector<Mempool>& pools) {
  std::size_t total = 0;
  for (const Mempool& pool : pools) total += pool.chunk_payload * pool.count;
  return std::to_string(pools.size()) + " mempools for messages of " + bytes(kSmallestMessage) + ".." +
         bytes(pools.back().chunk_payload - kHeaderRoom) + ", " + std::to_string(total >> 20) + " MiB";
}

}  // namespace ipcmark::iceoryx
