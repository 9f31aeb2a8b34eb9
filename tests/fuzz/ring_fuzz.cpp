// tests/fuzz/ring_fuzz.cpp — the reading side of the shm ring over bytes another process controls.
//
// A valid ring is laid out first (otherwise every input dies at the magic check), then the input
// overwrites it: the writer's tail, the data area and, when the first byte says so, the header too.
// The reader then receives until it fails; after each message the next 8 input bytes (if any)
// become the record header where the reader looks next, as a live hostile writer would publish. The ring lives in a heap
// block of exactly its size and the reader's buffer is exactly max_message bytes, so ASan catches
// any read or write outside either. The only acceptable outcomes are messages, Corrupt and Timeout.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "transports/shm/spsc_ring.hpp"

namespace {

using namespace ipcmark;
using namespace ipcmark::shm;

struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::uint8_t byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  std::size_t take(void* out, std::size_t n) {
    n = n < size ? n : size;
    std::memcpy(out, data, n);
    data += n;
    size -= n;
    return n;
  }
};

void accept_only_corrupt_or_timeout(const Error& e) {
  if (e.code() != Errc::Corrupt && e.code() != Errc::Timeout) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  const std::uint8_t shape = in.byte();
  const std::uint64_t capacity = kMinCapacity << (shape & 3);  // 128..1024 bytes of data area
  const std::uint32_t largest = static_cast<std::uint32_t>(capacity / 2 - sizeof(RecordHeader));
  const std::uint32_t max_message = 1 + in.byte() % largest;
  const bool header_too = (shape & 0x80) != 0;

  const std::size_t bytes = ring_bytes(capacity);  // a multiple of 128
  auto* memory = static_cast<std::byte*>(std::aligned_alloc(kBlockBytes, bytes));
  const std::span<std::byte> ring(memory, bytes);
  initialise_ring(ring, RingParams{capacity, max_message});
  if (header_too) in.take(memory, sizeof(RingHeader));
  std::uint64_t tail = 0;
  in.take(&tail, sizeof tail);
  std::memcpy(memory + RingOffsets::writer + offsetof(WriterBlock, tail), &tail, sizeof tail);
  in.take(memory + RingOffsets::data, capacity);

  try {
    RingReader reader(ring, "fuzz");
    std::vector<std::byte> out(reader.max_message());
    // A past deadline: an empty ring times out after one round of polls instead of waiting.
    const Deadline now = Clock::now();
    for (int messages = 0; messages < 64; ++messages) {
      const std::size_t n = reader.receive<SpinWait>(out, now);
      if (n == 0 || n > out.size()) __builtin_trap();
      std::uint64_t header = 0;
      if (in.take(&header, sizeof header) == sizeof header) {
        std::uint64_t head = 0;  // the reader's, as it published it
        std::memcpy(&head, memory + RingOffsets::reader + offsetof(ReaderBlock, head), sizeof head);
        std::memcpy(memory + RingOffsets::data + (head & (capacity - 1)), &header, sizeof header);
      }
    }
  } catch (const Error& e) {
    accept_only_corrupt_or_timeout(e);
  }
  std::free(memory);
  return 0;
}
