// tests/support/rings.hpp — SPSC and broadcast (fanout) rings over aligned heap memory, message contents and deadlines.
//
// What the ring tests share (shm_ring_test, shm_loan_test, broadcast_*_test): rings in
// ordinary heap memory aligned as a mapping would be, deterministic message contents, deadlines,
// and readers' and writers' loops over the broadcast ring that check every message.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "tests/support/errors.hpp"
#include "transports/shm/broadcast_ring.hpp"
#include "transports/shm/spsc_ring.hpp"

namespace ipcmark::shm::test_support {

// `size` bytes of heap memory starting on a 128-byte boundary.
class AlignedBytes {
 public:
  explicit AlignedBytes(std::size_t size) : storage_(size + kBlockBytes), bytes_(align(storage_.data()), size) {}
  std::span<std::byte> span() const { return bytes_; }

 private:
  static std::byte* align(std::byte* p) {
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    return p + ((kBlockBytes - address % kBlockBytes) % kBlockBytes);
  }
  std::vector<std::byte> storage_;
  std::span<std::byte> bytes_;
};

// One initialised SPSC ring in such memory, with its parts at hand.
class RingMemory {
 public:
  RingMemory(std::uint64_t capacity, std::uint32_t max_message) : memory_(ring_bytes(capacity)) {
    initialise_ring(span(), RingParams{capacity, max_message});
  }
  std::span<std::byte> span() const { return memory_.span(); }
  RingHeader& header() const { return ring_header(span()); }
  WriterBlock& writer_block() const { return *reinterpret_cast<WriterBlock*>(span().data() + RingOffsets::writer); }
  ReaderBlock& reader_block() const { return *reinterpret_cast<ReaderBlock*>(span().data() + RingOffsets::reader); }
  std::byte* data() const { return span().data() + RingOffsets::data; }
  void put_record(std::uint64_t offset, std::uint32_t length, std::uint32_t kind) const {
    const RecordHeader record{length, kind};
    std::memcpy(data() + offset, &record, sizeof record);
  }
  RecordHeader record_at(std::uint64_t offset) const {
    RecordHeader record;
    std::memcpy(&record, data() + offset, sizeof record);
    return record;
  }

 private:
  AlignedBytes memory_;
};

// Byte i of message `seq`: any reordering, loss or tear shows up.
inline std::byte pattern(std::uint64_t seq, std::size_t i) {
  return std::byte(static_cast<unsigned char>(seq * 131 + i * 7 + 1));
}

inline void fill(std::span<std::byte> bytes, std::uint64_t seq) {
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = pattern(seq, i);
}

inline std::vector<std::byte> message(std::uint64_t seq, std::size_t size) {
  std::vector<std::byte> bytes(size);
  fill(bytes, seq);
  return bytes;
}

inline bool has_contents(std::span<const std::byte> bytes, std::uint64_t seq) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] != pattern(seq, i)) return false;
  return true;
}

inline Deadline past() { return Clock::now() - std::chrono::seconds(1); }
inline Deadline soon() { return Clock::now() + std::chrono::milliseconds(5); }
// Never reached when the code under test works; bounds a test that would otherwise hang.
inline Deadline generous() { return Clock::now() + std::chrono::seconds(20); }

using testing::contains;
using testing::error_from;
using testing::expect_corrupt;

// ---- the broadcast ring (fanout) -----------------------------------------------------------------

inline const std::string kName = "fan-test";

// One region in an ordinary heap buffer, aligned like a mapping would be.
class FanMemory {
 public:
  FanMemory(std::uint64_t capacity, std::uint32_t max_message, int readers, std::uint32_t waits = kWaitsBlock)
      : memory_(broadcast_bytes(capacity)) {
    initialise_broadcast(span(), BroadcastParams{capacity, max_message, readers, 0, waits});
  }
  std::span<std::byte> span() const { return memory_.span(); }
  BroadcastHeader& header() const { return *reinterpret_cast<BroadcastHeader*>(span().data()); }
  BroadcastWriterBlock& writer_block() const {
    return *reinterpret_cast<BroadcastWriterBlock*>(span().data() + BroadcastOffsets::writer);
  }
  std::uint64_t& attention() const {
    return reinterpret_cast<BroadcastReadersBlock*>(span().data() + BroadcastOffsets::readers)->attention;
  }
  ReaderSlot& slot(int i) const { return reinterpret_cast<ReaderSlot*>(span().data() + BroadcastOffsets::slots)[i]; }
  std::byte* data() const { return span().data() + BroadcastOffsets::data; }
  std::uint64_t tail() const { return std::atomic_ref(writer_block().tail).load(std::memory_order_acquire); }

 private:
  AlignedBytes memory_;
};

// Deterministic sizes: any reordering, loss or tear shows up (contents: test_support::pattern).
inline std::size_t size_of(std::uint64_t seq, std::size_t max) { return 1 + (seq * 2654435761u) % max; }

// Reads `count` messages (sequence numbers first..first+count-1) and checks each; returns a
// description of the first problem, or "" when all arrived whole and in order.
template <class Wait>
std::string read_all(BroadcastReader& reader, std::uint64_t first, std::uint64_t count, std::size_t max) {
  std::vector<std::byte> out(max);
  for (std::uint64_t seq = first; seq < first + count; ++seq) {
    std::size_t n = 0;
    try {
      n = reader.receive<Wait>(out, generous());
    } catch (const Error& e) {
      return "message " + std::to_string(seq) + ": " + e.what();
    }
    if (n != size_of(seq, max)) return "message " + std::to_string(seq) + " has " + std::to_string(n) + " bytes";
    if (!has_contents(std::span(out).first(n), seq)) return "message " + std::to_string(seq) + " is torn";
  }
  return "";
}

// Sends `count` messages from `first`, letting `reader` catch up whenever the ring is full.
inline void send_with_reader(BroadcastWriter& writer, BroadcastReader& reader, std::uint64_t first, std::uint64_t count,
                      std::uint32_t max, std::uint64_t& read) {
  for (std::uint64_t seq = first; seq < first + count; ++seq) {
    for (int attempt = 0;; ++attempt) {
      try {
        writer.send<SpinWait>(message(seq, size_of(seq, max)), past());
        break;
      } catch (const Error& e) {
        ASSERT_EQ(e.code(), Errc::Timeout) << e.what();
        ASSERT_LT(attempt, 2) << "the writer stays stuck: " << e.what();
        while (read < seq) {
          ASSERT_EQ(read_all<SpinWait>(reader, read, 1, max), "");
          ++read;
        }
      }
    }
  }
}

}  // namespace ipcmark::shm::test_support
