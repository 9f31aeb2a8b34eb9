#include "harness/run/peer.hpp"

#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <iostream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/machine/affinity.hpp"
#include "harness/measure/channel_copy.hpp"
#include "harness/measure/clock.hpp"
#include "harness/measure/histogram.hpp"
#include "harness/measure/pacer.hpp"
#include "harness/measure/payload.hpp"
#include "harness/run/peer_report.hpp"
#include "transports/fanout.hpp"

namespace ipcmark {
namespace {

std::atomic<bool> g_stop{false};

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
  void report(PeerReport& out) const {
    out.cpu_ns = cpu_ns(end_) - cpu_ns(begin_);
    out.context_switches =
        static_cast<std::uint64_t>((end_.ru_nvcsw - begin_.ru_nvcsw) + (end_.ru_nivcsw - begin_.ru_nivcsw));
  }

 private:
  rusage begin_{}, end_{};
};

// What the reader of messages keeps: order, integrity, and the latency of measured ones
// (warm-up messages carry stamp 0).
class Tally {
 public:
  // `answers`: the messages are the zero-copy ping-pong server's answers (answer_payload()).
  explicit Tally(std::size_t size, bool answers = false) : size_(size), answers_(answers) {}

  struct Arrival {
    PayloadCheck check;
    std::uint64_t now;  // when it counts as received
  };
  // A message has arrived: checks it and records its latency. A copied message is already in
  // our buffer, so the clock is read first. One read in place (zero-copy) has had only its
  // header looked at: it is checked first, because reading its bytes out of the channel is part
  // of receiving it, as the copy is in the other mode. The clock is read only when the message
  // carries a send time, is warm-up (the window opens at the last one) or is the last
  // (set_last): Arrival::now is 0 otherwise.
  // `checked`: the check a copy made on its way out of the channel (CheckingCopy), part of
  // receiving it as reading in place is.
  Arrival arrived(std::span<const std::byte> message, bool in_place, const PayloadCheck* checked = nullptr) {
    const bool timed = payload_stamp(message) != kUntimedStamp || payload_sequence(message) + 1 >= last_;
    if (checked != nullptr) return count(message, *checked, timed ? now_ns() : 0);
    if (!in_place) return arrived_at(message, timed ? now_ns() : 0);
    const PayloadCheck c = check(message);  // before the clock: the order of arguments is unspecified
    return count(message, c, timed ? now_ns() : 0);
  }
  // A copied message that arrived at `now`, checked later (the pingpong client checks an echo
  // while the next round trip is in flight).
  Arrival arrived_at(std::span<const std::byte> message, std::uint64_t now) {
    return count(message, check(message), now);
  }
  std::uint64_t next_expected() const { return expected_; }
  // Messages from sequence `last` - 1 on are timed whatever they carry: the window closes there.
  void set_last(std::uint64_t last) { last_ = last; }

  void report(PeerReport& out) const {
    out.lost = lost_;
    out.reordered = reordered_;
    out.corrupted = corrupted_;
    out.histogram = latency_;
  }

 private:
  Arrival count(std::span<const std::byte> message, const PayloadCheck& c, std::uint64_t now) {
    if (!c.intact || message.size() != size_) ++corrupted_;
    if (c.sequence > expected_) lost_ += c.sequence - expected_;
    if (c.sequence < expected_) ++reordered_;
    else expected_ = c.sequence + 1;
    if (c.stamp_ns != 0 && c.stamp_ns != kUntimedStamp) latency_.record(now - c.stamp_ns);
    return {c, now};
  }

  PayloadCheck check(std::span<const std::byte> message) const {
    return answers_ ? check_answer(message) : check_payload(message);
  }

  std::size_t size_;
  bool answers_;
  std::uint64_t expected_ = 0, lost_ = 0, reordered_ = 0, corrupted_ = 0, last_ = UINT64_MAX;
  LatencyHistogram latency_;
};

// Warm-up lasts until both its message count and its duration are reached; once over, it
// stays over (no clock read per message afterwards).
class Warmup {
 public:
  explicit Warmup(const RunSpec& spec)
      : messages_(spec.warmup_messages), until_ns_(now_ns() + spec.warmup_ms * 1'000'000u) {}
  bool active(std::uint64_t sent) {
    if (over_) return false;
    over_ = sent >= messages_ && now_ns() >= until_ns_;
    return !over_;
  }

