#include "harness/machine/floor.hpp"

#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/machine/affinity.hpp"
#include "harness/measure/clock.hpp"
#include "harness/machine/environment.hpp"
#include "harness/measure/stats.hpp"
#include "transports/transport.hpp"

namespace ipcmark {
namespace {


// Shared between the two forked sides. Ping and pong sit on their own cache lines, so
// the measured traffic is exactly one line each way.
struct alignas(64) Line {
  std::atomic<std::uint32_t> value{0};
};

// The cache-line round trip depends on the line: each line has a home on the chip (the slice of
// the last-level cache that tracks it, chosen by a hash of its physical address), and a round trip
// goes through it. On this project's VMs one line bounced 245-351 ns depending only on its address,
// the same on every repetition (a scratch program, 24 lines on different pages, three rounds), so a
// floor of one line was a draw from that spread: each run mapped new memory, and its floor moved
// over 225-352 ns while the ring's round trips (which walk through many lines) did not. The floor is
// the median over kFloorLines pairs at different pages and offsets, with the fastest and slowest
// line beside it.
constexpr int kFloorLines = 16;
struct alignas(4096) LinePage {
  Line line[64];
};
struct LinePair {
  std::atomic<std::uint32_t>& ping;
  std::atomic<std::uint32_t>& pong;
};
// After the last round trip on a pair: the partner moves on to the next one.
constexpr std::uint32_t kNextPair = UINT32_MAX;

struct Shared {
  Line ping, pong;
  alignas(64) std::atomic<bool> stop{false};
  // written by the measuring side before it exits
  double result = 0, second_result = 0, lowest = 0, highest = 0;
  LinePage pages[2 * kFloorLines];  // pair i: a line of page 2i and one of page 2i + 1

  LinePair pair(int i) {
    return {pages[2 * i].line[(5 * i) % 32].value, pages[2 * i + 1].line[32 + (3 * i) % 32].value};
  }
};
struct Measured {
  double result, second_result, lowest, highest;
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value) {
  // Not FUTEX_PRIVATE_FLAG: the word is shared between processes.
  return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, nullptr, nullptr, 0);
}

void wait_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t old, const std::atomic<bool>& stop) {
  while (word.load(std::memory_order_acquire) == old && !stop.load(std::memory_order_relaxed))
    futex(word, FUTEX_WAIT, old);
}

// Blocks until `pid` exits or a millisecond passes. A pidfd wakes us the moment the child exits:
// the floor taken around every repetition lasts about a millisecond, and sleeping a whole
// millisecond per poll would double it.
void wait_for_exit(pid_t pid) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return;
  }
  pollfd exited{fd, POLLIN, 0};
  ::poll(&exited, 1, 1);
  ::close(fd);
}

// Runs `measure` and `partner` in two forked children pinned as `cpus` says (the caller
// keeps its affinity) and returns what `measure` stored in Shared's results. Children that
// overrun the deadline are killed; both are always reaped.
Measured in_two_processes(CpuPair cpus, const std::function<void(Shared&)>& measure,
                          const std::function<void(Shared&)>& partner, std::uint64_t guard_ns) {
  void* memory = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw_system_error("floor: cannot map shared memory");
  Shared* shared = new (memory) Shared;
  std::fflush(nullptr);  // no buffered output may be written twice by the children

  const auto start = [&](int cpu, const std::function<void(Shared&)>& body) {
    const pid_t pid = ::fork();
    if (pid < 0) throw_system_error("floor: fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      try {
        if (cpu >= 0) pin_to_cpu(cpu);
        body(*shared);
      } catch (...) {
        shared->stop.store(true);
        ::_exit(1);
      }
      ::_exit(0);
    }
    return pid;
  };
  pid_t pids[2] = {start(cpus.server, measure), -1};
  try {
    pids[1] = start(cpus.client, partner);
  } catch (...) {
    shared->stop.store(true);
  }

  bool ok = pids[1] > 0;
  // A guard against a hang, not the budget: the loops stop themselves at their budget, and a
  // slowed-down build (sanitizers) may take many times longer to fork and start them.
  const std::uint64_t deadline = now_ns() + guard_ns;
  for (pid_t& pid : pids) {
    while (pid > 0) {
      int status = 0;
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        pid = -1;
      } else if (r < 0 && errno != EINTR) {
        pid = -1;
      } else if (now_ns() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ok = false;
        pid = -1;
      } else {
        wait_for_exit(pid);
      }
    }
    shared->stop.store(true);  // one side is done: release the other if it still waits
    for (Line* line : {&shared->ping, &shared->pong}) futex(line->value, FUTEX_WAKE, INT32_MAX);
  }
  const Measured result{shared->result, shared->second_result, shared->lowest, shared->highest};
  ::munmap(memory, sizeof(Shared));
  if (!ok) throw Error(Errc::System, "floor: a measuring process failed or overran its time budget");
  return result;
}

}  // namespace

