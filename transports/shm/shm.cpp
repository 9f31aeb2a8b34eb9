// transports/shm/shm.cpp — the "shm" Transport: Connections over two rings, and the seed demo.
//
// A channel is one region "/<channel>" split into two equal rings (ring_layout.hpp):
//   [server→client ring][client→server ring]
// The first ring's header also carries the channel fields: pids, wait modes, closed flags.
// Handshake: serve() lays out the second ring, then the first, whose magic (release) says "ready".
// connect() claims the channel by CAS on client_waits (so a second client fails cleanly), then
// publishes client_pid (release) and wakes accept(), which sleeps on that word.
//
// Request/reply channels (ChannelConfig::request_reply on both sides, messages of 1 KiB or more:
// kRequestReplyMinMessage): the server writes a reply that fits over the request it answers into
// that request's own bytes in the client→server ring and publishes only an InPlace header in its
// own ring; the client reads the reply where it wrote its request. The reply's lines are then
// lines the server has just read, not lines of another ring it must first fetch from the client's
// cache (the gap to a one-buffer ping-pong: docs/notes-2026-12-06-shm-sizes.md). Safe because
// each side keeps its turn: the client does not write its ring again until it has taken the
// reply, so the request's bytes stay the server's though the server has given their room back.
// Turns are enforced on both sides.
#include "transports/shm/shm.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <type_traits>

#include "transports/names.hpp"
#include "transports/shm/arrival_forecast.hpp"
#include "transports/shm/doorbell.hpp"
#include "transports/shm/fanout.hpp"
#include "transports/shm/region.hpp"
#include "transports/shm/spsc_ring.hpp"
#include "transports/shm/wait.hpp"

namespace ipcmark {
namespace {

using namespace shm;

// 16 MiB: default_capacity() gives 64 MiB per ring and a channel holds two, so the largest channel
// asks /dev/shm for 128 MiB, which any desktop or CI runner has (Docker's default 64 MiB does not,
// and serve() then fails with an error naming the size). Beyond this, a message measures memcpy
// bandwidth rather than IPC.
constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;
// Channels for messages this large or larger take request_reply; smaller ones ignore it, as other
// transports do. A small message spans a line or two, so a reply in place saves little, and the
// turns' bookkeeping made 64 B round trips slower on CPUs close together (measured:
// docs/notes-2026-12-06-shm-sizes.md).
constexpr std::size_t kRequestReplyMinMessage = 1024;

bool takes_request_reply(const ChannelConfig& config, std::size_t channel_max_message) {
  return config.request_reply && channel_max_message >= kRequestReplyMinMessage;
}
// How long connect() gives a server that has created the region but not yet laid it out.
constexpr auto kInitialiseGrace = std::chrono::seconds(1);

enum class Side { Server, Client };

std::uint32_t waits_code(WaitKind wait) { return static_cast<std::uint32_t>(wait) + 1; }
WaitKind wait_of(std::uint32_t code) { return static_cast<WaitKind>(code - 1); }  // code in 1..kWaitsLast

// The waits that sleep on a doorbell need one on both sides; the others mix (a spinning peer
// never needs waking, a futex sleeper is woken the same way by both).
bool waits_mix(WaitKind a, WaitKind b) { return a == b || (!uses_doorbell(a) && !uses_doorbell(b)); }

[[noreturn]] void corrupt(const std::string& channel, const std::string& what) {
  throw Error(Errc::Corrupt, "corrupt region '" + channel + "': " + what);
}

// The pid word is an int32 but futexes compare raw 32-bit words; signed/unsigned aliasing is allowed.
std::uint32_t* futex_word(std::int32_t& word) { return reinterpret_cast<std::uint32_t*>(&word); }

struct Rings {
  std::span<std::byte> to_client;
  std::span<std::byte> to_server;
};

Rings split(const SharedRegion& region) {
  const std::span<std::byte> bytes = region.bytes();
  // Two rings of kHeaderBytes + a power of two >= 128 each: the size is a multiple of 256.
  if (bytes.size() % (2 * kBlockBytes) != 0 || bytes.size() < 2 * kHeaderBytes)
    corrupt(region.name(), "size of " + std::to_string(bytes.size()) + " bytes is not two equal rings");
  const std::size_t half = bytes.size() / 2;
  return {bytes.first(half), bytes.subspan(half)};
}

// The ring that `writer` writes and its peer reads.
std::span<std::byte> ring_written_by(Side writer, const SharedRegion& region) {
  const Rings rings = split(region);
  return writer == Side::Server ? rings.to_client : rings.to_server;
}

Side other(Side side) { return side == Side::Server ? Side::Client : Side::Server; }

template <class Wait>
class ShmConnection final : public Connection {
 public:
  // Validates both rings. A client also checks `config` against the channel and joins it.
  ShmConnection(SharedRegion region, Side side, const ChannelConfig& config, ChannelBells bells)
      : region_(std::move(region)),
        out_(ring_written_by(side, region_), region_.name()),
        in_(ring_written_by(other(side), region_), region_.name()),
        channel_(&ring_header(ring_written_by(Side::Server, region_))),
        side_(side),
        own_closed_(side == Side::Server ? &channel_->server_closed : &channel_->client_closed),
        wait_(config.wait),
        request_reply_(takes_request_reply(config, out_.max_message())),
        bells_(std::move(bells)) {
    // Only block polls before it sleeps; futex, eventfd, sem and uds sleep at once.
    if (wait_ != WaitKind::Block) peer_.block_spin_polls = 0;
    if (side == Side::Server) {
      peer_.closed = &channel_->client_closed;  // the pid arrives in accept()
    } else {
      // Checked before joining: once joined, the server counts on us.
      if (config.max_message > out_.max_message())
        throw Error(Errc::MessageTooLarge, "max_message of " + std::to_string(config.max_message) +
                                               " bytes exceeds the " + std::to_string(out_.max_message()) +
                                               " bytes channel '" + region_.name() + "' was created for");
      join(config.wait);
    }
    peer_.region = &region_;
  }

