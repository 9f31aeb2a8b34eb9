// tests/bench/raw_pingpong.cpp — the floor ipcmark's pipe and unix rows are judged against (issue 3).
//
// Two-process ping-pong as a careful C programmer would write it, with no ipcmark code: a
// fork()ed echo child, blocking read()/write() of a fixed-size message, each side reading until
// the whole message has arrived. One benchmark iteration is one round trip.
//   pipe    two anonymous pipes, one per direction
//   fifo    two named FIFOs (mkfifo), one per direction: the mechanism of ipcmark's `pipe`
//           transport. A FIFO read or write also updates the file's atime/mtime, which an
//           anonymous pipe skips (about 0.1 us per round trip on one CPU here), so the fair
//           raw figure for `pipe` is this one; `pipe` stays for comparison. The FIFOs are made
//           where ipcmark makes its own ($XDG_RUNTIME_DIR, else /tmp) and unlinked once open.
//   unix    one AF_UNIX SOCK_STREAM socketpair
// Placement mirrors `ipcmark run --cpus A,B`: the echo child (ipcmark's server) on the first CPU,
// the timing parent (the client) on the second; "same" puts both on the first. The CPUs are the
// first two that sched_getaffinity allows, or `--cpus=A,B`.
//
// Besides Google Benchmark's mean (real_time), each round trip is timed on its own (one
// CLOCK_MONOTONIC read per round trip, as ipcmark's client does at least) so the median and p99
// can be set next to ipcmark's latency_ns.p50 / p99: counters p50_ns and p99_ns.
#include <benchmark/benchmark.h>

#include "raw_pingpong_support.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

namespace {

using namespace raw_bench;


enum class Mechanism { Pipe, Fifo, Unix };

// Blocking I/O of exactly `size` bytes; false on EOF or error.
bool read_full(int fd, char* buffer, std::size_t size) {
  for (std::size_t got = 0; got < size;) {
    const ssize_t n = read(fd, buffer + got, size - got);
    if (n > 0) got += static_cast<std::size_t>(n);
    else if (n == 0 || errno != EINTR) return false;
  }
  return true;
}

bool write_full(int fd, const char* buffer, std::size_t size) {
  for (std::size_t put = 0; put < size;) {
    const ssize_t n = write(fd, buffer + put, size - put);
    if (n > 0) put += static_cast<std::size_t>(n);
    else if (errno != EINTR) return false;
  }
  return true;
}

// The echo child: only async-signal-safe calls between fork() and _exit().
[[noreturn]] void echo_child(pid_t parent, int cpu, int in, int out, char* buffer, std::size_t size) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);  // the parent died before the line above took effect
  if (!pin(cpu)) _exit(1);
  while (read_full(in, buffer, size) && write_full(out, buffer, size)) {
  }
  _exit(0);  // EOF: the parent closed its ends
}

