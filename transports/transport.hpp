// transports/transport.hpp — the one interface every transport implements.
//
// A channel joins one server process and one client process. Both sides get a
// Connection that can send and receive byte messages (stream uses one direction,
// pingpong both: the client sends, the server echoes).
//
// Contract (tests/conformance runs every registered transport through it):
//  * serve() creates the channel's names; a name that exists fails with AlreadyExists.
//  * connect() opens an existing channel; a missing one fails with DoesNotExist at once.
//  * Messages of 1..max_message bytes arrive whole, in order, exactly once; a larger
//    one is refused with MessageTooLarge before anything is sent.
//  * A full channel makes send() wait (back-pressure), never fail or drop.
//  * accept(), send() and receive() return by their deadline: Timeout if it passes,
//    PeerGone if the other process died or closed.
//  * Destroying the server's Connection removes every name serve() created;
//    remove() does the same after a crash.
//  * Transports move bytes: they never read a clock for measurement and never print.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ipcmark {

enum class Errc {
  InvalidArgument,  // bad name, size, option
  AlreadyExists,
  DoesNotExist,
  MessageTooLarge,
  Timeout,
  PeerGone,
  Corrupt,          // shared memory failed validation
  System,           // an unexpected syscall failure
};
std::string_view to_string(Errc code);  // "InvalidArgument", "PeerGone", ...

// One-line, human-readable error; what() has no trailing period.
class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

// Throws Error{System} with "<what>: <strerror(errno)>".
[[noreturn]] void throw_system_error(const std::string& what);

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// How a side waits for its peer (shm only: the ring is the same, only the way a sleeper is woken
// differs; transports/shm/wait.hpp). Every sleeping wait sleeps only after announcing it, so its
// peer pays a wake-up syscall only then.
enum class WaitKind {
  Spin,     // busy-poll: lowest latency, burns a CPU while idle
  Block,    // spin briefly, then sleep on a futex in the region until the peer wakes us
  Futex,    // sleep on the futex at once, no polling
  Eventfd,  // sleep at once in poll() on an eventfd the peer writes to
  Sem,      // sleep at once on a process-shared POSIX semaphore in the region
  Uds,      // sleep at once in poll() on a Unix domain socket the peer writes a byte to
};
inline constexpr WaitKind kWaitKinds[] = {WaitKind::Spin,    WaitKind::Block, WaitKind::Futex,
                                          WaitKind::Eventfd, WaitKind::Sem,   WaitKind::Uds};
std::string_view to_string(WaitKind wait);

struct ChannelConfig {
  std::string channel;          // validated: [A-Za-z0-9._-]{1,200}
  std::size_t max_message = 0;  // largest message either side will send, bytes
  WaitKind wait = WaitKind::Block;
  // Requests and replies in turn: the client sends one message, then receives one, and so on; the
  // server receives one, then sends one. Both sides must say so. A transport may use it (shm, for
  // messages of 1 KiB or more, writes a reply into the bytes of the request it answers) and then
  // refuses an operation out of turn (InvalidArgument); the others ignore it.
  bool request_reply = false;
};

// A reader's own pass over the bytes of each message it receives, handed to a transport that
// copies messages out of its own memory (Connection::receive_through), so that reading and
// copying are one pass over the bytes instead of two.
class CopyOut {
 public:
  virtual ~CopyOut() = default;
  // Copies `from` (the message, in the channel's memory: untrusted) to `to`, as memcpy would.
  virtual void copy(std::span<std::byte> to, std::span<const std::byte> from) noexcept = 0;
};

// A sender's own pass that makes each message it sends, handed to a transport that copies
// messages into its own memory (Connection::send_through), so that making and copying are one
// pass over the bytes instead of two.
class CopyIn {
 public:
  virtual ~CopyIn() = default;
  // Makes the message in `message` (the caller's buffer) and copies it into `to` (the channel's
  // memory, as long as `message`) on the way.
  virtual void make_and_copy(std::span<std::byte> message, std::span<std::byte> to) noexcept = 0;
  // Makes the message in `message` alone.
  virtual void make(std::span<std::byte> message) noexcept = 0;
};

// One side of an open channel. Not thread-safe: one thread per Connection.
class Connection {
 public:
  virtual ~Connection() = default;
  // Completes the connection: the server waits until the client has connected, the
  // client finishes any handshake (often nothing). Both sides call it once, before I/O.
  virtual void accept(Deadline deadline) = 0;
  virtual void send(std::span<const std::byte> message, Deadline deadline) = 0;
  // Copies the next message into `buffer` (at least max_message bytes) and returns its length.
  virtual std::size_t receive(std::span<std::byte> buffer, Deadline deadline) = 0;
  // receive(), copying the message into `buffer` by `out.copy()` where the transport copies it
  // out of its own memory (shm's rings). The default is receive(), which never calls `out`:
  // the caller learns from `out` whether it was called.
  virtual std::size_t receive_through(std::span<std::byte> buffer, Deadline deadline, CopyOut& out);
  // send() of the message `in` makes in `message`: made and copied into the transport's memory in
  // one pass (in.make_and_copy()) where the transport copies into its own memory (shm's rings).
  // The default makes it (in.make()), then send()s it.
  virtual void send_through(std::span<std::byte> message, Deadline deadline, CopyIn& in);