  ~ShmConnection() override {
    // release: a peer that sees "closed" also sees everything we published before it.
    std::atomic_ref(*own_closed_).store(1, std::memory_order_release);
    // Wake the peer wherever it may sleep on us, so it notices now rather than after kMaxSleep.
    out_.wake_reader();
    in_.wake_writer();
  }

  void accept(Deadline deadline) override {
    if (side_ == Side::Client || peer_.pid != 0) return;
    std::atomic_ref pid_word(channel_->client_pid);
    Patience patience(WaitSpec{deadline, Peer{.region = &region_}, "the client"});
    for (;;) {
      // acquire: pairs with the client's release store; its client_waits is visible after this.
      const std::int32_t pid = pid_word.load(std::memory_order_acquire);
      if (pid != 0) return region_.guarded([&] { accepted(pid, deadline); });  // not a pid made of zeros
      if (!patience.keep_waiting()) patience.give_up();
      futex_wait(futex_word(channel_->client_pid), 0, patience.sleep_budget(kMaxSleep));
    }
  }

  // Every operation goes through region_.guarded(): once a peer has truncated the region, what
  // the rings read was zeros, and the truncation is the error to report (region.hpp). A message
  // just read is also followed by region_.check_truncation(): it may have been read from zeros.
  // A writer needs no such check: it learns of the truncation when it waits, or when the ring's
  // head, now zero, is out of range.
  void send(std::span<const std::byte> message, Deadline deadline) override {
    if (request_reply_) return send_in_turn(message, deadline);
    region_.guarded([&] { out_.send<Wait>(message, deadline, peer_); });
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    if (request_reply_) return receive_in_turn(buffer, deadline);
    return receive_copied(buffer, deadline, RingReader::Memcpy{});
  }

  // The caller's copy takes the place of the ring's memcpy. A request/reply channel's receive
  // (the ping-pong's) is the default's, receive(): its callers check their echo later, off the
  // round trip (harness/run/peer.cpp).
  std::size_t receive_through(std::span<std::byte> buffer, Deadline deadline, CopyOut& out) override {
    if (request_reply_) return Connection::receive_through(buffer, deadline, out);
    return receive_copied(buffer, deadline,
                          [&out](std::span<std::byte> to, std::span<const std::byte> from) { out.copy(to, from); });
  }

  // The caller makes the message as it is copied into the record (a loan of the ring's own). A
  // request/reply channel's is the default's: made, then send().
  void send_through(std::span<std::byte> message, Deadline deadline, CopyIn& in) override {
    if (request_reply_) return Connection::send_through(message, deadline, in);
    region_.guarded([&] {
      in.make_and_copy(message, out_.loan<Wait>(message.size(), deadline, peer_));
      out_.commit();
    });
  }

