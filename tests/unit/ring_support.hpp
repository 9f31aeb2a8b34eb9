// What the ring tests share (shm_ring_test, shm_loan_test, broadcast_ring_test): rings in
// ordinary heap memory aligned as a mapping would be, deterministic message contents, deadlines,
// and catching the ipcmark::Error a call throws.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

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

template <class F>
Error error_from(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no ipcmark::Error was thrown";
  return Error(Errc::System, "");
}

// A Corrupt error about the ring named `name`, saying `detail`.
inline void expect_corrupt(const Error& e, const std::string& name, const std::string& detail) {
  EXPECT_EQ(e.code(), Errc::Corrupt) << e.what();
  EXPECT_NE(std::string(e.what()).find("corrupt region '" + name + "': "), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(detail), std::string::npos) << e.what();
}

}  // namespace ipcmark::shm::test_support