// The parent's side of one echo child: its descriptors and pid, torn down on every way out.
class EchoPair {
 public:
  EchoPair(Mechanism mechanism, int child_cpu, std::vector<char>& buffer) {
    if (!open_channel(mechanism)) return;
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      close_fd(out_);
      close_fd(in_);
      echo_child(parent, child_cpu, child_in_, child_out_, buffer.data(), buffer.size());
    }
    if (pid_ < 0) fail("fork");
    close_fd(child_in_);
    close_fd(child_out_);
  }
  EchoPair(const EchoPair&) = delete;
  EchoPair& operator=(const EchoPair&) = delete;

  ~EchoPair() {
    close_fd(out_);  // the child sees EOF and exits; the kill covers a child stuck elsewhere
    close_fd(in_);
    close_fd(child_in_);
    close_fd(child_out_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }

  const char* error() const { return error_.empty() ? nullptr : error_.c_str(); }

  bool round_trip(std::vector<char>& message) {
    return write_full(out_, message.data(), message.size()) && read_full(in_, message.data(), message.size());
  }

 private:
  // The parent writes out_ and reads in_; the child reads child_in_ and writes child_out_.
  // A socketpair end carries both directions, so it is duplicated to keep one fd per role.
  bool open_channel(Mechanism mechanism) {
    int a[2] = {-1, -1}, b[2] = {-1, -1};
    if (mechanism == Mechanism::Pipe) {
      if (pipe2(a, O_CLOEXEC) != 0) return fail("pipe2");
      out_ = a[1], child_in_ = a[0];
      if (pipe2(b, O_CLOEXEC) != 0) return fail("pipe2");
      child_out_ = b[1], in_ = b[0];
    } else if (mechanism == Mechanism::Fifo) {
      return open_fifos();
    } else {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) != 0) return fail("socketpair");
      out_ = a[0], child_in_ = a[1];
      in_ = fcntl(out_, F_DUPFD_CLOEXEC, 0);
      if (in_ < 0) return fail("dup");
      child_out_ = fcntl(child_in_, F_DUPFD_CLOEXEC, 0);
      if (child_out_ < 0) return fail("dup");
    }
    return true;
  }
  // Two FIFOs in a fresh private directory; each is opened at both ends here (read end
  // first, non-blocking, so neither open waits), made blocking, then unlinked: the fork()ed
  // child inherits its ends, and nothing is left on disk whatever happens next.
  bool open_fifos() {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    std::string dir = std::string(xdg != nullptr && xdg[0] == '/' ? xdg : "/tmp") + "/raw-pingpong-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) return fail("mkdtemp");
    const std::string paths[2] = {dir + "/to-child", dir + "/to-parent"};
    bool ok = true;
    int* ends[2][2] = {{&child_in_, &out_}, {&in_, &child_out_}};  // {read end, write end}
    for (int i = 0; i < 2 && ok; ++i) {
      ok = mkfifo(paths[i].c_str(), 0600) == 0 || fail("mkfifo");
      if (ok) *ends[i][0] = open(paths[i].c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (ok && *ends[i][0] < 0) ok = fail("open fifo for reading");
      if (ok) *ends[i][1] = open(paths[i].c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (ok && *ends[i][1] < 0) ok = fail("open fifo for writing");
      for (int end = 0; ok && end < 2; ++end)
        ok = fcntl(*ends[i][end], F_SETFL, 0) == 0 || fail("fcntl O_NONBLOCK");
    }
    for (const std::string& path : paths) unlink(path.c_str());
    rmdir(dir.c_str());
    return ok;
  }
  bool fail(const char* what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
    return false;
  }
  static void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }

  int out_ = -1, in_ = -1, child_in_ = -1, child_out_ = -1;
  pid_t pid_ = -1;
  std::string error_;
};

void BM_RawPingPong(benchmark::State& state, Mechanism mechanism, std::size_t size, Placement placement) {
  time_round_trips(state, size, placement, [&](int cpu, std::vector<char>& message) { return std::make_unique<EchoPair>(mechanism, cpu, message); });
}

}  // namespace

int main(int argc, char** argv) {
  if (!choose_cpus(argc, argv, "bench_raw_pingpong")) return 2;
  signal(SIGPIPE, SIG_IGN);  // a dead echo child is a failed write (EPIPE), not the end of us
  // Names follow ipcmark's rows: raw/<mechanism>/pingpong/<bytes>/<placement>.
  for (const auto& [mechanism, mechanism_name] :
       {std::pair{Mechanism::Pipe, "pipe"}, {Mechanism::Fifo, "fifo"}, {Mechanism::Unix, "unix"}}) {
    for (const std::size_t size : {64, 4096, 65536}) {
      for (const auto& [placement, placement_name] : {std::pair{Placement::Cross, "cross"}, {Placement::Same, "same"}}) {
        const std::string name = std::string("raw/") + mechanism_name + "/pingpong/" + std::to_string(size) + "/" +
                                 placement_name;
        benchmark::RegisterBenchmark(name.c_str(), BM_RawPingPong, mechanism, size, placement)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("pingpong_cpus", std::to_string(g_first_cpu) + "," + std::to_string(g_second_cpu));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
