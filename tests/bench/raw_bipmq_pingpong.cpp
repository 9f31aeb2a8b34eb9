// tests/bench/raw_bipmq_pingpong.cpp — the floor ipcmark's bip-mq rows are judged against (issue 18).
//
// Two-process ping-pong written directly against boost::interprocess::message_queue, with no
// ipcmark code: two queues (one per direction, 64 messages deep of the message size, as bip-mq
// makes them), a fork()ed echo child, the plain blocking send()/receive() of Boost. One benchmark
// iteration is one round trip. The queues are created under a name unique to this process and
// unlinked at once: the child inherits the mappings across fork(), nothing is left in /dev/shm.
// Placement, warm-up and the p50_ns/p99_ns counters are those of raw_pingpong.cpp: the echo child
// (ipcmark's server) on the first CPU, the timing parent (the client) on the second, "same" puts
// both on the first; `--cpus=A,B` picks them.
#include <benchmark/benchmark.h>

#include "raw_pingpong_support.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace raw_bench;

namespace bi = boost::interprocess;

constexpr std::size_t kDepth = 64;


// The parent's side of one echo child: two queues and the child, torn down on every way out.
class EchoPair {
 public:
  EchoPair(int child_cpu, std::vector<char>& buffer) {
    const std::string base = "raw-bipmq-" + std::to_string(getpid()) + "-" + std::to_string(++pairs_);
    try {
      to_child_ = make_queue(base + "-to-child", buffer.size());
      to_parent_ = make_queue(base + "-to-parent", buffer.size());
    } catch (const bi::interprocess_exception& e) {
      error_ = std::string("message_queue: ") + e.what();
      return;
    }
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) echo_child(parent, child_cpu, buffer);
    if (pid_ < 0) error_ = std::string("fork: ") + std::strerror(errno);
  }
  EchoPair(const EchoPair&) = delete;
  EchoPair& operator=(const EchoPair&) = delete;

  ~EchoPair() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);  // blocked in receive(): no end-of-stream to tell it otherwise
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }

  const char* error() const { return error_.empty() ? nullptr : error_.c_str(); }

  bool round_trip(std::vector<char>& message) {
    bi::message_queue::size_type got = 0;
    unsigned priority = 0;
    to_child_->send(message.data(), message.size(), 0);
    to_parent_->receive(message.data(), message.size(), got, priority);
    return got == message.size();
  }

 private:
  static std::unique_ptr<bi::message_queue> make_queue(const std::string& name, std::size_t size) {
    auto queue = std::make_unique<bi::message_queue>(bi::create_only, name.c_str(), kDepth, size,
                                                     bi::permissions(0600));
    bi::message_queue::remove(name.c_str());  // the mapping stays; the child inherits it
    return queue;
  }

  [[noreturn]] void echo_child(pid_t parent, int cpu, std::vector<char>& buffer) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent || !pin(cpu)) _exit(1);
    bi::message_queue::size_type got = 0;
    unsigned priority = 0;
    for (;;) {
      to_child_->receive(buffer.data(), buffer.size(), got, priority);
      to_parent_->send(buffer.data(), got, 0);
    }
  }

  static inline int pairs_ = 0;
  std::unique_ptr<bi::message_queue> to_child_, to_parent_;
  pid_t pid_ = -1;
  std::string error_;
};

void BM_RawBipMqPingPong(benchmark::State& state, std::size_t size, Placement placement) {
  time_round_trips(state, size, placement, [&](int cpu, std::vector<char>& message) { return std::make_unique<EchoPair>(cpu, message); });
}

}  // namespace

int main(int argc, char** argv) {
  if (!choose_cpus(argc, argv, "bench_raw_bipmq_pingpong")) return 2;
  // Names follow ipcmark's rows: raw/bip-mq/pingpong/<bytes>/<placement>.
  register_sizes_and_placements("raw/bip-mq/pingpong", BM_RawBipMqPingPong, benchmark::kMicrosecond);
  return run_registered(argc, argv, "pingpong_cpus");
}