 private:
  std::uint64_t messages_, until_ns_;
  bool over_ = false;
};

// Stream messages this long and longer are made and checked as a transport copies them
// (send_through, receive_through; ChannelFill and ChannelCheck choose how). Shorter ones were as fast
// or faster made, then copied, then checked: shm stream, vCPUs close, 2 KiB a fifth slower and 4 KiB
// even-to-slower through them, 8 KiB even, 16 KiB a fifth faster (docs/notes-2026-12-06-shm-sizes.md).
inline constexpr std::size_t kOnTheWayFrom = 8 * 1024;
bool on_the_way(const RunSpec& spec) { return spec.message_size >= kOnTheWayFrom; }

// The stream sender's message, made as the transport copies it into its memory, where it does
// (Connection::send_through): written into our buffer and the channel's by ChannelFill.
class FillingCopy final : public CopyIn {
 public:
  void set(std::uint64_t sequence, std::uint64_t stamp_ns) noexcept {
    sequence_ = sequence;
    stamp_ns_ = stamp_ns;
  }
  void make_and_copy(std::span<std::byte> message, std::span<std::byte> to) noexcept override {
    fill_.fill(to, message, sequence_, stamp_ns_);
  }
  void make(std::span<std::byte> message) noexcept override { fill_payload(message, sequence_, stamp_ns_); }
  // Zero-copy: the message made in `loan` by ChannelFill, staged in `scratch` if that is faster.
  void fill_loan(std::span<std::byte> loan, std::span<std::byte> scratch) noexcept {
    fill_.fill_in_place(loan, scratch.first(loan.size()), sequence_, stamp_ns_);
  }

 private:
  ChannelFill fill_;
  std::uint64_t sequence_ = 0, stamp_ns_ = 0;
};

// Where messages are written before sending: our own buffer, copied in by send() (the fair
// comparison with every transport), or with --copy zero the channel's own memory (a loan).
// kOnTheWay (the stream sender's, on_the_way()): in copy mode messages are made as send_through()
// copies them (stamp() notes sequence and stamp, send() makes the message); zero-copy ones by a
// ChannelFill, staged in our buffer when that is faster. A template parameter, not a flag: a branch
// per message more cost the 64 B stream 2% (the notes).
template <bool kOnTheWay = false>
class Outbox {
 public:
  Outbox(Connection& connection, const RunSpec& spec)
      : connection_(connection),
        zero_copy_(spec.zero_copy),
        buffer_(!spec.zero_copy || kOnTheWay ? spec.message_size : 0) {}
  std::span<std::byte> next(std::size_t size, Deadline deadline) {
    return zero_copy_ ? connection_.loan(size, deadline) : std::span(buffer_).first(size);
  }
  // Writing message `seq` into `message` (from next()) takes two steps, so that the clock is
  // read where sending starts: prepare() before it, stamp() with its reading (0: warm-up). In
  // copy mode prepare() fills our buffer and stamp() sets the stamp, since send() copying into
  // the channel is what counts. In place (zero-copy), writing the bytes into the channel is that
  // part, so prepare() does nothing and stamp() writes the whole message.
  void prepare(std::span<std::byte> message, std::uint64_t seq) {
    if (!zero_copy_ && !kOnTheWay) fill_payload(message, seq, 0);
  }
  void stamp(std::span<std::byte> message, std::uint64_t seq, std::uint64_t stamp_ns) {
    if constexpr (kOnTheWay) {
      filler_.set(seq, stamp_ns);
      if (zero_copy_) filler_.fill_loan(message, buffer_);
    } else if (zero_copy_) {
      fill_payload_in_place(message, seq, stamp_ns);  // see payload.hpp: large bodies staged
    } else {
      stamp_payload(message, stamp_ns);
    }
  }
  void send(std::span<std::byte> message, Deadline deadline) {
    if (zero_copy_) connection_.commit();
    else if constexpr (kOnTheWay) connection_.send_through(message, deadline, filler_);
    else connection_.send(message, deadline);
  }

