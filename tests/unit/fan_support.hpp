// tests/unit/fan_support.hpp — the broadcast ring over a plain buffer, for the fanout unit tests:
// one region in heap memory, and readers' and writers' loops that check every message.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/unit/ring_support.hpp"
#include "transports/shm/broadcast_ring.hpp"

namespace ipcmark::shm::test_support {

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
  test_support::AlignedBytes memory_;
};

// Deterministic sizes: any reordering, loss or tear shows up (contents: test_support::pattern).
inline std::size_t size_of(std::uint64_t seq, std::size_t max) { return 1 + (seq * 2654435761u) % max; }

inline bool contains(const Error& e, const std::string& text) { return std::string(e.what()).find(text) != std::string::npos; }

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