std::optional<CachelineRtt> measure_cacheline_rtt(CpuPair cpus, const FloorEffort& effort) {
  if (cpus.server >= 0 && cpus.server == cpus.client) return std::nullopt;
  // Per line: warm-up, batches, then round trips timed one by one; with kFullFloor 16 lines take
  // about as long as one line's 200 batches and 20,000 timed round trips did.
  const std::uint32_t kWarmup = effort.cacheline_warmup, kBatch = effort.cacheline_batch,
                      kBatches = effort.cacheline_batches, kTimed = effort.cacheline_timed;
  const std::uint64_t kBudgetNs = effort.budget_ns, abandon_ns = effort.guard_ns / 2;
  const auto measure = [=](Shared& s) {
    std::vector<double> per_line, timed;
    timed.reserve(kFloorLines * kTimed);
    const std::uint64_t begin = now_ns();
    std::uint32_t i = 0;
    for (int line = 0; line < kFloorLines; ++line) {
      const LinePair pair = s.pair(line);
      const auto round_trip = [&] {
        ++i;
        pair.ping.store(i, std::memory_order_release);
        for (std::uint32_t spins = 1; pair.pong.load(std::memory_order_acquire) != i; ++spins) {
          if (s.stop.load(std::memory_order_relaxed)) throw Error(Errc::PeerGone, "partner stopped");
          // A partner descheduled for whole time slices (a loaded machine) would make every round
          // trip wait for one: give the measurement up at half the guard rather than pay for it.
          if (spins % 1024 == 0 && now_ns() - begin > abandon_ns)
            throw Error(Errc::Timeout, "the partner did not answer within the budget");
        }
      };
      // Each line's share of the budget: on a loaded machine (or under sanitizers) a round trip can
      // wait for a descheduled partner, and the counts then outlast the guard. At least one batch.
      const std::uint64_t line_begin = now_ns();
      const std::uint64_t share = kBudgetNs / kFloorLines;
      std::vector<double> batches;
      for (std::uint32_t w = 0; w < kWarmup && now_ns() - line_begin < share / 4; ++w) round_trip();
      for (std::uint32_t b = 0; b < kBatches && (b == 0 || now_ns() - line_begin < share); ++b) {
        const std::uint64_t t0 = now_ns();
        for (std::uint32_t k = 0; k < kBatch; ++k) round_trip();
        batches.push_back(double(now_ns() - t0) / kBatch);
      }
      // Then as pingpong rows time a round trip: a clock read before the ping, one after the pong.
      for (std::uint32_t k = 0; k < kTimed; ++k) {
        const std::uint64_t t0 = now_ns();
        if (k != 0 && t0 - line_begin > share * 5 / 4) break;
        round_trip();
        timed.push_back(double(now_ns() - t0));
      }
      per_line.push_back(median(batches));
      pair.ping.store(kNextPair, std::memory_order_release);
      if (now_ns() - begin > 2 * kBudgetNs) break;  // far behind: what is measured is enough
    }
    s.result = median(per_line);
    s.second_result = timed.empty() ? 0 : median(timed);
    const auto [low, high] = std::minmax_element(per_line.begin(), per_line.end());
    s.lowest = *low;
    s.highest = *high;
    s.stop.store(true);
  };
  const auto partner = [](Shared& s) {
    for (int line = 0; line < kFloorLines; ++line) {
      const LinePair pair = s.pair(line);
      std::uint32_t seen = 0;
      for (;;) {
        if (s.stop.load(std::memory_order_relaxed)) return;
        const std::uint32_t v = pair.ping.load(std::memory_order_acquire);
        if (v == kNextPair) break;
        if (v != seen) {
          seen = v;
          pair.pong.store(v, std::memory_order_release);
        }
      }
    }
  };
  const Measured m = in_two_processes(cpus, measure, partner, effort.guard_ns);
  return CachelineRtt{m.result, m.second_result, m.lowest, m.highest};
}

