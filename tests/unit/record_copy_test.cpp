// copy_into_record: every byte of the message lands, and nothing outside it is written, whatever
// the size and wherever the payload starts relative to a cache line.
#include "transports/shm/record_copy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace ipcmark::shm {
namespace {

TEST(RecordCopy, CopiesExactlyTheMessageAtEveryOffsetAndSize) {
  constexpr std::size_t kGuard = 64;
  constexpr std::byte kCanary{0xA5};
  for (std::size_t size = 1; size <= kLineCopyBytes + 80; ++size) {
    std::vector<std::byte> message(size);
    for (std::size_t i = 0; i < size; ++i) message[i] = static_cast<std::byte>((i * 7 + size) % 251);
    for (std::size_t offset = 0; offset < 64; ++offset) {
      alignas(64) std::byte ring[kGuard + 64 + kLineCopyBytes + 80 + kGuard];
      std::fill(std::begin(ring), std::end(ring), kCanary);
      std::byte* to = ring + kGuard + offset;
      copy_into_record(to, message);
      ASSERT_TRUE(std::equal(message.begin(), message.end(), to)) << "size " << size << " offset " << offset;
      for (const std::byte* p = ring; p < to; ++p)
        ASSERT_EQ(*p, kCanary) << "written before the payload: size " << size << " offset " << offset;
      for (const std::byte* p = to + size; p < std::end(ring); ++p)
        ASSERT_EQ(*p, kCanary) << "written past the payload: size " << size << " offset " << offset;
    }
  }
}

}  // namespace
}  // namespace ipcmark::shm