  // Zero-copy: the rings lend their own memory. The ring refuses a second loan or view; a commit
  // or release with nothing outstanding is refused here (the ring's own are noexcept no-ops).
  std::span<std::byte> loan(std::size_t size, Deadline deadline) override {
    if (request_reply_) return loan_in_turn(size, deadline);
    return region_.guarded([&] { return out_.loan<Wait>(size, deadline, peer_); });
  }

  void commit() override {
    if (!out_.has_loan()) throw Error(Errc::InvalidArgument, "commit() without a loan on '" + region_.name() + "'");
    out_.commit();
    if (request_reply_) sent_turn(loaned_);
  }

  std::span<const std::byte> view(Deadline deadline) override {
    if (request_reply_) return view_in_turn(deadline);
    const std::span<const std::byte> viewed =
        region_.guarded([&] { return next([&](const Peer& peer) { return in_.view<Wait>(deadline, peer); }); });
    region_.check_truncation();
    return viewed;
  }

  void release() override {
    if (!in_.has_view()) throw Error(Errc::InvalidArgument, "release() without a view on '" + region_.name() + "'");
    in_.release();
    region_.check_truncation();  // the viewed bytes may have been zeros
  }

 private:
  static constexpr bool kBlocks = std::is_same_v<Wait, BlockWait>;

  // A stream's receive, the payload copied out by `copy` (receive(), receive_through()).
  template <class Copy>
  std::size_t receive_copied(std::span<std::byte> buffer, Deadline deadline, Copy&& copy) {
    const std::size_t n = region_.guarded(
        [&] { return next([&](const Peer& peer) { return in_.receive<Wait>(buffer, deadline, peer, copy); }); });
    region_.check_truncation();
    return n;
  }

  // ---- request/reply turns (see the top of this file) ----
  // Out of line, so that a stream's send(), receive(), loan() and view() compile as they did
  // before turns existed (loan() had stopped inlining the ring's loan: perf, the notes).
  [[gnu::noinline]] std::size_t receive_in_turn(std::span<std::byte> buffer, Deadline deadline) {
    check_turn_to_receive();
    const std::size_t n = region_.guarded(
        [&] { return next([&](const Peer& peer) { return in_.receive<Wait, true>(buffer, deadline, peer); }); });
    took_turn();
    region_.check_truncation();
    return n;
  }

  [[gnu::noinline]] std::span<const std::byte> view_in_turn(Deadline deadline) {
    check_turn_to_receive();
    const std::span<const std::byte> viewed = region_.guarded(
        [&] { return next([&](const Peer& peer) { return in_.view<Wait, true>(deadline, peer); }); });
    took_turn();
    region_.check_truncation();
    return viewed;
  }

  // A server's loan that fits over the request it answers is that request's own bytes.
  [[gnu::noinline]] std::span<std::byte> loan_in_turn(std::size_t size, Deadline deadline) {
    check_turn_to_send();
    if (side_ == Side::Server && size <= request_.size()) {
      region_.guarded([&] { out_.loan_in_place<Wait>(size, deadline, peer_); });
      return request_.first(size);
    }
    const std::span<std::byte> loaned = region_.guarded([&] { return out_.loan<Wait>(size, deadline, peer_); });
    if (side_ == Side::Client) loaned_ = loaned;
    return loaned;
  }

  [[gnu::noinline]] void send_in_turn(std::span<const std::byte> message, Deadline deadline) {
    check_turn_to_send();
    if (side_ == Side::Server && !message.empty() && message.size() <= request_.size()) {
      region_.guarded([&] {
        if (message.data() != request_.data()) copy_into_record(request_.data(), message);
        out_.send_in_place<Wait>(message.size(), deadline, peer_);
      });
      sent_turn({});
    } else {
      sent_turn(region_.guarded([&] { return out_.send<Wait>(message, deadline, peer_); }));
    }
  }

