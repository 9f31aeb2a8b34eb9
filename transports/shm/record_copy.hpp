// transports/shm/record_copy.hpp — copying a message into a record's payload in the ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ipcmark::shm {

// Messages up to this size are copied word by word; bigger ones by one memcpy.
inline constexpr std::size_t kLineCopyBytes = 256;

// Copies `from` to `to` (a record's payload) so that no store straddles two cache lines. A payload
// starts 8 bytes past an 8-aligned record, often in the line whose header the reader is polling;
// glibc's memcpy of a small message issues 32- or 64-byte stores from there, and one of them
// usually straddles that line and the next, both to be taken from the reader's core. 8-byte
// stores at 8-aligned addresses never do. Why not two memcpys split at the line boundary: GCC,
// knowing the second part is under kLineCopyBytes, inlines it as `rep movsq` with head and tail
// moves, which slowed a small-message stream, and two out-of-line glibc calls lengthened the round
// trip. The limit: above it the split no longer paid (1 KiB measured worse). Words pay in a stream
// only with spsc_ring.hpp's batched give-back (neither helped alone). Measured:
// docs/performance-notes.md.
inline void copy_into_record(std::byte* to, std::span<const std::byte> from) noexcept {
  const std::size_t size = from.size();
  constexpr std::size_t kLine = 64;
  const std::size_t into_line = reinterpret_cast<std::uintptr_t>(to) % kLine;
  // Big; or starting a line (the polled header is in the one before); or within the first line;
  // or too short for a word.
  if (size > kLineCopyBytes || into_line == 0 || size <= kLine - into_line || size < 8) {
    std::memcpy(to, from.data(), size);
    return;
  }
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, from.data() + i, 8);
    asm("" : "+r"(word));  // or GCC turns the loop back into memcpy or `rep movsq`
    std::memcpy(to + i, &word, 8);
  }
  if (i != size) {  // the last bytes: one more word, overlapping the one before
    std::uint64_t word;
    std::memcpy(&word, from.data() + size - 8, 8);
    std::memcpy(to + size - 8, &word, 8);
  }
}

}  // namespace ipcmark::shm
