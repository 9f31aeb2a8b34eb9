// tests/bench/raw_shm_pingpong.cpp — the floor of ipcmark's shm ping-pong at every size (issue 19).
//
// The classic minimal shared-memory ping-pong, no ipcmark code: one SysV segment holding a flag
// (its own cache line) and one message buffer, a fork()ed echo child, both sides busy-polling the
// flag with PAUSE (as `--wait spin` does). The timing parent memsets its message into the buffer
// and raises the flag to kPing; the child memcpys it out, memsets its reply into the same buffer
// and sets kPong; the parent memcpys the reply out. Nothing is checked: this is the bar ipcmark's
// zero-copy mode (fill in place, check in place) must reach and its copy mode come near.
// A second layout, `raw/shm/pingpong-two-rings`, is the same program with what a channel that
// carries both directions at once must have: requests go through one ring of message-sized slots
// and replies through another (each as large as ipcmark's shm ring for that size), the slot moving
// on every message. It has no reply written over the request's lines, so the difference between
// the two rows is what that trick is worth; ipcmark, whose channels are two rings, is judged against
// both.
// Placement and counters as raw_pingpong.cpp: the child on the first CPU, the parent on the
// second ("same": both on the first; with busy polling a round trip then waits out a time slice).
#include <benchmark/benchmark.h>

#include "raw_pingpong_support.hpp"
#include "raw_shm_support.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace raw_bench;

constexpr std::uint64_t kPing = 1, kPong = 2;
constexpr std::size_t kBufferOffset = 128;  // the flag's line pair stays apart from the buffer's

enum class Layout { OneBuffer, TwoRings };

// ipcmark's default shm ring for messages of `size` bytes (transports/shm/spsc_ring.hpp): the
// power of two >= max(1 MiB, 4 × size, min(4 MiB, 64 × size)).
std::size_t ring_bytes_for(std::size_t size) {
  const std::size_t want = std::max({std::size_t{1} << 20, 4 * size, std::min(std::size_t{4} << 20, 64 * size)});
  return std::bit_ceil(want);
}

class ShmEcho : public SharedChild {
 public:
  ShmEcho(int child_cpu, std::size_t size, Layout layout)
      : SharedChild(kBufferOffset + (layout == Layout::OneBuffer ? size : 2 * ring_bytes_for(size))),
        size_(size),
        slot_bytes_((size + 63) / 64 * 64),
        slots_(layout == Layout::OneBuffer ? 1 : ring_bytes_for(size) / slot_bytes_),
        replies_at_(layout == Layout::OneBuffer ? 0 : ring_bytes_for(size)) {
    start_child(child_cpu, [this] { echo(); });
  }

  bool round_trip(std::vector<char>& message) {
    const std::size_t slot = next_slot(parent_slot_);
    std::memset(request(slot), ++fill_, size_);
    flag().store(kPing, std::memory_order_release);
    if (!spin_until([this] { return flag().load(std::memory_order_acquire) == kPong; })) return false;
    std::memcpy(message.data(), reply(slot), size_);
    return true;
  }

 private:
  std::atomic_ref<std::uint64_t> flag() { return shared_word(base_); }
  // One buffer: both are the same bytes. Two rings: slot k of the request ring and of the reply ring.
  std::byte* request(std::size_t slot) { return base_ + kBufferOffset + slot * slot_bytes_; }
  std::byte* reply(std::size_t slot) { return base_ + kBufferOffset + replies_at_ + slot * slot_bytes_; }
  // One buffer: always slot 0, no division on the round trip the bar is measured by.
  std::size_t next_slot(std::size_t& counter) const { return slots_ == 1 ? 0 : counter++ % slots_; }

  [[noreturn]] void echo() {
    std::vector<char> received(size_);
    std::size_t child_slot = 0;
    for (unsigned char fill = 0x80;; ++fill) {
      const std::size_t slot = next_slot(child_slot);
      while (flag().load(std::memory_order_acquire) != kPing) cpu_relax();
      std::memcpy(received.data(), request(slot), size_);
      benchmark::DoNotOptimize(received.data());  // the copy is part of the work: keep it
      benchmark::ClobberMemory();
      std::memset(reply(slot), fill, size_);
      flag().store(kPong, std::memory_order_release);
    }
  }

  std::size_t size_, slot_bytes_, slots_, replies_at_;
  std::size_t parent_slot_ = 0;
  unsigned char fill_ = 0;
};

template <Layout layout>
void BM_RawShmPingPong(benchmark::State& state, std::size_t size, Placement placement) {
  time_round_trips(state, size, placement, [&](int cpu, std::vector<char>& message) {
    return std::make_unique<ShmEcho>(cpu, message.size(), layout);
  });
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

}  // namespace

int main(int argc, char** argv) {
  if (!choose_cpus(argc, argv, "bench_raw_shm_pingpong")) return 2;
  // The two layouts side by side at each size and placement: the host moves the vCPUs every few
  // seconds to minutes here, and rows run far apart can sit on different placements.
  for (const std::size_t size : {64, 4096, 65536})
    for (const auto& [placement, placement_name] : {std::pair{Placement::Cross, "cross"}, {Placement::Same, "same"}})
      for (const auto& [layout_name, bench] : {std::pair{"pingpong", &BM_RawShmPingPong<Layout::OneBuffer>},
                                               {"pingpong-two-rings", &BM_RawShmPingPong<Layout::TwoRings>}}) {
        const std::string name = std::string("raw/shm/") + layout_name + "/" + std::to_string(size) + "/" + placement_name;
        benchmark::RegisterBenchmark(name.c_str(), bench, size, placement)->UseRealTime()->Unit(benchmark::kMicrosecond);
      }
  return run_registered(argc, argv, "pingpong_cpus");
}
