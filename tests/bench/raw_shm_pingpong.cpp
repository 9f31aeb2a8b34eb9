// tests/bench/raw_shm_pingpong.cpp — the floor of ipcmark's shm ping-pong at every size (issue 19).
//
// The classic minimal shared-memory ping-pong, no ipcmark code: one SysV segment holding a flag
// (its own cache line) and one message buffer, a fork()ed echo child, both sides busy-polling the
// flag with PAUSE (as `--wait spin` does). The timing parent memsets its message into the buffer
// and raises the flag to kPing; the child memcpys it out, memsets its reply into the same buffer
// and sets kPong; the parent memcpys the reply out. Nothing is checked: this is the bar ipcmark's
// zero-copy mode (fill in place, check in place) must reach and its copy mode come near.
// Placement and counters as raw_pingpong.cpp: the child on the first CPU, the parent on the
// second ("same": both on the first; with busy polling a round trip then waits out a time slice).
#include <benchmark/benchmark.h>

#include "raw_pingpong_support.hpp"
#include "raw_shm_support.hpp"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace raw_bench;

constexpr std::uint64_t kPing = 1, kPong = 2;
constexpr std::size_t kBufferOffset = 128;  // the flag's line pair stays apart from the buffer's

class ShmEcho : public SharedChild {
 public:
  ShmEcho(int child_cpu, std::size_t size) : SharedChild(kBufferOffset + size), size_(size) {
    start_child(child_cpu, [this] { echo(); });
  }

  bool round_trip(std::vector<char>& message) {
    std::memset(buffer(), ++fill_, size_);
    flag().store(kPing, std::memory_order_release);
    if (!spin_until([this] { return flag().load(std::memory_order_acquire) == kPong; })) return false;
    std::memcpy(message.data(), buffer(), size_);
    return true;
  }

 private:
  std::atomic_ref<std::uint64_t> flag() { return shared_word(base_); }
  std::byte* buffer() { return base_ + kBufferOffset; }

  [[noreturn]] void echo() {
    std::vector<char> received(size_);
    for (unsigned char fill = 0x80;; ++fill) {
      while (flag().load(std::memory_order_acquire) != kPing) cpu_relax();
      std::memcpy(received.data(), buffer(), size_);
      benchmark::DoNotOptimize(received.data());  // the copy is part of the work: keep it
      benchmark::ClobberMemory();
      std::memset(buffer(), fill, size_);
      flag().store(kPong, std::memory_order_release);
    }
  }

  std::size_t size_;
  unsigned char fill_ = 0;
};

void BM_RawShmPingPong(benchmark::State& state, std::size_t size, Placement placement) {
  time_round_trips(state, size, placement,
                   [&](int cpu, std::vector<char>& message) { return std::make_unique<ShmEcho>(cpu, message.size()); });
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

}  // namespace

int main(int argc, char** argv) {
  if (!choose_cpus(argc, argv, "bench_raw_shm_pingpong")) return 2;
  register_sizes_and_placements("raw/shm/pingpong", BM_RawShmPingPong, benchmark::kMicrosecond);
  return run_registered(argc, argv, "pingpong_cpus");
}
