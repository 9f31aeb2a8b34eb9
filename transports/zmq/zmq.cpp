// transports/zmq/zmq.cpp — ZeroMQ (libzmq via cppzmq) PAIR sockets: "zmq" over ipc:// (a unix
// socket file) and "zmq-tcp" over tcp://127.0.0.1 on an ephemeral port.
//
// Chosen for speed: one PAIR socket per side carries both directions (PAIR is the 1:1
// pattern: no routing envelope, no REQ/REP lock-step). Each side has its own context with
// one I/O thread. send() hands the caller's bytes to zmq_send (libzmq copies them into its
// own message; zero-copy zmq_send_const would need the buffer to outlive the call). receive()
// reads straight into the caller's buffer with zmq_recv — no message_t per message — and a
// truncated result (peer sent more than the buffer) is Corrupt. Both try ZMQ_DONTWAIT first
// and fall back to zmq_poll only when nothing is ready, in slices of at most 10 ms, so every
// wait is bounded by its deadline.
//
// Back-pressure: PAIR never drops; at ZMQ_SNDHWM a send would block (we see EAGAIN and poll
// POLLOUT). The high-water marks are sized from max_message (64 MiB worth of messages,
// 4..1000) so a closed-loop stream blocks instead of ballooning memory with big messages.
// ZMQ_LINGER: zmq_send returns before the bytes leave the process (libzmq's I/O thread writes
// them), so a linger of 0 would discard a sender's last messages when it closes right after
// sending — breaking "exactly once". While the peer lives, closing lingers up to 1 s to flush;
// once the peer is gone (or never shook hands) it is 0, so closing never waits for a dead peer.
// A receiver that finds the peer gone still drains for up to 100 ms before PeerGone, so data
// flushed by a peer that then exited is delivered first.
//
// What ZeroMQ cannot do: it has no peer-death signal on PAIR (it silently reconnects), and
// connect() is asynchronous and never fails. So: connect() checks the endpoint file exists
// first (DoesNotExist at once); accept() is a handshake — the client sends a 12-byte hello
// carrying its pid, the server answers with its own — so the server never sends into the
// void, and while waiting each side checks the peer pid (kill(pid, 0) plus a zombie check in
// /proc) about every 10 ms for PeerGone. A peer that closes its socket but keeps running
// cannot be told from a slow one: that ends in Timeout.
//
// Names (in the private runtime dir): "zmq" binds <channel>.zmq. libzmq's ipc bind silently
// replaces an existing file and unlinks it on close even if a successor replaced it, so we
// bind the unix socket ourselves (bind() fails with EADDRINUSE if the name exists: an atomic
// AlreadyExists) and hand it to libzmq with ZMQ_USE_FD, which then leaves the file alone; we
// unlink it on close only if it is still ours (same inode). "zmq-tcp" binds
// tcp://127.0.0.1:* and writes the port chosen (ZMQ_LAST_ENDPOINT) into <channel>.zmqtcp,
// created O_EXCL mode 0600: that file is the channel's name. The one-shot demo uses a REP
// socket on <channel>.zmq-news / <channel>.zmqtcp-news; a reader's REQ asks, gets one copy.
// The fanout (XPUB/SUB) is in zmq_fanout.cpp; what both use is in zmq_common.hpp.
#include "transports/zmq/zmq.hpp"

#include <unistd.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "transports/common/process.hpp"
#include "transports/names.hpp"
#include "transports/zmq/zmq_common.hpp"
#include "transports/zmq/zmq_fanout.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using namespace zmq_common;  // names, endpoints, bounded waits: shared with zmq_fanout.cpp

constexpr auto kPublishPoll = 50ms;    // serve_readers' stop() cadence
constexpr int kPublishLingerMs = 200;  // let the last reader's answer out

// The handshake message: magic and the sender's pid.
constexpr std::array<char, 8> kHelloMagic{'i', 'p', 'c', 'm', 'z', 'm', 'q', '1'};
constexpr std::size_t kHelloSize = kHelloMagic.size() + sizeof(std::int32_t);

