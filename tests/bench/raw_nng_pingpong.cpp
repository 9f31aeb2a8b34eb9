// tests/bench/raw_nng_pingpong.cpp — the floor ipcmark's `nng` rows are judged against (issue 18).
//
// Two-process ping-pong written directly against nng, with no ipcmark code: pair1 sockets over
// ipc://, the synchronous nng_send()/nng_recv() with the caller's buffer (nng copies in and out,
// as ipcmark's transport does). One benchmark iteration is one round trip. The echo side
// (ipcmark's server) listens; the timing side (the client) dials.
//
// nng cannot be used in a fork()ed child once the parent has used it (its atfork handler makes
// the child's first nng call abort), and every benchmark case needs a fresh echo child, so the
// child is this program exec'ed again with --nng-echo. Placement mirrors `ipcmark run --cpus A,B`
// as raw_pingpong.cpp does: the echo child on the first CPU, the timing parent on the second;
// "same" puts both on the first. nng runs its I/O in its own threads, so a whole process is
// pinned, every thread of it, as an `ipcmark peer` is (it pins itself before nng starts any).
// The CPUs are the first two that sched_getaffinity allows, or `--cpus=A,B`.
//
// Besides Google Benchmark's mean (real_time), each round trip is timed on its own: counters
// p50_ns and p99_ns, to set next to ipcmark's latency_ns.p50 / p99.
#include <benchmark/benchmark.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "raw_pingpong_support.hpp"

namespace {

using namespace raw_bench;

constexpr nng_duration kStuckMs = 10000;  // a round trip this slow means the echo child failed

// The exec'ed echo child: pins itself before nng starts a thread, listens, echoes until killed.
int run_echo_child(const char* url, int cpu, std::size_t size) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (!pin_process(cpu)) return 3;
  nng_socket socket;
  if (nng_pair1_open(&socket) != 0 || nng_socket_set_size(socket, NNG_OPT_RECVMAXSZ, size + 64) != 0 ||
      nng_listen(socket, url, nullptr, 0) != 0)
    return 4;
  std::vector<char> buffer(size);
  for (;;) {
    std::size_t got = buffer.size();
    if (nng_recv(socket, buffer.data(), &got, 0) != 0 || nng_send(socket, buffer.data(), got, 0) != 0) return 5;
  }
}

// The parent's side of one echo child: the child process and the socket dialing it.
class EchoPair {
 public:
  EchoPair(int child_cpu, std::size_t size) {
    static int next = 0;
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    path_ = std::string(xdg != nullptr && xdg[0] == '/' ? xdg : "/tmp") + "/raw-nng-" + std::to_string(getpid()) +
            "-" + std::to_string(next++);
    const std::string url = "ipc://" + path_;
    const std::string cpu = std::to_string(child_cpu), bytes = std::to_string(size);
    pid_ = fork();
    if (pid_ == 0) {
      const char* argv[] = {"/proc/self/exe", "--nng-echo", url.c_str(), cpu.c_str(), bytes.c_str(), nullptr};
      execv(argv[0], const_cast<char**>(argv));
      _exit(127);
    }
    if (pid_ < 0) {
      error_ = std::string("fork: ") + std::strerror(errno);
      return;
    }
    int rv = nng_pair1_open(&socket_);
    if (rv == 0) open_ = true;
    if (rv == 0) rv = nng_socket_set_size(socket_, NNG_OPT_RECVMAXSZ, size + 64);
    if (rv == 0) rv = nng_socket_set_ms(socket_, NNG_OPT_RECVTIMEO, kStuckMs);
    if (rv == 0) rv = nng_socket_set_ms(socket_, NNG_OPT_SENDTIMEO, kStuckMs);
    // Non-blocking: nng redials until the child listens; the first send waits for it.
    if (rv == 0) rv = nng_dial(socket_, url.c_str(), nullptr, NNG_FLAG_NONBLOCK);
    if (rv != 0) error_ = std::string("nng: ") + nng_strerror(rv);
  }
  EchoPair(const EchoPair&) = delete;
  EchoPair& operator=(const EchoPair&) = delete;

  ~EchoPair() {
    if (open_) nng_close(socket_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    unlink(path_.c_str());  // the killed child's listener could not remove it
  }

  const char* error() const { return error_.empty() ? nullptr : error_.c_str(); }

  bool round_trip(std::vector<char>& message) {
    std::size_t got = message.size();
    return nng_send(socket_, message.data(), message.size(), 0) == 0 &&
           nng_recv(socket_, message.data(), &got, 0) == 0 && got == message.size();
  }

 private:
  std::string path_;
  pid_t pid_ = -1;
  nng_socket socket_ = NNG_SOCKET_INITIALIZER;
  bool open_ = false;
  std::string error_;
};

void BM_RawNngPingPong(benchmark::State& state, std::size_t size, Placement placement) {
  time_round_trips(
      state, size, placement, [](int cpu, std::vector<char>& message) { return std::make_unique<EchoPair>(cpu, message.size()); },
      Pinning::WholeProcess);  // nng's threads, started in the first case, follow each case's placement
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--nng-echo") == 0)
    return run_echo_child(argv[2], std::atoi(argv[3]), std::strtoul(argv[4], nullptr, 10));
  if (!choose_cpus(argc, argv, "bench_raw_nng_pingpong")) return 2;
  // Names follow ipcmark's rows: raw/nng/pingpong/<bytes>/<placement>.
  register_sizes_and_placements("raw/nng/pingpong", BM_RawNngPingPong, benchmark::kMicrosecond);
  return run_registered(argc, argv, "pingpong_cpus");
}
