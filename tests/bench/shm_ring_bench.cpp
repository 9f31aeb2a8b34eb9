// tests/bench/shm_ring_bench.cpp — what the shm ring itself costs, in one process (issue 5).
//
//   ring/push_pop/<bytes>/<spin|block>   one thread sends a record and reads it back: the ring's
//       own instructions and copies, with no other core involved. `block` means each side may
//       have a sleeping peer, so every publish pays the seq_cst fence of wake_if_sleeping().
//   ring/two_threads/<bytes>             a producer thread and a consumer thread on two CPUs,
//       SpinWait on both sides: the rate at which records cross between cores (items/s, bytes/s).
//   ring/pingpong/<bytes>                two threads on two CPUs echo a record through a pair of
//       rings, SpinWait, each side pushing its last record out before it waits as the shm
//       Connection does: the ring's own round trip, without the harness's clock and checks.
//   cacheline/pingpong/<lines>           the same two CPUs bounce a cache line: /1 always the same
//       pair (one line's round trip, which depends on the line's address: the run's floor is the
//       median over 16 lines, harness/machine/floor.cpp), /8192 a different pair each time, walking
//       through memory as a ring does. So ring/pingpong can be read as a ratio from one run.
// The rings are sized by default_capacity() exactly as the shm transport sizes them. Figures only;
// nothing here is asserted.
#include <benchmark/benchmark.h>

#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "transports/shm/spsc_ring.hpp"

namespace ipcmark::shm {
namespace {

using namespace std::chrono_literals;

const std::string kName = "bench-ring";

constexpr std::size_t kPage = 4096;

// One initialised ring in page-aligned heap memory, as a mapping would be.
class RingMemory {
 public:
  // `skew` (a multiple of 128) moves the ring within its pages: see BM_RingPingpong. The size
  // is rounded up to whole pages, as aligned_alloc requires a multiple of the alignment.
  explicit RingMemory(std::size_t max_message, std::size_t skew = 0)
      : capacity_(default_capacity(max_message)),
        skew_(skew),
        bytes_(static_cast<std::byte*>(
            std::aligned_alloc(kPage, (ring_bytes(capacity_) + skew + kPage - 1) / kPage * kPage))) {
    if (!bytes_) throw std::bad_alloc();
    initialise_ring(span(), RingParams{capacity_, static_cast<std::uint32_t>(max_message)});
  }
  std::span<std::byte> span() const { return {bytes_.get() + skew_, ring_bytes(capacity_)}; }

 private:
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  std::uint64_t capacity_;
  std::size_t skew_;
  std::unique_ptr<std::byte, Free> bytes_;
};

void set_processed(benchmark::State& state, std::size_t size) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}

// The first two CPUs this process may run on, or {-1, -1}.
std::pair<int, int> two_cpus() {
  cpu_set_t allowed;
  std::pair<int, int> cpus{-1, -1};
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.second < 0; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) (cpus.first < 0 ? cpus.first : cpus.second) = cpu;
  return cpus;
}

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

void BM_RingPushPop(benchmark::State& state, std::size_t size, bool peer_may_sleep) {
  RingMemory memory(size);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  writer.set_peer_may_sleep(peer_may_sleep);
  reader.set_peer_may_sleep(peer_may_sleep);
  const std::vector<std::byte> message(size, std::byte{0x5a});
  std::vector<std::byte> out(size);
  const Deadline deadline = Clock::now() + 60s;  // never reached: the ring is never full or empty here
  try {
    for (auto _ : state) {
      writer.send<SpinWait>(message, deadline);
      benchmark::DoNotOptimize(reader.receive<SpinWait>(out, deadline));
      benchmark::ClobberMemory();
    }
  } catch (const Error& e) {
    state.SkipWithError(e.what());
  }
  set_processed(state, size);
}

// The benchmark thread consumes, so the timed loop ends when the last record has arrived; the
// producer starts on `go`, set just before the loop, so the ring is not pre-filled off the clock.
void BM_RingTwoThreads(benchmark::State& state, std::size_t size) {
  const auto [producer_cpu, consumer_cpu] = two_cpus();
  if (consumer_cpu < 0) {
    state.SkipWithError("needs two allowed CPUs");
    return;
  }
  RingMemory memory(size);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  writer.set_peer_may_sleep(false);
  reader.set_peer_may_sleep(false);
  const Deadline deadline = Clock::now() + 60s;
  std::atomic<bool> go{false};
  std::uint32_t consumer_closed = 0;  // the producer gives up (PeerGone) if the consumer fails
  std::string producer_error;
  const auto messages = state.max_iterations;

  cpu_set_t original;
  sched_getaffinity(0, sizeof original, &original);
  pin(consumer_cpu);
  std::thread producer([&, producer_cpu = producer_cpu] {
    pin(producer_cpu);
    const std::vector<std::byte> message(size, std::byte{0x5a});
    while (!go.load(std::memory_order_acquire)) cpu_relax();
    try {
      for (benchmark::IterationCount i = 0; i < messages; ++i)
        writer.send<SpinWait>(message, deadline, Peer{0, &consumer_closed});
    } catch (const Error& e) {
      producer_error = e.what();
    }
  });
  std::vector<std::byte> out(size);
  go.store(true, std::memory_order_release);
  try {
    for (auto _ : state) benchmark::DoNotOptimize(reader.receive<SpinWait>(out, deadline));
  } catch (const Error& e) {
    std::atomic_ref(consumer_closed).store(1, std::memory_order_release);
    state.SkipWithError(e.what());
  }
  producer.join();
  sched_setaffinity(0, sizeof original, &original);
  if (!producer_error.empty() && !state.error_occurred()) state.SkipWithError(producer_error.c_str());
  set_processed(state, size);
}

