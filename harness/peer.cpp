#include "harness/peer.hpp"

#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/clock.hpp"
#include "harness/histogram.hpp"
#include "harness/payload.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

std::atomic<bool> g_stop{false};

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::InvalidArgument: return "InvalidArgument";
    case Errc::AlreadyExists: return "AlreadyExists";
    case Errc::DoesNotExist: return "DoesNotExist";
    case Errc::MessageTooLarge: return "MessageTooLarge";
    case Errc::Timeout: return "Timeout";
    case Errc::PeerGone: return "PeerGone";
    case Errc::Corrupt: return "Corrupt";
    case Errc::System: return "System";
  }
  return "System";
}

std::uint64_t cpu_ns(const rusage& u) {
  auto ns = [](const timeval& t) {
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(t.tv_usec) * 1000ULL;
  };
  return ns(u.ru_utime) + ns(u.ru_stime);
}

// CPU time and context switches of this process over the measured window.
class CpuWindow {
 public:
  void start() { ::getrusage(RUSAGE_SELF, &begin_); }
  void stop() { ::getrusage(RUSAGE_SELF, &end_); }
  void report(json& out) const {
    out["cpu_ns"] = cpu_ns(end_) - cpu_ns(begin_);
    out["context_switches"] =
        (end_.ru_nvcsw - begin_.ru_nvcsw) + (end_.ru_nivcsw - begin_.ru_nivcsw);
  }

 private:
  rusage begin_{}, end_{};
};

// What the reader of measured messages keeps: order, integrity and latency.
class Tally {
 public:
  explicit Tally(std::size_t size) : size_(size) {}

  // Checks one received message; records its latency when `measured`.
  void check(std::span<const std::byte> message, std::uint64_t now, bool measured) {
    const PayloadCheck c = check_payload(message);
    if (!c.intact || message.size() != size_) ++corrupted_;
    if (c.sequence > expected_) lost_ += c.sequence - expected_;
    if (c.sequence < expected_) ++reordered_;
    else expected_ = c.sequence + 1;
    if (measured) latency_.record(now - c.stamp_ns);
  }
  std::uint64_t next_expected() const { return expected_; }
  LatencyHistogram& latency() { return latency_; }

  void report(json& out) const {
    out["lost"] = lost_;
    out["reordered"] = reordered_;
    out["corrupted"] = corrupted_;
    out["histogram"] = latency_.to_json();
  }

 private:
  std::size_t size_;
  std::uint64_t expected_ = 0, lost_ = 0, reordered_ = 0, corrupted_ = 0;
  LatencyHistogram latency_;
};

ChannelConfig channel_config(const PeerOptions& o) {
  return ChannelConfig{o.channel, o.spec.message_size, o.spec.wait};
}

void say_ready() { std::cout << "ready" << std::endl; }

json run_stream_server(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto connection = spec.transport->serve(channel_config(o));
  say_ready();
  connection->accept(deadline);
  std::vector<std::byte> message(spec.message_size);
  CpuWindow cpu;
  const std::uint64_t total = spec.warmup_messages + spec.messages;
  for (std::uint64_t seq = 0; seq < total; ++seq) {
    if (seq == spec.warmup_messages) cpu.start();
    fill_payload(message, seq, 0);
    stamp_payload(message, now_ns());  // last, so filling is not counted as latency
    connection->send(message, deadline);
  }
  cpu.stop();
  // The client's acknowledgement: everything arrived, so the channel may now go away.
  connection->receive(message, deadline);
  json out{{"role", "server"}};
  cpu.report(out);
  return out;
}

json run_stream_client(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto connection = spec.transport->connect(channel_config(o));
  connection->accept(deadline);
  std::vector<std::byte> message(spec.message_size);
  Tally tally(spec.message_size);
  CpuWindow cpu;
  const std::uint64_t total = spec.warmup_messages + spec.messages;
  std::uint64_t start = 0, end = 0;
  if (spec.warmup_messages == 0) {
    cpu.start();
    start = now_ns();
  }
  // Count by sequence number so that a lost message cannot make us wait for one more.
  while (tally.next_expected() < total) {
    const std::size_t n = connection->receive(message, deadline);
    const std::uint64_t now = now_ns();
    const bool measured = payload_sequence(message) >= spec.warmup_messages;
    tally.check(std::span(message).first(n), now, measured);
    if (tally.next_expected() == spec.warmup_messages && !measured) {
      cpu.start();
      start = now;
    }
    end = now;
  }
  cpu.stop();
  fill_payload(message, total, now_ns());
  connection->send(message, deadline);
  json out{{"role", "client"}, {"messages", spec.messages}, {"elapsed_ns", end - start}};
  tally.report(out);
  cpu.report(out);
  return out;
}