 private:
  Connection& connection_;
  bool zero_copy_;
  std::vector<std::byte> buffer_;
  FillingCopy filler_;
};

// A copy out of a transport's memory that checks every byte, on the way or just after, whichever
// has been faster (Connection::receive_through; ChannelCheck).
class CheckingCopy final : public CopyOut {
 public:
  void copy(std::span<std::byte> to, std::span<const std::byte> from) noexcept override {
    check_ = checker_.copy(to, from);
    copied_ = true;
  }
  // The check of the message just received, or nullptr if the transport did not copy through us.
  const PayloadCheck* take() noexcept { return std::exchange(copied_, false) ? &check_ : nullptr; }

 private:
  ChannelCheck checker_;
  PayloadCheck check_{0, 0, false};
  bool copied_ = false;
};

// Where received messages are read: copied into our buffer, or in place (--copy zero).
// kOnTheWay (the stream reader's, on_the_way()): copies are made through a CheckingCopy where the
// transport allows it; checked() then has their checks. (Not for the ping-pong client: it checks
// its echo later, off the round trip.)
template <bool kOnTheWay = false>
class Inbox {
 public:
  Inbox(Connection& connection, const RunSpec& spec)
      : connection_(connection), zero_copy_(spec.zero_copy), buffer_(spec.zero_copy ? 0 : spec.message_size) {}
  std::span<const std::byte> next(Deadline deadline) {
    if (zero_copy_) return connection_.view(deadline);
    if constexpr (kOnTheWay) return std::span(buffer_).first(connection_.receive_through(buffer_, deadline, copy_));
    return std::span(buffer_).first(connection_.receive(buffer_, deadline));
  }
  // The check made while the message from next() was copied, if it was; nullptr otherwise.
  const PayloadCheck* checked() noexcept { return copy_.take(); }
  void done() {
    if (zero_copy_) connection_.release();
  }

