// transports/shm/record_copy.hpp — copying a message into a record's payload in the ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ipcmark::shm {

// Messages up to this size are copied in two parts, split at the first line boundary; bigger
// ones by one memcpy.
inline constexpr std::size_t kLineCopyBytes = 256;

// Copies `from` to `to` (a record's payload) so that no store straddles the first cache line
// boundary. A payload starts 8 bytes past an 8-aligned record, in the line whose header the reader
// is polling; glibc's memcpy of a small message issues 32- or 64-byte stores from there, and one
// of them usually straddles that line and the next, both to be taken from the reader's core.
// Copying up to the boundary, then the rest, keeps the stores into the polled line to that line.
// Measured, copy mode, spin, two pinned vCPUs, one run (pingpong median): 64 B round trip
// 426-437 ns with one memcpy, 385-390 ns split; 256 B 608-652 -> 599-621 ns; 1024 B 1107-1154 ->
// 1132-1189 ns (worse, hence the limit); the 64 B stream the same. Splitting at every line took
// three calls for a 64 B message, and the ring's own two-thread 64 B stream from 75 to 27 M
// msgs/s (this way: 51-75 M against 51-72 M, interleaved, noisy); 8-byte word stores cost the
// harness's 64 B stream a third.
inline void copy_into_record(std::byte* to, std::span<const std::byte> from) noexcept {
  const std::size_t size = from.size();
  constexpr std::size_t kLine = 64;
  const std::size_t into_line = reinterpret_cast<std::uintptr_t>(to) % kLine;
  const std::size_t to_line = kLine - into_line;
  // Big; or starting a line (the polled header is in the one before); or within the first line.
  if (size > kLineCopyBytes || into_line == 0 || size <= to_line) {
    std::memcpy(to, from.data(), size);
    return;
  }
  std::memcpy(to, from.data(), to_line);
  std::memcpy(to + to_line, from.data() + to_line, size - to_line);
}

}  // namespace ipcmark::shm