double measure_futex_rtt_ns(CpuPair cpus, const FloorEffort& effort) {
  const std::uint32_t kWarmup = effort.futex_warmup, kRoundTrips = effort.futex_round_trips;
  const std::uint64_t kBudgetNs = effort.budget_ns, abandon_ns = effort.guard_ns / 2;
  const auto measure = [=](Shared& s) {
    std::vector<double> samples;
    samples.reserve(kRoundTrips);
    // The budget starts once the partner has answered: its fork and first scheduling on a loaded
    // machine can outlast a short budget and would leave no round trip measured.
    std::uint64_t begin = now_ns();
    // At least kLeast measured round trips whatever the budget (a partner descheduled during the
    // warm-up would leave none): the guard still bounds the whole.
    constexpr std::size_t kLeast = 10;
    for (std::uint32_t i = 1;
         i <= kWarmup + kRoundTrips && now_ns() - begin < abandon_ns &&
         (now_ns() - begin < kBudgetNs || samples.size() < std::min<std::size_t>(kLeast, kRoundTrips));
         ++i) {
      const std::uint64_t t0 = now_ns();
      s.ping.value.store(i, std::memory_order_release);
      futex(s.ping.value, FUTEX_WAKE, 1);
      wait_while_equal(s.pong.value, i - 1, s.stop);
      if (s.pong.value.load(std::memory_order_acquire) != i) throw Error(Errc::PeerGone, "partner stopped");
      if (i == 1) begin = now_ns();
      if (i > kWarmup) samples.push_back(double(now_ns() - t0));
    }
    if (samples.empty()) throw Error(Errc::Timeout, "no futex round trip within the budget");
    s.result = median(samples);
    s.stop.store(true);
    futex(s.ping.value, FUTEX_WAKE, 1);
  };
  const auto partner = [](Shared& s) {
    for (std::uint32_t i = 1; !s.stop.load(std::memory_order_relaxed); ++i) {
      wait_while_equal(s.ping.value, i - 1, s.stop);
      if (s.stop.load(std::memory_order_relaxed)) break;
      s.pong.value.store(i, std::memory_order_release);
      futex(s.pong.value, FUTEX_WAKE, 1);
    }
  };
  return in_two_processes(cpus, measure, partner, effort.guard_ns).result;
}