  void check_turn_to_send() const {
    if (side_ == Side::Server ? request_.data() == nullptr : awaiting_reply_ || in_.has_view())
      out_of_turn(side_ == Side::Server ? "the server sends one reply per request it has received"
                                        : "the client takes the reply to its request before sending another");
  }
  void check_turn_to_receive() const {
    if (side_ == Side::Server ? request_.data() != nullptr : !awaiting_reply_)
      out_of_turn(side_ == Side::Server ? "the server replies to a request before receiving another"
                                        : "the client sends a request before receiving");
  }
  [[noreturn]] void out_of_turn(const std::string& rule) const {
    throw Error(Errc::InvalidArgument, "channel '" + region_.name() + "' carries requests and replies in turn: " + rule);
  }
  // After a send or commit: the server has answered; the client expects its reply (in place, in
  // `request`, the payload it has just published, or as a record of the server's ring).
  void sent_turn(std::span<std::byte> request) noexcept {
    if (side_ == Side::Server) {
      request_ = {};
    } else {
      awaiting_reply_ = true;
      in_.expect_reply_in(request);
    }
  }
  // After a receive or view: the server holds a request to answer; the client has its reply.
  void took_turn() noexcept {
    if (side_ == Side::Server) request_ = in_.last_payload();
    else awaiting_reply_ = false;
  }

  // receive() and view(): a message already there is taken at once. Before waiting for one, our
  // last message is handed over (demote_last_record), and a blocking reader plans its sleep by its
  // forecast of the next arrival, then tells the forecast how the wait went.
  template <class Take>
  auto next(Take take) {
    if (in_.ready()) {
      if constexpr (kBlocks) forecast_.interrupted();
      return take(peer_);
    }
    out_.demote_last_record();
    if constexpr (!kBlocks) {
      return take(peer_);
    } else {
      // Sharing our only CPU with the peer, BlockWait never anticipates: spare the bookkeeping
      // (a clock read and the forecast's arithmetic after every wake-up, 2-3% of a round trip).
      if (peer_.block_spin_polls == 0) return take(peer_);
      Anticipation plan{forecast_.wake_at()};
      Peer peer = peer_;
      peer.anticipation = &plan;
      auto taken = take(peer);
      forecast_.waited(plan);
      return taken;
    }
  }

  void accepted(std::int32_t pid, Deadline deadline) {
    if (pid < 0) corrupt(region_.name(), "client_pid " + std::to_string(pid) + " is not a process id");
    const std::uint32_t waits = std::atomic_ref(channel_->client_waits).load(std::memory_order_relaxed);
    // The client checked that its wait mixes with ours before it claimed the channel.
    if (waits < kWaitsSpin || waits > kWaitsLast || !waits_mix(wait_of(waits), wait_))
      corrupt(region_.name(), "client wait mode " + std::to_string(waits) + " does not go with the server's " +
                                  std::string(to_string(wait_)));
    peer_process_ = PeerProcess(pid);  // at once: the sooner it is open, the less a reused pid can fool it
    peer_.pid = pid;
    peer_.process = &peer_process_;
    if (shares_only_cpu_with(pid)) peer_.block_spin_polls = 0;
    bells_.accept(peer_process_, deadline, own_semaphore(), peer_semaphore());
    ring_doorbells(waits);
  }

  // Where the semaphores of --wait sem are: ours in the ring we read, the peer's in the one we write.
  std::byte* own_semaphore() const { return ring_written_by(other(side_), region_).data() + kSemOffset; }
  std::byte* peer_semaphore() const { return ring_written_by(side_, region_).data() + kSemOffset; }

  void ring_doorbells(std::uint32_t peer_waits) {
    out_.set_peer_may_sleep(peer_waits != kWaitsSpin);
    in_.set_peer_may_sleep(peer_waits != kWaitsSpin);
    out_.set_doorbells(bells_.own(), bells_.peer());
    in_.set_doorbells(bells_.own(), bells_.peer());
  }

