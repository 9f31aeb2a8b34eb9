// tests/bench/raw_shm_stream.cpp — the floor of ipcmark's shm stream (issue 19).
//
// The classic minimal shared-memory stream, no ipcmark code: one SysV segment holding a ring of
// fixed slots of the message size (rounded up to a cache line) and two indices on their own line
// pairs, tail (written by the writer) and head (by the reader). The timing parent memcpys each
// message into the next free slot and publishes it by storing tail; the fork()ed child memcpys it
// out and stores head. Each side re-reads the other's index only when its cached copy says full
// (or empty), as any careful SPSC ring does. Nothing is checked. The ring holds as many bytes as
// ipcmark's default shm ring for the same size (transports/shm/spsc_ring.cpp's default_capacity),
// so the two are compared at the same depth.
// One benchmark iteration is one message. Google Benchmark's time stops as the last message is
// written; the counters msgs_per_s and bytes_per_s also wait until the child has read it.
// Placement as raw_pingpong.cpp: the reader child on the first CPU, the writer parent on the second.
#include <benchmark/benchmark.h>

#include "raw_pingpong_support.hpp"
#include "raw_shm_support.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace raw_bench;

constexpr std::size_t kTailOffset = 0, kHeadOffset = 128, kSlotsOffset = 256;

// Mirrors ipcmark's default_capacity(): max(1 MiB, 4 × size, min(4 MiB, 64 × size)), a power of two.
std::uint64_t ring_bytes(std::size_t size) {
  const std::uint64_t wanted = std::max({std::uint64_t{1} << 20, std::uint64_t{4} * size,
                                         std::min<std::uint64_t>(std::uint64_t{4} << 20, std::uint64_t{64} * size)});
  return std::bit_ceil(wanted);
}

class ShmStream : public SharedChild {
 public:
  ShmStream(int child_cpu, std::size_t size)
      : SharedChild(kSlotsOffset + ring_bytes(size)),
        size_(size),
        slot_bytes_((size + 63) & ~std::size_t{63}),
        slots_(ring_bytes(size) / slot_bytes_) {
    start_child(child_cpu, [this] { read_all(); });
  }

  bool send(const std::vector<char>& message) {
    if (tail_ - head_cache_ == slots_ &&
        !spin_until([this] { return tail_ - (head_cache_ = head().load(std::memory_order_acquire)) < slots_; }))
      return false;
    std::memcpy(slot(tail_), message.data(), size_);
    tail().store(++tail_, std::memory_order_release);
    return true;
  }
  // Waits until the child has read every message sent.
  bool drain() {
    return spin_until([this] { return head().load(std::memory_order_acquire) == tail_; });
  }

 private:
  std::atomic_ref<std::uint64_t> tail() { return shared_word(base_ + kTailOffset); }
  std::atomic_ref<std::uint64_t> head() { return shared_word(base_ + kHeadOffset); }
  std::byte* slot(std::uint64_t index) { return base_ + kSlotsOffset + (index % slots_) * slot_bytes_; }

  [[noreturn]] void read_all() {
    std::vector<char> received(size_);
    for (std::uint64_t head_index = 0, tail_cache = 0;; ++head_index) {
      while (head_index == tail_cache) {
        tail_cache = tail().load(std::memory_order_acquire);
        if (head_index == tail_cache) cpu_relax();
      }
      std::memcpy(received.data(), slot(head_index), size_);
      benchmark::DoNotOptimize(received.data());  // the copy is part of the work: keep it
      benchmark::ClobberMemory();
      head().store(head_index + 1, std::memory_order_release);
    }
  }

  std::size_t size_, slot_bytes_;
  std::uint64_t slots_;
  std::uint64_t tail_ = 0, head_cache_ = 0;
};

void BM_RawShmStream(benchmark::State& state, std::size_t size, Placement placement) {
  const int parent_cpu = placement == Placement::Cross ? g_second_cpu : g_first_cpu;
  cpu_set_t original;
  sched_getaffinity(0, sizeof original, &original);
  std::vector<char> message(size, 'x');
  if (parent_cpu < 0) {
    state.SkipWithError("needs two allowed CPUs (see --cpus=A,B)");
  } else if (!pin(parent_cpu)) {
    state.SkipWithError(("cannot pin to CPU " + std::to_string(parent_cpu)).c_str());
  } else {
    ShmStream stream(g_first_cpu, size);
    bool ok = stream.error() == nullptr;
    // Untimed warm-up: a lap of the ring faults every page in on both sides.
    for (std::uint64_t i = 0; ok && i < ring_bytes(size) / size; ++i) ok = stream.send(message);
    ok = ok && stream.drain();
    if (!ok) state.SkipWithError(stream.error() ? stream.error() : "the reader child failed");
    const std::uint64_t start = now_ns();
    for (auto _ : state) {
      if (!ok || !stream.send(message)) {
        if (ok) state.SkipWithError("the reader child failed");
        ok = false;
        break;
      }
    }
    if (ok && stream.drain()) {
      const double seconds = static_cast<double>(now_ns() - start) * 1e-9;
      state.counters["msgs_per_s"] = static_cast<double>(state.iterations()) / seconds;
      state.counters["bytes_per_s"] = static_cast<double>(state.iterations()) * static_cast<double>(size) / seconds;
    }
  }
  sched_setaffinity(0, sizeof original, &original);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

}  // namespace

int main(int argc, char** argv) {
  if (!choose_cpus(argc, argv, "bench_raw_shm_stream")) return 2;
  register_sizes_and_placements("raw/shm/stream", BM_RawShmStream, benchmark::kNanosecond);
  return run_registered(argc, argv, "stream_cpus");
}
