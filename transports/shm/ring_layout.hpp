// transports/shm/ring_layout.hpp — the bytes both processes agree on; nothing else.
//
// One ring is one contiguous span (a channel's region holds two, back to back):
//
//   offset   0  RingHeader (64 B) + 64 B         written by the creator, then read-only except the
//                                                handshake words noted below; the 64 B after it
//                                                hold the semaphore of --wait sem (doorbell.hpp)
//   offset 128  WriterBlock (128 B)              written only by the writer
//   offset 256  ReaderBlock (128 B)              written only by the reader
//   offset 384  data[capacity]                   records, see RecordHeader
//
// Each block owns a whole 128-byte-aligned pair of cache lines: Intel's adjacent-line prefetcher
// fetches lines in aligned pairs, so sharing a pair with the other side's index would still bounce.
// Inside a block the index sits on the first line (written on every message) and the futex word
// plus the sleeping flag on the second line (written only around sleeps), so the peer's per-message
// read of the sleeping flag hits a line that stays Shared in its cache.
//
// Fields are plain integers; code touches the mutable ones only through std::atomic_ref, so the
// structs stay trivially copyable with fixed, checked offsets.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ipcmark::shm {

inline constexpr std::uint64_t kRingMagic = 0x31474e52'4d435049;  // "IPCMRNG1" read little-endian
// 2: the record header is the publication (spsc_ring.hpp); 3: in-place replies (RecordKind::InPlace)
inline constexpr std::uint32_t kRingVersion = 3;
inline constexpr std::size_t kBlockBytes = 128;  // one adjacent-line pair
inline constexpr std::size_t kHeaderBytes = 3 * kBlockBytes;
inline constexpr std::size_t kRecordAlign = 8;
inline constexpr std::uint64_t kMinCapacity = kBlockBytes;  // keeps a second ring 128-aligned

// WaitKind as stored in the header: 0 means "not announced yet", then 1 + the WaitKind's value
// (spin 1, block 2, futex 3, eventfd 4, sem 5, uds 6).
inline constexpr std::uint32_t kWaitsSpin = 1;
inline constexpr std::uint32_t kWaitsBlock = 2;
inline constexpr std::uint32_t kWaitsLast = 6;

struct RingHeader {
  std::uint64_t magic;         // kRingMagic, stored last (release): "the rest is initialised"
  std::uint32_t version;       // kRingVersion
  std::uint32_t header_bytes;  // kHeaderBytes: where the data area starts
  std::uint64_t capacity;      // bytes of data area, a power of two
  std::uint32_t max_message;   // largest payload; its record fits in capacity / 2
  // Channel fields: used in the first ring of a channel's region only (zero in the second).
  std::int32_t server_pid;      // written by the creator before `magic`
  std::int32_t client_pid;      // 0 until the client connects (release); accept() sleeps on it
  std::uint32_t server_waits;   // kWaitsSpin..kWaitsLast, written before `magic`
  std::uint32_t client_waits;   // 0 until a client claims the channel by CAS, then its WaitKind
  std::uint32_t server_closed;  // 1 once the server's Connection is gone
  std::uint32_t client_closed;  // 1 once the client's Connection is gone
  std::uint32_t request_reply;  // 1: requests and replies in turn (ChannelConfig), written before `magic`
  std::uint32_t reserved[2];
};

struct WriterBlock {
  std::uint64_t tail;  // total bytes ever written (records + padding); 8-aligned; readers poll headers
  std::byte pad0[56];
  std::uint32_t data_seq;         // futex word: bumped by the writer to wake a reader
  std::uint32_t writer_sleeping;  // 1 while the writer sleeps on ReaderBlock::space_seq
  std::byte pad1[56];
};

struct ReaderBlock {
  std::uint64_t head;  // total bytes ever consumed; 8-aligned
  std::byte pad0[56];
  std::uint32_t space_seq;        // futex word: bumped by the reader to wake a writer
  std::uint32_t reader_sleeping;  // 1 while the reader sleeps on WriterBlock::data_seq
  std::byte pad1[56];
};

// Every record starts 8-aligned: [u32 length | u32 kind] then `length` payload bytes, padded to 8.
struct RecordHeader {
  std::uint32_t length;
  std::uint32_t kind;
};

// Kind 0 means "nothing published here yet": the reader waits on it (see the end mark in
// spsc_ring.hpp). The header is stored and loaded as one 8-byte word.
enum class RecordKind : std::uint32_t {
  Data = 1,
  Padding = 2,  // skip to the wrap point; `length` == bytes from the end of this header to there
  // A header alone (8 ring bytes): the reply to the reader's outstanding request, `length` bytes
  // written over that request's own payload in the other ring (request/reply channels, shm.cpp).
  InPlace = 3,
};

struct RingOffsets {
  static constexpr std::size_t header = 0;
  static constexpr std::size_t writer = kBlockBytes;
  static constexpr std::size_t reader = 2 * kBlockBytes;
  static constexpr std::size_t data = kHeaderBytes;
};

static_assert(sizeof(RingHeader) == 64);
static_assert(offsetof(RingHeader, capacity) == 16 && offsetof(RingHeader, max_message) == 24);
static_assert(offsetof(RingHeader, server_pid) == 28 && offsetof(RingHeader, client_pid) == 32);
static_assert(offsetof(RingHeader, client_waits) == 40 && offsetof(RingHeader, client_closed) == 48);
static_assert(offsetof(RingHeader, request_reply) == 52);
static_assert(sizeof(WriterBlock) == kBlockBytes && sizeof(ReaderBlock) == kBlockBytes);
static_assert(offsetof(WriterBlock, data_seq) == 64 && offsetof(WriterBlock, writer_sleeping) == 68);
static_assert(offsetof(ReaderBlock, space_seq) == 64 && offsetof(ReaderBlock, reader_sleeping) == 68);
static_assert(sizeof(RecordHeader) == kRecordAlign);
static_assert(RingOffsets::data % kBlockBytes == 0);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::int32_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint64_t>::required_alignment == alignof(std::uint64_t));
static_assert(std::atomic_ref<std::uint32_t>::required_alignment == alignof(std::uint32_t));

// Bytes one record with `length` payload bytes occupies.
constexpr std::uint64_t record_bytes(std::uint64_t length) {
  return sizeof(RecordHeader) + ((length + kRecordAlign - 1) & ~std::uint64_t{kRecordAlign - 1});
}

// Bytes one ring with `capacity` data bytes occupies.
constexpr std::size_t ring_bytes(std::uint64_t capacity) { return kHeaderBytes + capacity; }

}  // namespace ipcmark::shm