  void join(WaitKind wait) {
    const std::string& name = region_.name();
    // Written before the magic that RingView acquired: plain-ordered reads are enough.
    const std::int32_t server_pid = std::atomic_ref(channel_->server_pid).load(std::memory_order_relaxed);
    const std::uint32_t server_waits = std::atomic_ref(channel_->server_waits).load(std::memory_order_relaxed);
    if (server_pid <= 0) corrupt(name, "server_pid " + std::to_string(server_pid) + " is not a process id");
    if (server_waits < kWaitsSpin || server_waits > kWaitsLast)
      corrupt(name, "server wait mode " + std::to_string(server_waits) + " is unknown");
    const std::uint32_t request_reply = std::atomic_ref(channel_->request_reply).load(std::memory_order_relaxed);
    if (request_reply > 1) corrupt(name, "request_reply is " + std::to_string(request_reply) + ", not 0 or 1");
    if ((request_reply == 1) != request_reply_)
      throw Error(Errc::InvalidArgument, "channel '" + name + "' " +
                                             (request_reply == 1 ? "carries requests and replies in turn, this client does not"
                                                                 : "does not carry requests and replies in turn, this client does"));
    if (!waits_mix(wait, wait_of(server_waits)))
      throw Error(Errc::InvalidArgument, "channel '" + name + "' waits with " + std::string(to_string(wait_of(server_waits))) +
                                             ", this client with " + std::string(to_string(wait)) +
                                             ": eventfd, sem and uds need the same wait on both sides");
    peer_process_ = PeerProcess(server_pid);  // first: the sooner it is open, the less a reused pid can fool it
    if (std::atomic_ref(channel_->server_closed).load(std::memory_order_acquire) != 0)
      throw Error(Errc::PeerGone, "peer process " + std::to_string(server_pid) + " closed the channel");
    if (peer_process_.gone()) throw Error(Errc::PeerGone, "peer process " + std::to_string(server_pid) + " is gone");
    // Before claiming: the server takes only the connection of the client that published its pid.
    bells_ = ChannelBells::connect(name, wait, own_semaphore(), peer_semaphore());
    // Claim the channel: only one client may ever succeed. acq_rel: ordered before the pid store.
    std::uint32_t unclaimed = 0;
    if (!std::atomic_ref(channel_->client_waits)
             .compare_exchange_strong(unclaimed, waits_code(wait), std::memory_order_acq_rel)) {
      const std::int32_t other = std::atomic_ref(channel_->client_pid).load(std::memory_order_acquire);
      throw Error(Errc::AlreadyExists,
                  "shared memory channel '" + name + "' already has a client (process " + std::to_string(other) + ")");
    }
    // release: accept() acquires this, and with it our client_waits.
    std::atomic_ref(channel_->client_pid).store(static_cast<std::int32_t>(::getpid()), std::memory_order_release);
    futex_wake_all(futex_word(channel_->client_pid));
    peer_.pid = server_pid;
    peer_.closed = &channel_->server_closed;
    peer_.process = &peer_process_;
    if (shares_only_cpu_with(server_pid)) peer_.block_spin_polls = 0;
    ring_doorbells(server_waits);
  }

