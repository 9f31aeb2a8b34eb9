// tests/bench/raw_grpc_pingpong.cpp — the floor ipcmark's `grpc` rows are judged against (issue 18).
//
// Two-process ping-pong written directly against gRPC C++ the way the `grpc` transport uses it,
// with no ipcmark code: the generic API (raw bytes in grpc::ByteBuffer, no protobuf), one
// bidirectional streaming call over a unix: socket, async completion queues. The echo child runs
// a gRPC server that reads a message and writes it back; the timing parent posts a Write and a
// Read and waits for both. One benchmark iteration is one round trip.
//
// gRPC starts threads once it is used, and a process that forks after that cannot use gRPC in
// the child. So the echo child is forked once, in main(), before any gRPC call, and serves every
// benchmark; the parent opens one channel and one call, on first use, and keeps them.
// Placement mirrors `ipcmark run --cpus A,B` as bench_raw_pingpong does: the echo child (ipcmark's
// server) on the first CPU, the parent (the client) on the second for "cross", on the first for
// "same". The CPUs are the first two that sched_getaffinity allows, or `--cpus=A,B`.
// Counters p50_ns and p99_ns: each round trip timed on its own, as in bench_raw_pingpong.
#include <benchmark/benchmark.h>

#include "raw_pingpong_support.hpp"

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

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

namespace {

constexpr const char* kMethod = "/raw.Echo/Stream";

std::string g_address;                    // unix:<private dir>/echo.sock

using raw_bench::Placement;

void* tag(std::intptr_t n) { return reinterpret_cast<void*>(n); }

// The echo child: a gRPC server echoing every message of the first call until it ends.
[[noreturn]] void echo_child(pid_t parent, int cpu, const std::string& path, int ready_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent || !raw_bench::pin(cpu)) _exit(1);
  grpc::AsyncGenericService service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
  builder.RegisterAsyncGenericService(&service);
  auto cq = builder.AddCompletionQueue();
  auto server = builder.BuildAndStart();
  if (!server) _exit(1);
  grpc::GenericServerContext context;
  grpc::GenericServerAsyncReaderWriter stream(&context);
  service.RequestCall(&context, &stream, cq.get(), cq.get(), tag(1));
  const char ready = 'r';
  if (write(ready_fd, &ready, 1) != 1) _exit(1);
  close(ready_fd);
  void* got = nullptr;
  bool ok = false;
  if (!cq->Next(&got, &ok) || !ok) _exit(1);
  grpc::ByteBuffer message;
  for (;;) {  // read, then write the same buffer back
    stream.Read(&message, tag(2));
    if (!cq->Next(&got, &ok) || !ok) break;
    stream.Write(message, tag(3));
    if (!cq->Next(&got, &ok) || !ok) break;
  }
  _exit(0);  // the parent ended the call or died: no clean-up needed, the parent removes the file
}

// The parent's channel and call, opened on first use and kept for every benchmark.
class EchoClient {
 public:
  EchoClient() {
    channel_ = grpc::CreateChannel(g_address, grpc::InsecureChannelCredentials());
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
    stream_ = stub_->PrepareCall(&context_, kMethod, &cq_);
    stream_->StartCall(tag(1));
    ok_ = wait_for(1);
  }
  bool ok() const { return ok_; }

  bool round_trip(std::vector<char>& message) {
    grpc::Slice slice(message.data(), message.size());
    grpc::ByteBuffer out(&slice, 1);
    stream_->Write(out, tag(2));
    stream_->Read(&in_, tag(3));
    bool wrote = false, read = false;
    while (!(wrote && read)) {
      void* got = nullptr;
      bool ok = false;
      if (!cq_.Next(&got, &ok) || !ok) return false;
      (got == tag(2) ? wrote : read) = true;
    }
    grpc::Slice back;
    if (!in_.TrySingleSlice(&back).ok() || back.size() != message.size()) {
      std::vector<grpc::Slice> slices;  // a large message may come in several slices
      if (!in_.Dump(&slices).ok()) return false;
      std::size_t at = 0;
      for (const grpc::Slice& s : slices) {
        if (at + s.size() > message.size()) return false;
        std::memcpy(message.data() + at, s.begin(), s.size());
        at += s.size();
      }
      return at == message.size();
    }
    std::memcpy(message.data(), back.begin(), back.size());
    return true;
  }

 private:
  bool wait_for(std::intptr_t n) {
    void* got = nullptr;
    bool ok = false;
    return cq_.Next(&got, &ok) && got == tag(n) && ok;
  }

  grpc::CompletionQueue cq_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream_;
  grpc::ByteBuffer in_;
  bool ok_ = false;
};

EchoClient& client() {
  static EchoClient* the_client = new EchoClient;  // never destroyed: the process exits with it open
  return *the_client;
}

void BM_RawGrpcPingPong(benchmark::State& state, std::size_t size, Placement placement) {
  struct Echo {  // the one client every benchmark shares
    const char* error() const { return client().ok() ? nullptr : "the echo child failed (could it pin itself and listen?)"; }
    bool round_trip(std::vector<char>& message) const { return client().round_trip(message); }
  };
  raw_bench::time_round_trips(state, size, placement, [](int, std::vector<char>&) { return std::make_unique<Echo>(); });
}

// Forks the echo server (before any gRPC call here) and waits until it listens. The socket lives
// in a fresh private directory, removed at exit.
pid_t start_echo_child(std::string& dir) {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  dir = std::string(xdg != nullptr && xdg[0] == '/' ? xdg : "/tmp") + "/raw-grpc-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return -1;
  const std::string path = dir + "/echo.sock";
  g_address = "unix:" + path;
  int ready[2];
  if (pipe(ready) != 0) return -1;
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    echo_child(parent, raw_bench::g_first_cpu, path, ready[1]);
  }
  close(ready[1]);
  char c = 0;
  const bool listening = pid > 0 && read(ready[0], &c, 1) == 1;
  close(ready[0]);
  return listening ? pid : -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (!raw_bench::choose_cpus(argc, argv, "bench_raw_grpc_pingpong")) return 2;
  // Names follow ipcmark's rows: raw/grpc/pingpong/<bytes>/<placement>.
  for (const std::size_t size : {64, 4096, 65536}) {
    for (const auto& [placement, placement_name] : {std::pair{Placement::Cross, "cross"}, {Placement::Same, "same"}}) {
      const std::string name = "raw/grpc/pingpong/" + std::to_string(size) + "/" + placement_name;
      benchmark::RegisterBenchmark(name.c_str(), BM_RawGrpcPingPong, size, placement)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  std::string dir;
  const pid_t echo = raw_bench::g_first_cpu >= 0 ? start_echo_child(dir) : -1;
  if (raw_bench::g_first_cpu >= 0 && echo < 0) {
    std::fprintf(stderr, "bench_raw_grpc_pingpong: error: the echo server did not start: %s\n", std::strerror(errno));
    return 1;
  }
  benchmark::AddCustomContext("pingpong_cpus", std::to_string(raw_bench::g_first_cpu) + "," + std::to_string(raw_bench::g_second_cpu));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (echo > 0) {
    kill(echo, SIGKILL);
    waitpid(echo, nullptr, 0);
  }
  unlink((dir + "/echo.sock").c_str());
  rmdir(dir.c_str());
  std::fflush(nullptr);
  _exit(0);  // gRPC's threads and the open call need no orderly teardown
}
