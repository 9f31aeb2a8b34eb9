// transports/shm/record_codec.hpp — how both rings (spsc_ring, broadcast_ring) write, read and
// check a record header: one set of rules, so the two cannot drift apart.
//
// A header is one 8-byte word in shared memory ([u32 length | u32 kind], ring_layout.hpp), stored
// and loaded as one atomic word: the reader checks exactly the value it then uses (a plain or
// memcpy read would let the compiler fetch it twice, and a hostile peer change it in between).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>

#include "transports/shm/ring_layout.hpp"

namespace ipcmark::shm {

inline std::atomic_ref<std::uint64_t> record_header_word(std::byte* at) noexcept {
  return std::atomic_ref(*reinterpret_cast<std::uint64_t*>(at));  // `at` is 8-aligned: records are
}

inline RecordHeader load_record_header(std::byte* at, std::memory_order order) noexcept {
  return std::bit_cast<RecordHeader>(record_header_word(at).load(order));
}

inline void store_record_header(std::byte* at, std::uint64_t length, RecordKind kind, std::memory_order order) noexcept {
  const RecordHeader header{static_cast<std::uint32_t>(length), static_cast<std::uint32_t>(kind)};
  record_header_word(at).store(std::bit_cast<std::uint64_t>(header), order);
}

enum class RecordVerdict { Data, Padding, Defect };

// What the header `record` at `offset` of a data area of `capacity` bytes is, given `available`
// bytes published from `offset` on (the SPSC ring, where the header itself is the publication,
// passes capacity - offset). A Data record has a length in 1..max_message and ends before both
// the wrap point and the published bytes. Padding ends exactly at the wrap point, within the
// published bytes, and is shorter than the largest record: it only ever precedes a record that did
// not fit, and one spanning the whole ring from offset 0 would bring a reader back to itself.
[[gnu::always_inline]] inline RecordVerdict check_record(RecordHeader record, std::uint64_t offset,
                                                         std::uint64_t available, std::uint64_t capacity,
                                                         std::uint32_t max_message) noexcept {
  const std::uint64_t to_wrap = capacity - offset;
  if (record.kind == static_cast<std::uint32_t>(RecordKind::Data))
    return record.length - 1u < max_message && record_bytes(record.length) <= std::min(to_wrap, available)
               ? RecordVerdict::Data
               : RecordVerdict::Defect;
  if (record.kind == static_cast<std::uint32_t>(RecordKind::Padding) &&
      sizeof record + std::uint64_t{record.length} == to_wrap && to_wrap <= available &&
      to_wrap < record_bytes(max_message))
    return RecordVerdict::Padding;
  return RecordVerdict::Defect;
}

// The first rule of check_record that `record` breaks, in words (for the caller's Corrupt error).
std::string record_defect(RecordHeader record, std::uint64_t offset, std::uint64_t available, std::uint64_t capacity,
                          std::uint32_t max_message);

}  // namespace ipcmark::shm