class ZmqConnection final : public Connection {
 public:
  ZmqConnection(const Flavor& flavor, const ChannelConfig& config, bool is_server)
      : flavor_(flavor), channel_(config.channel), is_server_(is_server), max_message_(config.max_message) {
    validate_channel_name(config.channel);
    check_max_message(flavor, config.max_message);
    try {
      const int hwm = high_water_mark(config.max_message);
      socket_.set(zmq::sockopt::linger, 0);
      socket_.set(zmq::sockopt::sndhwm, hwm);
      socket_.set(zmq::sockopt::rcvhwm, hwm);
      if (is_server_)
        name_ = bind_endpoint(flavor_, socket_, channel_, flavor_.suffix);
      else
        socket_.connect(connect_address(flavor_, channel_, flavor_.suffix));
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, is_server_ ? "zmq serve" : "zmq connect");
    }
  }

  ~ZmqConnection() override {
    // Flush what we sent while the peer can still take it; never wait for a dead peer.
    const bool peer_alive = peer_.pid() != 0 && !peer_.gone();
    try {
      socket_.set(zmq::sockopt::linger, peer_alive ? kCloseLingerMs : 0);
    } catch (const zmq::error_t&) {
    }
  }

  void accept(Deadline deadline) override {
    try {
      if (is_server_) {
        receive_hello(deadline, "the client to connect");
        send_hello(deadline);
      } else {
        send_hello(deadline);
        receive_hello(deadline, "the server to answer the handshake");
      }
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq handshake");
    }
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    check_size(message.size(), max_message_);
    try {
      for (;;) {
        if (socket_.send(zmq::const_buffer(message.data(), message.size()), zmq::send_flags::dontwait)) return;
        wait_ready(socket_, ZMQ_POLLOUT, deadline, peer_, "the peer to make room");
      }
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq send");
    }
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    try {
      for (;;) {
        if (const auto got = socket_.recv(zmq::mutable_buffer(buffer.data(), buffer.size()), zmq::recv_flags::dontwait)) {
          if (got->truncated())
            throw Error(Errc::Corrupt, std::string(flavor_.name) + " channel '" + channel_ + "' delivered " +
                                           std::to_string(got->untruncated_size) + " bytes into a buffer of " +
                                           std::to_string(buffer.size()));
          return got->size;
        }
        wait_ready(socket_, ZMQ_POLLIN, deadline, peer_, "data");
      }
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq receive");
    }
  }

 private:
  void send_hello(Deadline deadline) {
    std::array<char, kHelloSize> hello{};
    const std::int32_t pid = ::getpid();
    std::memcpy(hello.data(), kHelloMagic.data(), kHelloMagic.size());
    std::memcpy(hello.data() + kHelloMagic.size(), &pid, sizeof pid);
    while (!socket_.send(zmq::buffer(hello), zmq::send_flags::dontwait))
      wait_ready(socket_, ZMQ_POLLOUT, deadline, peer_, "the peer to take the handshake");
  }

  void receive_hello(Deadline deadline, const char* waiting_for) {
    std::array<char, kHelloSize + 1> hello{};
    for (;;) {
      if (const auto got = socket_.recv(zmq::buffer(hello), zmq::recv_flags::dontwait)) {
        if (got->untruncated_size != kHelloSize || std::memcmp(hello.data(), kHelloMagic.data(), kHelloMagic.size()))
          throw Error(Errc::Corrupt, std::string(flavor_.name) + " channel '" + channel_ +
                                         "': the peer's handshake is not an ipcmark hello");
        std::int32_t pid = 0;
        std::memcpy(&pid, hello.data() + kHelloMagic.size(), sizeof pid);
        peer_ = PeerProcess(pid);
        return;
      }
      wait_ready(socket_, ZMQ_POLLIN, deadline, peer_, waiting_for);
    }
  }

  const Flavor& flavor_;
  std::string channel_;
  bool is_server_;
  std::size_t max_message_;
  PeerProcess peer_;  // none until the handshake: nothing to check
  OwnedFile name_;      // destroyed after the socket below (members die in reverse order)
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::pair};
};

class ZmqPublication final : public Publication {
 public:
  ZmqPublication(const Flavor& flavor, const std::string& channel, std::span<const std::byte> message)
      : message_(message.begin(), message.end()) {
    try {
      socket_.set(zmq::sockopt::linger, kPublishLingerMs);
      name_ = std::make_unique<OwnedFile>(bind_endpoint(flavor, socket_, channel, flavor.news_suffix));
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq publish");
    }
  }

  ~ZmqPublication() override {
    socket_.close();  // before the name goes, so no reader connects to a half-closed socket
  }

