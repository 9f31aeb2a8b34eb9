// transports/shm/broadcast_layout.hpp — the bytes of a fanout region (one writer, up to 16 readers).
//
//   offset    0  BroadcastHeader (128 B)    written by the creator, then read-only except
//                                           writer_closed
//   offset  128  BroadcastWriterBlock       written only by the writer
//   offset  256  BroadcastReadersBlock      doorbells: readers set bits (RMW), the writer clears them
//   offset  384  ReaderSlot[16] (128 B each) slot i: written by reader i, and by the writer only
//                                           when it adopts (Joining -> Live) or drops the reader
//   offset 2432  data[capacity]             records, exactly as in ring_layout.hpp
//
// Every block owns an aligned pair of cache lines (see ring_layout.hpp for why). In each block the
// word written per message (tail, a cursor) sits on the first line and what is written only around
// sleeps on the second, so a side's per-message read of the other's sleeping flag stays a cache hit.
// Fields are plain integers touched through std::atomic_ref, as in ring_layout.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "transports/shm/ring_layout.hpp"

namespace ipcmark::shm {

inline constexpr std::uint64_t kBroadcastMagic = 0x314e4146'4d435049;  // "IPCMFAN1" read little-endian
inline constexpr std::uint32_t kBroadcastVersion = 2;  // 2: slot states carry a generation
inline constexpr int kBroadcastSlots = 16;  // == kMaxReaders; every region has all of them
inline constexpr std::size_t kBroadcastHeaderBytes = (3 + kBroadcastSlots) * kBlockBytes;

struct BroadcastHeader {
  std::uint64_t magic;          // kBroadcastMagic, stored last (release): "the rest is initialised"
  std::uint32_t version;        // kBroadcastVersion
  std::uint32_t header_bytes;   // kBroadcastHeaderBytes: where the data area starts
  std::uint64_t capacity;       // bytes of data area, a power of two
  std::uint32_t max_message;    // largest payload; its record fits in capacity / 2
  std::uint32_t readers;        // slots in use: 0..readers-1, 1..kBroadcastSlots
  std::int32_t writer_pid;      // the writer's process
  std::uint32_t writer_waits;   // kWaitsSpin / kWaitsBlock
  std::uint32_t writer_closed;  // 1 once the writer has gone (release)
  std::uint32_t reserved[5];
  std::byte pad[64];
};

struct BroadcastWriterBlock {
  std::uint64_t tail;  // total bytes ever written; 8-aligned
  std::byte pad0[56];
  std::uint32_t data_seq;         // futex word: bumped by the writer to wake every sleeping reader
  std::uint32_t writer_sleeping;  // 1 while the writer sleeps on space_seq (release)
  std::uint64_t wanted;           // while sleeping: the writer waits for every cursor to reach this
  std::byte pad1[48];
};

// Bits of BroadcastReadersBlock::attention, one per slot in each field. A reader sets its bit with an
// atomic RMW; the writer reads the whole word after each publish, so one load tells it whether any
// reader sleeps, waits to be adopted or has closed.
inline constexpr std::uint64_t kSleepingBits = 0;   // bit i: reader i sleeps on data_seq
inline constexpr std::uint64_t kJoiningBits = 16;   // bit 16+i: reader i asks to be adopted
inline constexpr std::uint64_t kClosedBits = 32;    // bit 32+i: reader i has closed
inline constexpr std::uint64_t attention_bit(std::uint64_t field, int slot) {
  return std::uint64_t{1} << (field + static_cast<unsigned>(slot));
}

struct BroadcastReadersBlock {
  std::uint64_t attention;  // see the bits above
  std::byte pad0[56];
  std::uint32_t space_seq;  // futex word: bumped by a reader to wake the writer (space, joins, closes)
  std::byte pad1[60];
};

// ReaderSlot::state. Only a reader moves Free -> Joining (CAS) and Joining/Live -> Closed; only the
// writer moves Joining -> Live (adoption, which sets the cursor) and anything -> Free (drop).
enum class SlotState : std::uint32_t {
  Free = 0,
  Joining = 1,  // claimed; pid and waits written; not yet part of the stream
  Live = 2,     // the writer keeps every byte from `cursor` on until the reader moves it
  Closed = 3,   // the reader has gone; `cursor` is final
};

// The state word holds the SlotState in its low 8 bits and the slot's generation above them. The
// writer bumps the generation whenever it frees a slot, so every occupant of a slot has its own
// words: a CAS, a look or a late doorbell of an earlier occupant can never act on the next one.
// (The doorbells are bits, too small to carry it: they only say "look at the slot", and the word
// decides.) 24 bits wrap after 16 million occupants of one slot, far beyond any doorbell's delay.
inline constexpr std::uint32_t slot_word(SlotState state, std::uint32_t generation) {
  return generation << 8 | static_cast<std::uint32_t>(state);
}
inline constexpr SlotState slot_state(std::uint32_t word) { return static_cast<SlotState>(word & 0xff); }
inline constexpr std::uint32_t slot_generation(std::uint32_t word) { return word >> 8; }
// The word that frees a slot whose occupant had `word`: the next generation.
inline constexpr std::uint32_t next_free_word(std::uint32_t word) {
  return slot_word(SlotState::Free, (slot_generation(word) + 1) & 0xffffff);
}

struct ReaderSlot {
  std::uint64_t cursor;  // total bytes this reader consumed; 8-aligned; set by the writer on adoption
  std::byte pad0[56];
  std::uint32_t state;  // slot_word(SlotState, generation); also a futex word: a joiner sleeps on it
  std::int32_t pid;     // the reader's process, written before it asks to join
  std::uint32_t waits;  // kWaitsSpin / kWaitsBlock: whether the writer must check its sleeping bit
  std::uint32_t reserved;
  std::byte pad1[48];
};

struct BroadcastOffsets {
  static constexpr std::size_t header = 0;
  static constexpr std::size_t writer = kBlockBytes;
  static constexpr std::size_t readers = 2 * kBlockBytes;
  static constexpr std::size_t slots = 3 * kBlockBytes;
  static constexpr std::size_t data = kBroadcastHeaderBytes;
};

static_assert(sizeof(BroadcastHeader) == kBlockBytes);
static_assert(offsetof(BroadcastHeader, capacity) == 16 && offsetof(BroadcastHeader, readers) == 28);
static_assert(offsetof(BroadcastHeader, writer_closed) == 40);
static_assert(sizeof(BroadcastWriterBlock) == kBlockBytes && sizeof(BroadcastReadersBlock) == kBlockBytes);
static_assert(offsetof(BroadcastWriterBlock, data_seq) == 64 && offsetof(BroadcastWriterBlock, wanted) == 72);
static_assert(offsetof(BroadcastReadersBlock, space_seq) == 64);
static_assert(sizeof(ReaderSlot) == kBlockBytes && offsetof(ReaderSlot, state) == 64);
static_assert(BroadcastOffsets::data % kBlockBytes == 0);
static_assert(kClosedBits + kBroadcastSlots <= 64);

// Bytes one fanout region with `capacity` data bytes occupies.
constexpr std::size_t broadcast_bytes(std::uint64_t capacity) { return kBroadcastHeaderBytes + capacity; }

}  // namespace ipcmark::shm
