// transports/bip_mq/bip_mq.cpp — Boost.Interprocess message_queue (Boost 1.74, header-only).
//
// The queue many C++ codebases already have: a mutex, two condition variables and a ring of
// fixed-size slots in one shared-memory object. A message is one timed_send and one
// timed_receive, each a memcpy under Boost's lock; message boundaries and order are Boost's.
//
// Names (all in /dev/shm, mode 0600, made by serve() and unlinked by the server's destructor or
// remove()): <channel>.bq-s2c and <channel>.bq-c2s, the two queues; <channel>.bq-peers, the peer
// board (peer_board.hpp), made last, so a client that finds it finds the queues ready;
// <channel>.bq-news, the one-shot demo's queue. A client checks every object before Boost opens
// it (queue_check.hpp), so a leftover or foreign object is a one-line Corrupt, not a hang.
//
// Waits: Boost's timed waits end at an absolute time on the conditions' clock, CLOCK_MONOTONIC
// (queue.hpp, slice_time.hpp). Each wait is cut into slices of at most 10 ms; only when a slice
// ends empty-handed do we look at the peer (its pidfd and its closed flag on the board) and at
// the deadline. A message that arrives wakes the waiter through Boost's condition variable, so
// the slices cost the hot path one clock read to compute the slice's end.
//
// Handshake: connect() records the client's pid on the board; accept() on the client sends a
// hello (priority 2) on c2s, whose arrival tells the server to read that pid. Data is priority 1.
//
// What Boost does not let us guard: Boost trusts the header (sizes, count, index, each message's
// length) on every operation, under its lock. We check it once before opening (queue_check.hpp);
// a process of our own uid that rewrites it later, or truncates the object under Boost's
// mapping (SIGBUS: Boost's mapping is not ours to guard), can still crash us. Another uid cannot:
// objects not ours with mode 0600 are refused. A peer killed while holding Boost's lock: queue.hpp.
#include "transports/bip_mq/bip_mq.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "transports/bip_mq/boost_layout.hpp"
#include "transports/bip_mq/peer_board.hpp"
#include "transports/bip_mq/queue.hpp"
#include "transports/bip_mq/queue_check.hpp"
#include "transports/bip_mq/slice_time.hpp"
#include "transports/common/process.hpp"
#include "transports/names.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using bip_mq::PeerBoard;
using bip_mq::Queue;
using bip_mq::Side;
using bip_mq::slice_end;

constexpr auto kPeerCheck = 10ms;    // longest single wait: the peer is checked this often
constexpr auto kDeathSeen = 500ms;   // a lock whose owner died: time for its pidfd to say so
constexpr auto kPublishPoll = 50ms;  // serve_readers' stop() cadence
constexpr std::size_t kDepth = 64, kMinDepth = 2;  // messages per queue...
constexpr std::size_t kQueueBytes = 8 << 20;       // ...fewer when they would take more than this
constexpr unsigned kDataPriority = 1, kHelloPriority = 2;
constexpr std::size_t kNameMax = 200;  // validate_channel_name's limit, which region names obey too

std::size_t depth_for(std::size_t max_message) { return std::clamp(kQueueBytes / max_message, kMinDepth, kDepth); }

std::string object_name(const std::string& channel, const char* suffix) {
  validate_channel_name(channel);
  if (channel.size() + std::strlen(suffix) > kNameMax)
    throw Error(Errc::InvalidArgument, "channel name '" + channel + "' is too long for bip-mq (at most " +
                                           std::to_string(kNameMax - std::strlen(suffix)) + " characters)");
  return channel + suffix;
}

[[noreturn]] void throw_size(std::size_t size, std::size_t max) {
  throw Error(Errc::MessageTooLarge, "message of " + std::to_string(size) + " bytes is outside 1.." +
                                         std::to_string(max) + " for this channel");
}