  void serve_readers(bool (*stop)()) override {
    zmq::message_t request;
    while (!stop()) {
      zmq_pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      const int n = zmq_poll(&item, 1, std::chrono::milliseconds(kPublishPoll).count());
      if (n < 0 && zmq_errno() != EINTR) throw Error(Errc::System, std::string("zmq_poll: ") + zmq_strerror(zmq_errno()));
      if (n <= 0) continue;
      try {
        if (!socket_.recv(request, zmq::recv_flags::dontwait)) continue;
        // REP answers through a router: a reader that has gone is dropped, never waited for.
        (void)socket_.send(zmq::const_buffer(message_.data(), message_.size()), zmq::send_flags::dontwait);
      } catch (const zmq::error_t& e) {
        rethrow_zmq(e, "zmq serve readers");
      }
    }
  }

 private:
  std::vector<std::byte> message_;
  std::unique_ptr<OwnedFile> name_;
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::rep};
};

std::string fetch_with(const Flavor& f, const std::string& channel, Deadline deadline) {
  const std::string address = connect_address(f, channel, f.news_suffix);
  try {
    zmq::context_t context{1};
    zmq::socket_t socket{context, zmq::socket_type::req};
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(address);
    const char ask = '?';
    while (!socket.send(zmq::const_buffer(&ask, 1), zmq::send_flags::dontwait))
      wait_ready(socket, ZMQ_POLLOUT, deadline, PeerProcess{}, "the server to accept the reader");
    zmq::message_t reply;
    while (!socket.recv(reply, zmq::recv_flags::dontwait))
      wait_ready(socket, ZMQ_POLLIN, deadline, PeerProcess{}, "the server to send the message");
    return reply.to_string();
  } catch (const zmq::error_t& e) {
    rethrow_zmq(e, "zmq fetch");
  }
}

template <const Flavor& F>
std::unique_ptr<Connection> serve(const ChannelConfig& config) {
  return std::make_unique<ZmqConnection>(F, config, true);
}

template <const Flavor& F>
std::unique_ptr<Connection> connect(const ChannelConfig& config) {
  return std::make_unique<ZmqConnection>(F, config, false);
}

template <const Flavor& F>
void remove(const std::string& channel) {
  ::unlink(name_path(channel, F.suffix).c_str());
  ::unlink(name_path(channel, F.news_suffix).c_str());
}

template <const Flavor& F>
std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size, std::span<const std::byte> message,
                                     bool replace) {
  check_publish_size(message.size(), size);
  if (message.size() > kMaxMessage)
    throw Error(Errc::MessageTooLarge,
                std::string(F.name) + " messages are limited to " + std::to_string(kMaxMessage) + " bytes");
  if (replace) ::unlink(name_path(channel, F.news_suffix).c_str());
  return std::make_unique<ZmqPublication>(F, channel, message);
}

template <const Flavor& F>
std::string fetch(const std::string& channel, Deadline deadline) {
  return fetch_with(F, channel, deadline);
}

// The point-to-point, seed and native fanout ops of one flavor.
template <const Flavor& F>
constexpr PointToPoint kChannel{.serve = &serve<F>, .connect = &connect<F>, .remove = &remove<F>};
template <const Flavor& F>
constexpr SeedOps kSeed{.publish = &publish<F>, .fetch = &fetch<F>};
template <const Flavor& F>
constexpr FanoutOps kFanout{
    .serve = [](const FanoutConfig& config) { return zmq_fanout::serve(F, config); },
    .connect = [](const ChannelConfig& config, int reader) { return zmq_fanout::connect(F, config, reader); },
    .remove = [](const std::string& channel) { zmq_fanout::remove(F, channel); },
};

}  // namespace

const Transport& zmq_transport() {
  static const Transport transport{
      .name = "zmq",
      .summary = "ZeroMQ PAIR sockets over ipc:// (unix socket), cppzmq, handshake carries peer pids",
      .has_wait_modes = false,
      .max_message = kMaxMessage,
      .channel = kChannel<kIpc>,
      .seed = kSeed<kIpc>,
      .fanout = &kFanout<kIpc>,
  };
  return transport;
}

const Transport& zmq_tcp_transport() {
  static const Transport transport{
      .name = "zmq-tcp",
      .summary = "ZeroMQ PAIR sockets over tcp://127.0.0.1 (ephemeral port in a file), cppzmq",
      .has_wait_modes = false,
      .max_message = kMaxMessage,
      .channel = kChannel<kTcp>,
      .seed = kSeed<kTcp>,
      .fanout = &kFanout<kTcp>,
  };
  return transport;
}

}  // namespace ipcmark
