// transports/shm/record_copy.hpp — copying a message into a record's payload in the ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ipcmark::shm {

// Messages up to this size are copied one cache line at a time, bigger ones by one memcpy.
inline constexpr std::size_t kLineCopyBytes = 256;

// Copies `from` to `to` (a record's payload) so that, for a small message, no store straddles two
// cache lines. A payload starts 8 bytes past an 8-aligned record, and for 33-64 bytes glibc's
// memcpy issues two 32-byte stores, one of which usually straddles two lines that the peer's core
// still holds (it polls the record header in the first). Copying up to the line boundary, then
// whole lines, then the rest keeps each memcpy's stores inside its lines. Measured, copy mode,
// spin, two pinned vCPUs, one run (pingpong median / stream): 64 B round trip 426-437 ns with
// one memcpy, 385-390 ns split this way; 256 B 608-652 -> 599-621 ns; 1024 B 1107-1154 ->
// 1132-1189 ns (worse, hence the limit); the 64 B stream the same (22-48 M msgs/s either way).
// 8-byte word stores gave the same round trips but cost the 64 B stream a third (17-25 M).
inline void copy_into_record(std::byte* to, std::span<const std::byte> from) noexcept {
  const std::size_t size = from.size();
  if (size > kLineCopyBytes) {
    std::memcpy(to, from.data(), size);
    return;
  }
  constexpr std::size_t kLine = 64;
  const std::size_t to_line = (kLine - reinterpret_cast<std::uintptr_t>(to) % kLine) % kLine;
  const std::size_t head = size < to_line ? size : to_line;
  const std::size_t lines = (size - head) & ~(kLine - 1);
  std::memcpy(to, from.data(), head);
  std::memcpy(to + head, from.data() + head, lines);
  std::memcpy(to + head + lines, from.data() + head + lines, size - head - lines);
}

}  // namespace ipcmark::shm