  // Zero-copy, for transports that lend their own memory (Transport::zero_copy; the others
  // throw InvalidArgument). loan() waits for room and returns `size` writable bytes inside
  // the channel; commit() sends them. view() waits for the next message and returns it in
  // place; release() gives its room back. At most one loan and one view at a time; sizes
  // are checked as send() checks them. A view's bytes are the peer's and untrusted.
  virtual std::span<std::byte> loan(std::size_t size, Deadline deadline);
  virtual void commit();
  virtual std::span<const std::byte> view(Deadline deadline);
  virtual void release();
};

// Fanout (pattern `fanout`, `serve --readers N`): one writer, N receive-only readers, and
// every live reader gets every message, in order. send() returns once the message is handed
// to every live reader (back-pressure from the slowest one); a reader that dies or closes
// mid-stream is dropped and counted, never an error and never a stall for the others.
// receive()/view() on the writer are InvalidArgument.
class FanoutWriter : public Connection {
 public:
  // accept() waits until all `readers` have joined.
  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override;
  // Readers dropped so far because they died or closed.
  virtual int readers_lost() const = 0;
};

inline constexpr int kMaxReaders = 16;

struct FanoutConfig {
  ChannelConfig channel;
  int readers = 1;     // 1..kMaxReaders
  bool lossy = false;  // open loop: a transport that drops when a reader lags (zmq PUB) may drop
                       // instead of waiting; readers count the gaps. Closed loop never drops.
};

// The seed demo (`ipcmark serve` / `ipcmark read`): one message, any number of readers.
class Publication {
 public:
  virtual ~Publication() = default;  // removes the channel's names
  // Serves readers until `stop()` returns true; returns within ~50 ms of it.
  virtual void serve_readers(bool (*stop)()) = 0;
};

// A transport states which of three interfaces it offers. Point-to-point and the seed demo
// every transport has, so they are plain members; a native fanout only some have, so it is a
// pointer whose nullptr means "use the generic fanout over N point-to-point channels"
// (transports/fanout.hpp). Callers of fanout go through serve_fanout/connect_fanout/
// remove_fanout there, which pick the native ops or the generic ones.

// One server, one client (the patterns stream and pingpong).
struct PointToPoint {
  std::unique_ptr<Connection> (*serve)(const ChannelConfig&);
  std::unique_ptr<Connection> (*connect)(const ChannelConfig&);
  void (*remove)(const std::string& channel);  // removes leftover names; no error if none
  // Whether its channels can wait this way, for a transport with wait modes (nullptr: every way).
  bool (*takes_wait)(WaitKind) = nullptr;
};

// The seed demo (`ipcmark serve` / `ipcmark read`) and the oneshot pattern.
struct SeedOps {
  std::unique_ptr<Publication> (*publish)(const std::string& channel, std::size_t size,
                                          std::span<const std::byte> message, bool replace);
  std::string (*fetch)(const std::string& channel, Deadline deadline);
};
// For publish(): InvalidArgument unless a message of `message_size` bytes fits the channel
// size the user asked for.
void check_publish_size(std::size_t message_size, std::size_t size);

// A native fanout (shm: one ring, N reader cursors; zmq: XPUB/SUB). `reader` is
// 0..readers-1; a reader's Connection only receives. remove() removes every name serve() made.
struct FanoutOps {
  std::unique_ptr<FanoutWriter> (*serve)(const FanoutConfig&);
  std::unique_ptr<Connection> (*connect)(const ChannelConfig&, int reader);
  void (*remove)(const std::string& channel);
  // Whether the native fanout can wait this way (nullptr: every way).
  bool (*takes_wait)(WaitKind) = nullptr;
};

// A daemon some transports need (iceoryx: RouDi), held for as long as the lease lives. The
// harness takes one for a whole run, sized for the run's largest message, so the daemon is
// started once and stopped after the last row; serve()/connect() take their own when nobody
// holds one. describe() is one line for the results' context (who started it, its sizing).
class BrokerLease {
 public:
  virtual ~BrokerLease() = default;
  virtual std::string describe() const = 0;
};

struct BrokerOps {
  // Starts the broker if none runs (sized so messages up to `max_message` bytes fit), or
  // joins the running one; the daemon is stopped when the last lease anywhere goes.
  std::unique_ptr<BrokerLease> (*lease)(std::size_t max_message);
  // `ipcmark clean`: stops a broker ipcmark started that nobody holds any more and removes
  // what a crashed one left; returns one line per thing removed.
  std::vector<std::string> (*clean)();
};

struct Transport {
  std::string_view name;     // CLI value and JSON field: "shm", "pipe", ...
  std::string_view summary;  // one line for `ipcmark list`
  bool has_wait_modes;       // whether WaitKind changes anything (rows get /spin, /block, /eventfd, ...)
  // Whether WaitKind::Block polls before it sleeps (shm: about 13 µs), so that a round trip across
  // two CPUs that fits in the poll is bounded by a cache line, not by a wake-up (harness/run/floor_choice.hpp).
  bool block_polls_first = false;
  std::size_t max_message;   // largest message the transport can carry, bytes
  bool zero_copy = false;    // Connection::loan/commit/view/release work (`--copy zero`)
  PointToPoint channel;
  SeedOps seed;
  const FanoutOps* fanout = nullptr;  // nullptr: the generic fanout in transports/fanout.hpp
  const BrokerOps* broker = nullptr;  // nullptr: the transport needs no daemon
};

}  // namespace ipcmark