class BipMqConnection final : public Connection {
 public:
  BipMqConnection(const ChannelConfig& config, Side side)
      : channel_(config.channel), side_(side), max_message_(config.max_message) {
    const std::string s2c = object_name(channel_, ".bq-s2c"), c2s = object_name(channel_, ".bq-c2s"),
                      board = object_name(channel_, ".bq-peers");
    if (max_message_ == 0 || max_message_ > bip_mq::kMaxMessage) throw_size(max_message_, bip_mq::kMaxMessage);
    if (side_ == Side::Server) {
      const std::size_t depth = depth_for(max_message_);
      s2c_.emplace(Queue::create(channel_, s2c, max_message_, depth));
      c2s_.emplace(Queue::create(channel_, c2s, max_message_, depth));
      board_.emplace(PeerBoard::create(channel_, board, max_message_, depth));
    } else {
      board_.emplace(PeerBoard::open(channel_, board));
      if (board_->max_message() < max_message_)
        throw Error(Errc::MessageTooLarge, "bip-mq channel '" + channel_ + "' carries messages of at most " +
                                               std::to_string(board_->max_message()) + " bytes, fewer than the " +
                                               std::to_string(max_message_) + " asked for");
      const std::size_t bytes = bip_mq::layout_of(board_->max_message(), board_->depth()).total;
      s2c_.emplace(Queue::open(s2c, bytes));
      c2s_.emplace(Queue::open(c2s, bytes));
      for (const Queue* q : {&*s2c_, &*c2s_})
        if (q->max_message() != board_->max_message() || q->depth() != board_->depth())
          throw Error(Errc::Corrupt, "bip-mq queue /dev/shm/" + q->name() + " does not match its peer board; " +
                                         "remove the channel with `ipcmark clean --channel " + channel_ + "`");
      peer_ = PeerProcess(board_->pid_of(Side::Server));  // early: the pidfd holds that very process
      if (peer_.gone() || board_->closed(Side::Server))
        throw Error(Errc::PeerGone, "bip-mq channel '" + channel_ + "' is left over from a server (pid " +
                                        std::to_string(peer_.pid()) + ") that is gone; remove it with " +
                                        "`ipcmark clean --channel " + channel_ + "`");
      board_->join_as_client();
    }
    scratch_.resize(board_->max_message());
  }

  ~BipMqConnection() override {
    // After our last send returned: the peer drains the queue, then sees the flag (peer_board.hpp).
    if (board_) board_->mark_closed(side_);
  }

  void accept(Deadline deadline) override {
    if (side_ == Side::Client) {
      const std::byte hello{1};
      send_raw(std::span(&hello, 1), kHelloPriority, deadline, "the server to take the handshake");
      return;
    }
    const Queue::Received got = receive_raw(scratch_, deadline, "the client to connect");
    if (got.priority != kHelloPriority || got.size != 1)
      throw Error(Errc::Corrupt, "bip-mq channel '" + channel_ + "': the first message is not an ipcmark hello");
    refresh_peer();
    if (peer_.pid() == 0)
      throw Error(Errc::Corrupt, "bip-mq channel '" + channel_ + "': the client said hello without leaving its pid");
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    if (message.empty() || message.size() > max_message_) throw_size(message.size(), max_message_);
    send_raw(message, kDataPriority, deadline, "the reader to make room");
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    // Boost wants room for the queue's largest message, which may exceed what this side asked for.
    const bool direct = buffer.size() >= scratch_.size();
    const Queue::Received got = receive_raw(direct ? buffer : std::span(scratch_), deadline, "data");
    if (got.priority != kDataPriority || got.size == 0 || got.size > max_message_ || got.size > buffer.size())
      throw Error(Errc::Corrupt, "bip-mq channel '" + channel_ + "' delivered a message of " +
                                     std::to_string(got.size) + " bytes at priority " + std::to_string(got.priority) +
                                     " (expected 1.." + std::to_string(std::min(max_message_, buffer.size())) +
                                     " at priority " + std::to_string(kDataPriority) + ")");
    if (!direct) std::memcpy(buffer.data(), scratch_.data(), got.size);
    return got.size;
  }

 private:
  Queue& out() { return side_ == Side::Server ? *s2c_ : *c2s_; }
  Queue& in() { return side_ == Side::Server ? *c2s_ : *s2c_; }
  Side other() const { return side_ == Side::Server ? Side::Client : Side::Server; }

  void send_raw(std::span<const std::byte> message, unsigned priority, Deadline deadline, const char* waiting_for) {
    for (;;) {
      if (peer_guarded([&] { return out().send(message, priority, slice_end(deadline, kPeerCheck)); })) return;
      check_wait(deadline, waiting_for);
    }
  }

  Queue::Received receive_raw(std::span<std::byte> into, Deadline deadline, const char* waiting_for) {
    Queue::Received got{};
    for (;;) {
      if (peer_guarded([&] { return in().receive(into, got, slice_end(deadline, kPeerCheck)); })) return got;
      // It may have sent its last message between our slice's end and its leaving: take it first.
      if (peer_left() && peer_guarded([&] { return in().receive(into, got, slice_end(Clock::now(), {})); }))
        return got;
      check_wait(deadline, waiting_for);
    }
  }

  // A queue operation that failed (Corrupt: its lock could not be taken) because the peer died
  // holding the lock is the peer's death, and says so. The lock learns of the death before the
  // peer's pidfd does (process.hpp), so the peer gets a moment to be seen gone.
  template <class Op>
  bool peer_guarded(Op&& op) {
    try {
      return op();
    } catch (const Error& e) {
      if (e.code() == Errc::Corrupt && peer_left(kDeathSeen))
        throw Error(Errc::PeerGone, std::string(e.what()) + "; the peer process (pid " + std::to_string(peer_.pid()) +
                                        ") has exited");
      throw;
    }
  }

