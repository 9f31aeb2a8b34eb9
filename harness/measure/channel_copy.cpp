#include "harness/measure/channel_copy.hpp"

#include <cstring>

#include "harness/measure/clock.hpp"

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

// Runs `op(way)` the way `faster` says, timing it when it says so, per byte of `bytes`.
template <class Op>
auto timed_by(FasterWay& faster, std::size_t bytes, Op&& op) noexcept {
  const FasterWay::Turn turn = faster.next();
  if (!turn.timed) return op(turn.way);
  const std::uint64_t start = ticks();
  auto result = op(turn.way);
  faster.learn(turn.way, static_cast<double>(ticks() - start) / static_cast<double>(bytes + 1));
  return result;
}

}  // namespace

void ChannelFill::fill(std::span<std::byte> to, std::span<std::byte> mine, std::uint64_t sequence,
                       std::uint64_t stamp_ns) noexcept {
  write(to, mine, /*keep_mine=*/true, sequence, stamp_ns);
}

void ChannelFill::fill_in_place(std::span<std::byte> to, std::span<std::byte> scratch, std::uint64_t sequence,
                                std::uint64_t stamp_ns) noexcept {
  write(to, scratch, /*keep_mine=*/false, sequence, stamp_ns);
}

void ChannelFill::write(std::span<std::byte> to, std::span<std::byte> mine, bool keep_mine, std::uint64_t sequence,
                        std::uint64_t stamp_ns) noexcept {
  timed_by(way_, to.size(), [&](FasterWay::Way way) {
    if (way == FasterWay::Staged) {
      fill_payload(mine, sequence, stamp_ns);
      std::memcpy(to.data(), mine.data(), mine.size());
    } else if (keep_mine) {
      fill_payload_twice(to, mine, sequence, stamp_ns);  // by the channel's lines
    } else {
      fill_payload(to, sequence, stamp_ns);
    }
    return 0;
  });
}

PayloadCheck ChannelCheck::copy(std::span<std::byte> to, std::span<const std::byte> from) noexcept {
  return timed_by(way_, from.size(), [&](FasterWay::Way way) {
    if (way == FasterWay::Straight) return copy_checking_payload(to, from);
    std::memcpy(to.data(), from.data(), from.size());
    return check_payload(to.first(from.size()));
  });
}

}  // namespace ipcmark