// Runs `partner` on the second allowed CPU while the benchmark thread, on the first, runs `body`;
// `stop` is set when the body is done, so the partner can return.
template <class Body, class Partner>
void on_two_cpus(benchmark::State& state, Body&& body, Partner&& partner, std::atomic<bool>& stop) {
  const auto [own_cpu, partner_cpu] = two_cpus();
  if (partner_cpu < 0) {
    state.SkipWithError("needs two allowed CPUs");
    return;
  }
  cpu_set_t original;
  sched_getaffinity(0, sizeof original, &original);
  pin(own_cpu);
  std::thread other([&, partner_cpu = partner_cpu] {
    pin(partner_cpu);
    partner();
  });
  body();
  stop.store(true, std::memory_order_release);
  other.join();
  sched_setaffinity(0, sizeof original, &original);
}

void BM_RingPingpong(benchmark::State& state, std::size_t size) {
  // The second ring 384 bytes further into its page, as in a channel's region. With both at the
  // same page offset each side's stores into one ring and its polls of the other share their
  // low 12 address bits at every message (4K aliasing): three alternating pairs of runs gave
  // 457-474 ns at the same offset against 339-345 ns. Later runs at 384 also gave 450-470 ns,
  // so the VM has slow spells of its own: compare within one run.
  RingMemory there(size), back(size, kHeaderBytes);
  RingWriter out(there.span(), kName), echo_out(back.span(), kName);
  RingReader in(back.span(), kName), echo_in(there.span(), kName);
  for (auto* w : {&out, &echo_out}) w->set_peer_may_sleep(false);
  for (auto* r : {&in, &echo_in}) r->set_peer_may_sleep(false);
  const Deadline deadline = Clock::now() + 60s;
  std::atomic<bool> stop{false};
  std::uint32_t closed = 0;  // "the other side has gone", for the partner's waits
  std::string partner_error;
  on_two_cpus(
      state,
      [&] {
        const std::vector<std::byte> message(size, std::byte{0x5a});
        std::vector<std::byte> reply(size);
        try {
          for (auto _ : state) {
            out.send<SpinWait>(message, deadline);
            if (!in.ready()) out.demote_last_record();
            benchmark::DoNotOptimize(in.receive<SpinWait>(reply, deadline));
          }
        } catch (const Error& e) {
          state.SkipWithError(e.what());
        }
        std::atomic_ref(closed).store(1, std::memory_order_release);
      },
      [&] {
        std::vector<std::byte> message(size);
        try {
          for (;;) {
            if (!echo_in.ready()) echo_out.demote_last_record();
            const std::size_t n = echo_in.receive<SpinWait>(message, deadline, Peer{0, &closed});
            echo_out.send<SpinWait>(std::span(message).first(n), deadline);
          }
        } catch (const Error& e) {
          if (e.code() != Errc::PeerGone) partner_error = e.what();
        }
      },
      stop);
  if (!partner_error.empty() && !state.error_occurred()) state.SkipWithError(partner_error.c_str());
  set_processed(state, size);
}

void BM_CachelinePingpong(benchmark::State& state, std::size_t lines) {
  // `lines` pairs of ping/pong lines, used in turn: 1 is the floor's single pair; many walk
  // through memory as a ring does.
  struct alignas(128) Pair {
    std::atomic<std::uint64_t> ping{0};
    alignas(64) std::atomic<std::uint64_t> pong{0};
  };
  std::vector<Pair> pairs(lines);
  std::atomic<bool> stop{false};
  on_two_cpus(
      state,
      [&] {
        std::uint64_t i = 0;
        for (auto _ : state) {
          Pair& p = pairs[i % lines];
          p.ping.store(++i, std::memory_order_release);
          while (p.pong.load(std::memory_order_acquire) != i) cpu_relax();
        }
      },
      [&] {
        std::uint64_t seen = 0;
        while (!stop.load(std::memory_order_acquire)) {
          Pair& p = pairs[seen % lines];
          const std::uint64_t v = p.ping.load(std::memory_order_acquire);
          if (v == seen + 1) p.pong.store(seen = v, std::memory_order_release);
          cpu_relax();
        }
      },
      stop);
}

const std::size_t kSizes[] = {8, 64, 4096, 65536};

int register_benchmarks() {
  for (const std::size_t size : kSizes) {
    for (const bool may_sleep : {false, true}) {
      const std::string name = "ring/push_pop/" + std::to_string(size) + (may_sleep ? "/block" : "/spin");
      benchmark::RegisterBenchmark(name.c_str(), BM_RingPushPop, size, may_sleep);
    }
  }
  for (const std::size_t size : kSizes) {
    const std::string name = "ring/two_threads/" + std::to_string(size);
    benchmark::RegisterBenchmark(name.c_str(), BM_RingTwoThreads, size)->UseRealTime();
  }
  for (const std::size_t size : {std::size_t{8}, std::size_t{64}}) {
    const std::string name = "ring/pingpong/" + std::to_string(size);
    benchmark::RegisterBenchmark(name.c_str(), BM_RingPingpong, size)->UseRealTime();
  }
  benchmark::RegisterBenchmark("cacheline/pingpong/1", BM_CachelinePingpong, 1)->UseRealTime();
  benchmark::RegisterBenchmark("cacheline/pingpong/8192", BM_CachelinePingpong, 8192)->UseRealTime();
  return 0;
}

const int registered = register_benchmarks();

}  // namespace
}  // namespace ipcmark::shm

BENCHMARK_MAIN();