  SharedRegion region_;  // first member: the mapping outlives every pointer into it
  RingWriter out_;       // constructed (validated) before channel_ is used
  RingReader in_;
  RingHeader* channel_;  // the first ring's header, with the channel fields
  Side side_;
  std::uint32_t* own_closed_;
  WaitKind wait_;
  bool request_reply_;  // taken: asked for, and the channel's messages large enough (takes_request_reply)
  std::span<std::byte> request_;  // server, request/reply: the request to answer, in place if it fits
  bool awaiting_reply_ = false;   // client, request/reply: a request sent, its reply not taken yet
  std::span<std::byte> loaned_;   // client, request/reply: the loan being filled, the next request
  ChannelBells bells_;        // --wait eventfd, sem, uds: the rings point at its doorbells
  PeerProcess peer_process_;  // opened at accept() (server) or join (client); peer_ points at it
  Peer peer_;
  ArrivalForecast forecast_;  // BlockWait only: when the next message is due
};

// The one place where the wait policy is chosen: everything below is compiled once per policy.
// (BlockWait also runs futex, eventfd, sem and uds: Peer::block_spin_polls 0, the rings' doorbells.)
std::unique_ptr<Connection> make_connection(SharedRegion region, Side side, const ChannelConfig& config,
                                            ChannelBells bells = {}) {
  if (config.wait == WaitKind::Spin)
    return std::make_unique<ShmConnection<SpinWait>>(std::move(region), side, config, std::move(bells));
  return std::make_unique<ShmConnection<BlockWait>>(std::move(region), side, config, std::move(bells));
}

std::unique_ptr<Connection> serve(const ChannelConfig& config) {
  validate_channel_name(config.channel);
  if (config.max_message == 0) throw Error(Errc::InvalidArgument, "max_message must be at least 1 byte");
  if (config.max_message > kMaxMessage)
    throw Error(Errc::MessageTooLarge, "max_message of " + std::to_string(config.max_message) +
                                           " bytes exceeds the shm transport's limit of " +
                                           std::to_string(kMaxMessage) + " bytes");
  const bool request_reply = takes_request_reply(config, config.max_message);
  const std::uint64_t capacity =
      request_reply ? request_reply_capacity(config.max_message) : default_capacity(config.max_message);
  SharedRegion region = SharedRegion::create(config.channel, 2 * ring_bytes(capacity));
  const Rings rings = split(region);
  const auto max_message = static_cast<std::uint32_t>(config.max_message);
  // Listening before the region is published: a client that sees it ready may connect at once.
  ChannelBells bells = ChannelBells::serve(config.channel, config.wait);
  // The client treats the first ring's magic as "the region is ready", so that ring comes last.
  initialise_ring(rings.to_server, RingParams{capacity, max_message});
  initialise_ring(rings.to_client, RingParams{capacity, max_message, static_cast<std::int32_t>(::getpid()),
                                              waits_code(config.wait), request_reply ? 1u : 0u});
  return make_connection(std::move(region), Side::Server, config, std::move(bells));
}

// The largest region serve() makes: two rings for the largest message. connect() maps (and
// populates) no more than this; split() and the rings check the exact size against the header.
std::size_t largest_channel() { return 2 * ring_bytes(default_capacity(kMaxMessage)); }

// Opens the channel, giving a server caught between shm_open and its first magic a moment.
SharedRegion open_ready(const std::string& channel) {
  const Deadline give_up = Clock::now() + kInitialiseGrace;
  for (;;) {
    SharedRegion region = SharedRegion::open(channel, largest_channel());  // DoesNotExist at once
    if (region.size() >= sizeof(RingHeader)) {
      // acquire: pairs with initialise_ring's release; the rings are validated after this anyway.
      const auto magic = std::atomic_ref(ring_header(region.bytes()).magic).load(std::memory_order_acquire);
      if (magic != 0) return region;  // a wrong non-zero magic is reported by the ring's validation
    }
    if (Clock::now() >= give_up)
      corrupt(channel, "it was never initialised (its server may have died while creating it: run `ipcmark clean`)");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::unique_ptr<Connection> connect(const ChannelConfig& config) {
  return make_connection(open_ready(config.channel), Side::Client, config);
}

void remove(const std::string& channel) {
  SharedRegion::remove(channel);
  remove_bell_socket(channel);
}

// ---- the seed demo: raw bytes at offset 0, no header, readable by any program mapping the file ----

class ShmPublication final : public Publication {
 public:
  explicit ShmPublication(SharedRegion region) : region_(std::move(region)) {}
  void serve_readers(bool (*stop)()) override {
    // Readers map the region themselves; all we do is keep the name alive until told to stop.
    while (!stop()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

 private:
  SharedRegion region_;  // unlinks the name when destroyed
};

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size, std::span<const std::byte> message,
                                     bool replace) {
  validate_channel_name(channel);
  if (size < message.size())
    throw Error(Errc::InvalidArgument, "region size of " + std::to_string(size) + " bytes cannot hold the " +
                                           std::to_string(message.size()) + "-byte message");
  SharedRegion region = SharedRegion::create(channel, size, replace);  // zero-filled
  if (!message.empty()) std::memcpy(region.bytes().data(), message.data(), message.size());
  return std::make_unique<ShmPublication>(std::move(region));
}

std::string fetch(const std::string& channel, Deadline /*deadline: opening never waits*/) {
  // The seed's regions have any size publish() was given: at most what /dev/shm can hold.
  const SharedRegion region = SharedRegion::open(channel, SharedRegion::largest_possible());
  const std::span<const std::byte> bytes = region.bytes();
  std::size_t length = bytes.size();
  while (length > 0 && bytes[length - 1] == std::byte{0}) --length;  // the zero fill after the text
  return std::string(reinterpret_cast<const char*>(bytes.data()), length);
}

}  // namespace

const Transport& shm_transport() {
  static const Transport transport{
      .name = "shm",
      .summary = "POSIX shared memory SPSC ring (shm_open+mmap); waits: spin, block, futex, eventfd, sem, uds",
      .has_wait_modes = true,
      .block_polls_first = true,
      .max_message = kMaxMessage,
      .zero_copy = true,
      .channel = {.serve = &serve, .connect = &connect, .remove = &remove},
      .seed = {.publish = &publish, .fetch = &fetch},
      .fanout = &shm_fanout(),
  };
  return transport;
}

}  // namespace ipcmark