json run_pingpong_server(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto connection = spec.transport->serve(channel_config(o));
  say_ready();
  connection->accept(deadline);
  std::vector<std::byte> message(spec.message_size);
  CpuWindow cpu;
  const std::uint64_t total = spec.warmup_messages + spec.messages;
  for (std::uint64_t i = 0; i < total; ++i) {
    if (i == spec.warmup_messages) cpu.start();
    // Echo unchanged: the client checks every byte of what comes back.
    const std::size_t n = connection->receive(message, deadline);
    connection->send(std::span(message).first(n), deadline);
  }
  cpu.stop();
  json out{{"role", "server"}};
  cpu.report(out);
  return out;
}

json run_pingpong_client(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto connection = spec.transport->connect(channel_config(o));
  connection->accept(deadline);
  std::vector<std::byte> out(spec.message_size), in(spec.message_size);
  Tally tally(spec.message_size);
  CpuWindow cpu;
  const std::uint64_t total = spec.warmup_messages + spec.messages;
  std::uint64_t start = 0;
  for (std::uint64_t seq = 0; seq < total; ++seq) {
    const bool measured = seq >= spec.warmup_messages;
    if (seq == spec.warmup_messages) {
      cpu.start();
      start = now_ns();
    }
    fill_payload(out, seq, 0);
    stamp_payload(out, now_ns());
    connection->send(out, deadline);
    const std::size_t n = connection->receive(in, deadline);
    tally.check(std::span(in).first(n), now_ns(), measured);
  }
  const std::uint64_t end = now_ns();
  cpu.stop();
  json report{{"role", "client"}, {"messages", spec.messages}, {"elapsed_ns", end - start}};
  tally.report(report);
  cpu.report(report);
  return report;
}

json run_oneshot_server(const PeerOptions& o) {
  const std::string text = oneshot_text(o.spec.message_size);
  auto publication = o.spec.transport->publish(o.channel, o.spec.message_size, std::as_bytes(std::span(text)),
                                               /*replace=*/false);
  say_ready();
  CpuWindow cpu;
  cpu.start();
  publication->serve_readers(&stop_requested);
  cpu.stop();
  json out{{"role", "server"}};
  cpu.report(out);
  return out;
}

json run_oneshot_client(const PeerOptions& o, Deadline deadline) {
  const std::string expected = oneshot_text(o.spec.message_size);
  LatencyHistogram latency;
  std::uint64_t corrupted = 0, start = 0;
  CpuWindow cpu;
  const std::uint64_t total = o.spec.warmup_messages + o.spec.messages;
  for (std::uint64_t i = 0; i < total; ++i) {
    if (i == o.spec.warmup_messages) {
      cpu.start();
      start = now_ns();
    }
    const std::uint64_t before = now_ns();
    const std::string text = o.spec.transport->fetch(o.channel, deadline);
    const std::uint64_t after = now_ns();
    if (text != expected) ++corrupted;
    if (i >= o.spec.warmup_messages) latency.record(after - before);
  }
  const std::uint64_t end = now_ns();
  cpu.stop();
  json out{{"role", "client"}, {"messages", o.spec.messages}, {"elapsed_ns", end - start},
           {"lost", 0},       {"reordered", 0},                {"corrupted", corrupted},
           {"histogram", latency.to_json()}};
  cpu.report(out);
  return out;
}

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) throw_system_error("cannot pin to CPU " + std::to_string(cpu));
}

}  // namespace

void request_stop() noexcept { g_stop.store(true, std::memory_order_relaxed); }
bool stop_requested() noexcept { return g_stop.load(std::memory_order_relaxed); }

int run_peer(const PeerOptions& o) {
  // Die with the harness: a peer must never outlive the run that started it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (o.parent_pid != 0 && ::getppid() != o.parent_pid) return 1;
  std::signal(SIGTERM, [](int) { request_stop(); });

  const Deadline deadline = Clock::now() + o.spec.timeout;
  json report;
  int code = 0;
  try {
    if (o.cpu >= 0) pin_to_cpu(o.cpu);
    const bool server = o.role == Role::Server;
    switch (o.spec.pattern) {
      case Pattern::Stream:
        report = server ? run_stream_server(o, deadline) : run_stream_client(o, deadline);
        break;
      case Pattern::Pingpong:
        report = server ? run_pingpong_server(o, deadline) : run_pingpong_client(o, deadline);
        break;
      case Pattern::Oneshot:
        report = server ? run_oneshot_server(o) : run_oneshot_client(o, deadline);
        break;
    }
  } catch (const Error& e) {
    report = {{"error", e.what()}, {"code", errc_name(e.code())}};
    code = 1;
  } catch (const std::exception& e) {
    report = {{"error", e.what()}, {"code", "System"}};
    code = 1;
  }
  std::cout << report.dump() << std::endl;
  return code;
}

}  // namespace ipcmark