  // The server learns the client's pid from the board once the client has joined.
  void refresh_peer() {
    if (peer_.pid() != 0) return;
    if (const pid_t pid = board_->pid_of(other()); pid > 0) peer_ = PeerProcess(pid);
  }

  // Whether the peer has exited or closed its end; `patience` for a peer known to be dying.
  bool peer_left(std::chrono::milliseconds patience = std::chrono::milliseconds(0)) {
    refresh_peer();
    return peer_.gone_within(patience) || board_->closed(other());
  }

  void check_wait(Deadline deadline, const char* waiting_for) {
    if (peer_.gone())
      throw Error(Errc::PeerGone, "the peer process (pid " + std::to_string(peer_.pid()) + ") has exited");
    if (board_->closed(other())) throw Error(Errc::PeerGone, "the peer closed the bip-mq channel");
    if (Clock::now() >= deadline) throw Error(Errc::Timeout, std::string("timed out waiting for ") + waiting_for);
  }

  std::string channel_;
  Side side_;
  std::size_t max_message_;
  // Declared in the order of removal on destruction: the board (the "channel exists" marker)
  // goes last; optional, because client and server make them in different orders.
  std::optional<PeerBoard> board_;
  std::optional<Queue> s2c_, c2s_;
  std::vector<std::byte> scratch_;  // the queue's max_message bytes: hello, and short buffers
  PeerProcess peer_;                // none until known: nothing to check
};

// The one-shot demo: one queue, <channel>.bq-news, one message deep. The server keeps it topped
// up with a copy of the message (a timed_send that waits while it is full, in 50 ms slices so
// stop() is checked); each reader takes one copy. A crashed server leaves its queue behind until
// `ipcmark clean`.
class BipMqPublication final : public Publication {
 public:
  BipMqPublication(const std::string& channel, std::span<const std::byte> message, bool replace)
      : message_(message.begin(), message.end()),
        queue_([&] {
          const std::string name = object_name(channel, ".bq-news");
          if (replace) Queue::remove(name);
          return Queue::create(channel, name, message.size(), 1);
        }()) {
    top_up(Clock::now());  // a reader arriving before serve_readers() still gets it
  }

  void serve_readers(bool (*stop)()) override {
    while (!stop()) top_up(Clock::now() + kPublishPoll);
  }

 private:
  void top_up(Deadline until) { queue_.send(message_, 0, slice_end(until, kPublishPoll)); }

  std::vector<std::byte> message_;
  Queue queue_;
};

std::unique_ptr<Connection> serve(const ChannelConfig& config) {
  return std::make_unique<BipMqConnection>(config, Side::Server);
}

std::unique_ptr<Connection> connect(const ChannelConfig& config) {
  return std::make_unique<BipMqConnection>(config, Side::Client);
}

void remove(const std::string& channel) {
  for (const char* suffix : {".bq-s2c", ".bq-c2s", ".bq-news"}) Queue::remove(object_name(channel, suffix));
  shm::SharedRegion::remove(object_name(channel, ".bq-peers"));
}

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size, std::span<const std::byte> message,
                                     bool replace) {
  check_publish_size(message.size(), size);
  if (message.empty() || message.size() > bip_mq::kMaxMessage) throw_size(message.size(), bip_mq::kMaxMessage);
  return std::make_unique<BipMqPublication>(channel, message, replace);
}

std::string fetch(const std::string& channel, Deadline deadline) {
  const std::string name = object_name(channel, ".bq-news");
  std::optional<Queue> queue;
  try {
    queue.emplace(Queue::open(name, bip_mq::layout_of(bip_mq::kMaxMessage, 1).total));
  } catch (const Error& e) {
    if (e.code() != Errc::DoesNotExist) throw;
    throw Error(Errc::DoesNotExist, "bip-mq channel '" + channel + "' does not exist (is the server running?)");
  }
  std::string text(queue->max_message(), '\0');
  Queue::Received got{};
  while (!queue->receive(std::as_writable_bytes(std::span(text)), got, slice_end(deadline, kPublishPoll)))
    if (Clock::now() >= deadline) throw Error(Errc::Timeout, "timed out waiting for the server to send the message");
  text.resize(got.size);
  return text;
}

}  // namespace

const Transport& bip_mq_transport() {
  static const Transport transport{
      .name = "bip-mq",
      .summary = "Boost.Interprocess message_queue in /dev/shm, one per direction; 64 messages deep "
                 "(fewer past 128 KiB: at most 8 MiB per queue, at least 2)",
      .has_wait_modes = false,
      .max_message = bip_mq::kMaxMessage,
      .channel = {.serve = &serve, .connect = &connect, .remove = &remove},
      .seed = {.publish = &publish, .fetch = &fetch},
  };
  return transport;
}

}  // namespace ipcmark