double measure_memcpy_bytes_per_second(std::size_t bytes, int cpu) {
  const auto measure = [bytes](Shared& s) {
    std::vector<char> source(bytes, 1), target(bytes, 0);  // written once: no page faults timed
    // Enough copies per trial to outlast timer noise; the best trial is the ceiling.
    const std::size_t copies = std::max<std::size_t>(1, (64u << 20) / bytes);
    double best = 0;
    const std::uint64_t begin = now_ns();
    for (int trial = 0; trial < 7 && now_ns() - begin < kFullFloor.budget_ns; ++trial) {
      const std::uint64_t t0 = now_ns();
      for (std::size_t c = 0; c < copies; ++c) {
        source[c % bytes] = static_cast<char>(c);  // a new source each time: nothing to skip
        std::memcpy(target.data(), source.data(), bytes);
      }
      const std::uint64_t elapsed = std::max<std::uint64_t>(1, now_ns() - t0);
      best = std::max(best, double(bytes) * double(copies) * 1e9 / double(elapsed));
    }
    volatile char sink = target[bytes / 2];  // the copies are observable
    (void)sink;
    s.result = best;
  };
  return in_two_processes({cpu, cpu}, measure, [](Shared&) {}, kFullFloor.guard_ns).result;
}

double measure_timer_cost_ns() {
  constexpr int kCalls = 200'000;
  std::uint64_t sink = 0;
  const std::uint64_t t0 = now_ns();
  for (int i = 0; i < kCalls; ++i) sink += now_ns();
  const std::uint64_t elapsed = now_ns() - t0;
  volatile std::uint64_t keep = sink;
  (void)keep;
  return double(elapsed) / kCalls;
}

std::size_t l2_cache_bytes(int cpu) {
  for (int index = 0; index < 8; ++index) {
    const std::string dir =
        "/sys/devices/system/cpu/cpu" + std::to_string(std::max(cpu, 0)) + "/cache/index" + std::to_string(index) + "/";
    std::ifstream level(dir + "level"), size(dir + "size");
    int l = 0;
    std::string text;
    if (!(level >> l) || !(size >> text)) break;
    if (l == 2) return parse_cache_size(text);
  }
  return 0;
}

Floor measure_floor(CpuPair cpus) {
  Floor f;
  if (const std::optional<CachelineRtt> rtt = measure_cacheline_rtt(cpus)) {
    f.cacheline_rtt_ns = rtt->batched_ns;
    f.cacheline_rtt_timed_ns = rtt->timed_ns;
    f.cacheline_rtt_fastest_line_ns = rtt->fastest_line_ns;
    f.cacheline_rtt_slowest_line_ns = rtt->slowest_line_ns;
  }
  f.futex_rtt_ns = measure_futex_rtt_ns(cpus);
  // Source and target together take half of L2 (the rest is the program and the kernel's);
  // DRAM: far beyond any last-level cache of today's machines.
  const std::size_t l2 = l2_cache_bytes(cpus.server);
  f.l2_buffer_bytes = std::max<std::size_t>(16u << 10, (l2 ? l2 : 256u << 10) / 4);
  f.dram_buffer_bytes = 64u << 20;
  f.memcpy_l2_bytes_per_second = measure_memcpy_bytes_per_second(f.l2_buffer_bytes, cpus.server);
  f.memcpy_dram_bytes_per_second = measure_memcpy_bytes_per_second(f.dram_buffer_bytes, cpus.server);
  return f;
}

nlohmann::json to_json(const Floor& f) {
  const auto or_null = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"cacheline_rtt_ns", or_null(f.cacheline_rtt_ns)},
          {"cacheline_rtt_timed_ns", or_null(f.cacheline_rtt_timed_ns)},
          {"cacheline_rtt_fastest_line_ns", or_null(f.cacheline_rtt_fastest_line_ns)},
          {"cacheline_rtt_slowest_line_ns", or_null(f.cacheline_rtt_slowest_line_ns)},
          {"futex_rtt_ns", f.futex_rtt_ns},
          {"memcpy_l2_bytes_per_second", f.memcpy_l2_bytes_per_second},
          {"memcpy_dram_bytes_per_second", f.memcpy_dram_bytes_per_second},
          {"memcpy_l2_buffer_bytes", f.l2_buffer_bytes},
          {"memcpy_dram_buffer_bytes", f.dram_buffer_bytes}};
}

}  // namespace ipcmark