 private:
  Connection& connection_;
  bool zero_copy_;
  std::vector<std::byte> buffer_;
  CheckingCopy copy_;
};

// What a role runs with: its arguments, and the run they describe.
struct PeerOptions {
  const PeerArgs& args;
  RunSpec spec;
};

// What a stream or pingpong client reports: its window over `messages` measured messages.
PeerReport client_report(std::uint64_t messages, std::uint64_t elapsed_ns, const Tally& tally, const CpuWindow& cpu) {
  PeerReport out;
  out.messages = messages;
  out.elapsed_ns = elapsed_ns;
  tally.report(out);
  cpu.report(out);
  return out;
}

// A ping-pong's channel carries requests and replies in turn, which lets shm answer in place.
ChannelConfig channel_config(const PeerOptions& o) {
  return ChannelConfig{o.args.channel, o.spec.message_size, o.spec.wait, o.spec.pattern == Pattern::Pingpong};
}

void say_ready() { std::cout << "ready" << std::endl; }

// The sender's side of stream and fanout. Closed loop: the timed messages (the first measured
// one, then one in spec.timed_every()) are stamped just before they are sent, the others carry
// kUntimedStamp. Open loop (spec.rate): each is stamped with the time it was due
// (harness/measure/pacer.hpp). Returns the sender's part of the report.
template <bool kOnTheWay>
PeerReport send_stream_as(Connection& connection, const RunSpec& spec, std::uint64_t initial_margin, Deadline deadline) {
  Outbox<kOnTheWay> outbox(connection, spec);
  CpuWindow cpu;
  Warmup warmup(spec);
  MonotonicClock clock;
  SleepMargin margin(initial_margin);
  const SendSchedule schedule(clock.now(), spec.rate != 0 ? spec.rate : 1);
  const std::uint64_t timed_every = spec.timed_every();
  std::uint64_t measured = 0, first_send = 0, last_send = 0, pacing_ns = 0, until_timed = 0;
  for (std::uint64_t seq = 0; measured < spec.messages; ++seq) {
    const std::span<std::byte> message = outbox.next(spec.message_size, deadline);
    outbox.prepare(message, seq);
    const std::uint64_t spun = spec.rate != 0 ? wait_until(clock, schedule.due(seq), margin) : 0;
    if (warmup.active(seq)) {
      outbox.stamp(message, seq, 0);  // not measured
      outbox.send(message, deadline);
      continue;
    }
    if (measured++ == 0) cpu.start();
    pacing_ns += spun;
    const bool timed = until_timed-- == 0;  // the first measured message, then one in timed_every
    if (timed) {
      until_timed = timed_every - 1;
      last_send = now_ns();
    }
    if (first_send == 0) first_send = last_send;
    const std::uint64_t stamp = !timed ? kUntimedStamp : spec.rate != 0 ? schedule.due(seq) : last_send;
    outbox.stamp(message, seq, stamp);
    outbox.send(message, deadline);
  }
  cpu.stop();
  PeerReport out;
  out.first_send_ns = first_send;
  if (spec.rate != 0) {
    out.achieved_rate = achieved_rate(spec.messages, first_send, last_send);
    out.pacing_ns = pacing_ns;
    out.sleep_margin_ns = margin.ns();  // as learnt by the end
  }
  cpu.report(out);
  return out;
}

PeerReport send_stream(Connection& connection, const RunSpec& spec, std::uint64_t initial_margin, Deadline deadline) {
  return on_the_way(spec) ? send_stream_as<true>(connection, spec, initial_margin, deadline)
                          : send_stream_as<false>(connection, spec, initial_margin, deadline);
}

PeerReport run_stream_server(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto connection = spec.transport->channel.serve(channel_config(o));
  const std::uint64_t margin = spec.rate != 0 ? calibrate_sleep_margin_ns() : 0;
  say_ready();
  connection->accept(deadline);
  PeerReport out = send_stream(*connection, spec, margin, deadline);
  // The client's acknowledgement: everything arrived, so the channel may now go away.
  std::vector<std::byte> ack(spec.message_size);
  connection->receive(ack, deadline);
  return out;
}

// The stream client's messages, up to the last measured one (see Inbox for kOnTheWay).
template <bool kOnTheWay>
PeerReport receive_stream(Connection& connection, const RunSpec& spec, Deadline deadline) {
  Inbox<kOnTheWay> inbox(connection, spec);
  Tally tally(spec.message_size);
  CpuWindow cpu;
  // The window opens when the last warm-up message arrived (or now, without warm-up).
  std::uint64_t start = now_ns(), end = start, last = UINT64_MAX;
  // Count by sequence number so that a lost message cannot make us wait for one more.
  while (tally.next_expected() < last) {
    const std::span<const std::byte> message = inbox.next(deadline);
    const PayloadCheck* checked = nullptr;
    if constexpr (kOnTheWay) checked = inbox.checked();
    const auto [c, now] = tally.arrived(message, spec.zero_copy, checked);
    inbox.done();
    if (c.stamp_ns == 0) {
      start = now;
    } else if (last == UINT64_MAX) {
      last = c.sequence + spec.messages;
      tally.set_last(last);
      cpu.start();
    }
    if (now != 0) end = now;  // the first measured message is timed, and the last
  }
  cpu.stop();
  std::vector<std::byte> ack(spec.message_size);
  fill_payload(ack, last, now_ns());
  connection.send(ack, deadline);
  return client_report(spec.messages, end - start, tally, cpu);
}

PeerReport run_stream_client(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto connection = spec.transport->channel.connect(channel_config(o));
  connection->accept(deadline);
  return on_the_way(spec) ? receive_stream<true>(*connection, spec, deadline)
                          : receive_stream<false>(*connection, spec, deadline);
}

PeerReport run_pingpong_server(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto connection = spec.transport->channel.serve(channel_config(o));
  say_ready();
  connection->accept(deadline);
  std::vector<std::byte> message(spec.message_size);
  CpuWindow cpu;
  for (std::uint64_t measured = 0; measured < spec.messages;) {
    // Copy mode echoes unchanged; zero-copy answers with the body inverted, from the view
    // straight into a loan (one pass, as a copy; shm lends the request's own bytes, and an
    // unchanged echo there would be the request left as it was). The client checks every byte.
    if (spec.zero_copy) {
      const std::span<const std::byte> in = connection->view(deadline);
      if (payload_stamp(in) != 0 && measured++ == 0) cpu.start();
      const std::span<std::byte> out = connection->loan(in.size(), deadline);
      answer_payload(out, in);
      connection->commit();
      connection->release();
      continue;
    }
    const std::size_t n = connection->receive(message, deadline);
    if (payload_stamp(std::span(message).first(n)) != 0 && measured++ == 0) cpu.start();
    connection->send(std::span(message).first(n), deadline);
  }
  cpu.stop();
  PeerReport out;
  cpu.report(out);
  return out;
}

PeerReport run_pingpong_client(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto connection = spec.transport->channel.connect(channel_config(o));
  connection->accept(deadline);
  Outbox<> outbox(*connection, spec);
  Inbox<> inbox(*connection, spec);
  Tally tally(spec.message_size, spec.zero_copy);
  CpuWindow cpu;
  Warmup warmup(spec);
  // A round trip is timed from the last one's arrival (one clock read each, as the raw programs of
  // tests/bench do), so the client's own work between two is in it and the round trips add up to the
  // run: p50 and mean measure the same loop. A second read to stamp each request left that work
  // and the read itself out of every sample, though not out of the mean (the shm-sizes notes).
  // So copy mode fills the next message and checks the last echo while an echo is in flight, where
  // it costs least (done between round trips it lengthened them: shm, spin, cross, 512 B, about
  // 830-865 -> 1000 ns). In place, filling and checking are writing into and reading out of the
  // channel, part of the round trip.
  const bool in_place = spec.zero_copy;
  std::span<const std::byte> echo;  // copy mode: the last echo, to be checked
  std::uint64_t start = 0, measured = 0, echo_at = 0;
  for (std::uint64_t seq = 0; measured < spec.messages; ++seq) {
    const std::span<std::byte> out = outbox.next(spec.message_size, deadline);
    if (in_place || seq == 0) outbox.prepare(out, seq);
    if (!warmup.active(seq)) {
      if (measured++ == 0) {
        cpu.start();
        start = echo_at = now_ns();
      }
      outbox.stamp(out, seq, echo_at);
    } else {
      outbox.stamp(out, seq, 0);
    }
    outbox.send(out, deadline);
    if (in_place) {
      echo_at = tally.arrived(inbox.next(deadline), true).now;
      inbox.done();
      continue;
    }
    if (seq != 0) tally.arrived_at(echo, echo_at);
    outbox.prepare(out, seq + 1);  // send() has copied this one out
    echo = inbox.next(deadline);
    echo_at = now_ns();
  }
  if (!in_place) tally.arrived_at(echo, echo_at);
  const std::uint64_t end = echo_at;
  cpu.stop();
  return client_report(spec.messages, end - start, tally, cpu);
}

// Fanout: the stream sender over a FanoutWriter. Closed loop stamps its timed messages just
// before they go to the first reader, so later readers' latency includes the writer's sends to the
// ones before them: that is what a fanout costs.
PeerReport run_fanout_server(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto writer = serve_fanout(*spec.transport, FanoutConfig{channel_config(o), spec.readers, spec.rate != 0});
  const std::uint64_t margin = spec.rate != 0 ? calibrate_sleep_margin_ns() : 0;
  say_ready();
  writer->accept(deadline);
  PeerReport out = send_stream(*writer, spec, margin, deadline);
  // Keep the channel until the runner says every reader is done (SIGTERM), or the deadline.
  while (!stop_requested() && Clock::now() < deadline) ::usleep(1000);
  out.readers_lost = writer->readers_lost();
  return out;
}

// A fanout reader: checks order and every byte like a stream client. Closed loop: exactly
// spec.messages measured messages. Open loop, where a transport may drop (zmq PUB), the
// reader also stops once nothing has come for a while, and reports what it received.
PeerReport run_fanout_client(const PeerOptions& o, Deadline deadline) {
  const RunSpec& spec = o.spec;
  auto connection = connect_fanout(*spec.transport, channel_config(o), o.args.reader);
  connection->accept(deadline);
  std::vector<std::byte> buffer(spec.message_size);
  Tally tally(spec.message_size);
  CpuWindow cpu;
  const bool lossy = spec.rate != 0;
  // Silence that ends a lossy stream: far above the send period and any scheduling hiccup.
  const auto quiet = std::chrono::milliseconds(300) + std::chrono::nanoseconds(20 * 1'000'000'000ULL / std::max<std::uint64_t>(spec.rate, 1));
  std::uint64_t received = 0, last_receive = 0, last = UINT64_MAX;
  while (tally.next_expected() < last) {
    std::size_t n = 0;
    if (lossy && received != 0) {
      try {
        n = connection->receive(buffer, std::min(deadline, Clock::now() + quiet));
      } catch (const Error& e) {
        if (e.code() != Errc::Timeout || Clock::now() >= deadline) throw;
        break;  // the rest was dropped
      }
    } else {
      n = connection->receive(buffer, deadline);
    }
    const auto [c, now] = tally.arrived(std::span(buffer).first(n), /*in_place=*/false);
    if (c.stamp_ns == 0) continue;
    if (received++ == 0) {
      last = c.sequence + spec.messages;
      tally.set_last(last);
      cpu.start();
    }
    if (now != 0) last_receive = now;  // the first measured message is timed, and the last
  }
  cpu.stop();
  PeerReport out;
  out.reader = o.args.reader;
  out.received = received;
  out.last_receive_ns = last_receive;
  tally.report(out);
  cpu.report(out);
  return out;
}

PeerReport run_oneshot_server(const PeerOptions& o) {
  const std::string text = oneshot_text(o.spec.message_size);
  auto publication = o.spec.transport->seed.publish(o.args.channel, o.spec.message_size,
                                                    std::as_bytes(std::span(text)), /*replace=*/false);
  say_ready();
  CpuWindow cpu;
  cpu.start();
  publication->serve_readers(&stop_requested);
  cpu.stop();
  PeerReport out;
  cpu.report(out);
  return out;
}

PeerReport run_oneshot_client(const PeerOptions& o, Deadline deadline) {
  const std::string expected = oneshot_text(o.spec.message_size);
  LatencyHistogram latency;
  std::uint64_t corrupted = 0, start = 0;
  CpuWindow cpu;
  Warmup warmup(o.spec);
  for (std::uint64_t i = 0, measured = 0; measured < o.spec.messages; ++i) {
    const bool warming = warmup.active(i);
    if (!warming && measured++ == 0) {
      cpu.start();
      start = now_ns();
    }
    const std::uint64_t before = now_ns();
    const std::string text = o.spec.transport->seed.fetch(o.args.channel, deadline);
    const std::uint64_t after = now_ns();
    if (text != expected) ++corrupted;
    if (!warming) latency.record(after - before);
  }
  const std::uint64_t end = now_ns();
  cpu.stop();
  PeerReport out;
  out.messages = o.spec.messages;
  out.elapsed_ns = end - start;
  out.corrupted = corrupted;
  out.histogram = std::move(latency);
  cpu.report(out);
  return out;
}

}  // namespace

void request_stop() noexcept { g_stop.store(true, std::memory_order_relaxed); }
bool stop_requested() noexcept { return g_stop.load(std::memory_order_relaxed); }

int run_peer(const PeerArgs& args) {
  const PeerOptions o{args, args.run_spec()};
  // Die with the harness: a peer must never outlive the run that started it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (args.parent_pid != 0 && ::getppid() != args.parent_pid) return 1;
  std::signal(SIGTERM, [](int) { request_stop(); });

  const Deadline deadline = Clock::now() + o.spec.timeout;
  PeerReport report;
  int code = 0;
  try {
    if (args.cpu >= 0) pin_to_cpu(args.cpu);
    // Timed sleeps end when asked, not up to 50 µs later (Linux's default slack): the pacer's and
    // the shm block reader's (transports/shm/arrival_forecast.hpp) both sleep until just before
    // a message is due.
    ::prctl(PR_SET_TIMERSLACK, 1UL);
    const bool server = args.role == Role::Server;
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
      case Pattern::Fanout:
        report = server ? run_fanout_server(o, deadline) : run_fanout_client(o, deadline);
        break;
    }
  } catch (const Error& e) {
    report = PeerReport::failure(e.what(), std::string(to_string(e.code())));
    code = 1;
  } catch (const std::exception& e) {
    report = PeerReport::failure(e.what(), "System");
    code = 1;
  }
  std::cout << report.to_json(args).dump() << std::endl;
  return code;
}

}  // namespace ipcmark
