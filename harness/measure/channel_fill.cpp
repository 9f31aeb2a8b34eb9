#include "harness/measure/channel_fill.hpp"

#include <cstring>

#include "harness/measure/clock.hpp"
#include "harness/measure/payload.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace ipcmark {
namespace {

// A time stamp for comparing two ways of writing, not a clock: the TSC where there is one (a
// fraction of clock_gettime's cost, which at one read per 64 KiB write would show).
std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return now_ns();
#endif
}

void write(FasterWay::Way way, std::span<std::byte> to, std::span<std::byte> mine, std::uint64_t sequence,
           std::uint64_t stamp_ns) noexcept {
  if (way == FasterWay::Straight) return fill_payload_twice(to, mine, sequence, stamp_ns);  // by the channel's lines
  fill_payload(mine, sequence, stamp_ns);
  std::memcpy(to.data(), mine.data(), mine.size());
}

}  // namespace

void ChannelFill::fill(std::span<std::byte> to, std::span<std::byte> mine, std::uint64_t sequence,
                       std::uint64_t stamp_ns) noexcept {
  const FasterWay::Turn turn = way_.next();
  if (!turn.timed) return write(turn.way, to, mine, sequence, stamp_ns);
  const std::uint64_t start = ticks();
  write(turn.way, to, mine, sequence, stamp_ns);
  way_.learn(turn.way, static_cast<double>(ticks() - start) / static_cast<double>(to.size() + 1));
}

}  // namespace ipcmark
