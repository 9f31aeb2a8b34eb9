// transports/unix/asio_stream.hpp — what the byte-stream socket transports (`unix`, `tcp`)
// and the packet one (`unix-dgram`) share: Asio sets the sockets up, the hot path runs on
// native_handle() with the common deadline-bounded fd helpers.
//
// Why split it so: Asio's socket/bind/listen/accept/connect/option calls are portable and
// checked, but its synchronous read/write go through its own state and error_code machinery
// and its async path needs an event loop; a latency benchmark wants the plain syscall. So
// each connected socket is made blocking once: a waiting recv/send is one syscall that
// sleeps until the data comes, as in a plain C program, rather than recv/EAGAIN/poll/recv —
// which cost up to a third more per round trip at 64 B. Each wait is cut into slices
// (fd.hpp) so it still ends at its deadline:
//  - measured connections (StreamConnection) by a SliceTicker, as pipes are: a socket with
//    SO_RCVTIMEO arms and cancels a kernel timer every time a recv sleeps, about 0.13 us per
//    round trip on one CPU (measured with a raw socketpair ping-pong, 4.52 -> 4.65 us);
//  - the one-shot demo and `unix-dgram` by SO_RCVTIMEO/SO_SNDTIMEO (WaitSlices::Timeouts),
//    which needs no per-thread state.
// When a slice runs out the helpers in transports/common/fd.cpp re-check or poll() until the
// deadline, and near the deadline they poll first.
//
// Sends use send()/sendmsg() with MSG_NOSIGNAL rather than write()/writev(): a vanished reader becomes EPIPE
// (PeerGone), never a SIGPIPE that kills a process which did not ignore it. Asio does not
// set close-on-exec, so every descriptor gets FD_CLOEXEC right after it is created: a
// socket leaked into a spawned child would keep a dead peer's connection open.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "transports/common/fd.hpp"
#include "transports/common/framing.hpp"
#include "transports/transport.hpp"

namespace ipcmark::asio_sockets {

// Frames carry a u32 length; like pipe, the harness buffers cap messages at 16 MiB.
inline constexpr std::size_t kMaxStreamMessage = 16 * 1024 * 1024;
// The one-shot demo gives each reader this long to take its copy.
inline constexpr auto kDemoSendTimeout = std::chrono::seconds(5);
// serve_readers() polls the listening socket this often, checking stop() in between.
inline constexpr int kDemoPollMs = 50;

inline void check_size(std::size_t size, std::size_t max_message) {
  if (size == 0 || size > max_message)
    throw Error(Errc::MessageTooLarge, "message of " + std::to_string(size) + " bytes is outside 1.." +
                                           std::to_string(max_message) + " for this channel");
}

inline void set_cloexec(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) throw_system_error("fcntl FD_CLOEXEC");
}

// Throws Error{System} for an Asio failure, "<what>: <message>".
[[noreturn]] inline void throw_asio(const std::string& what, const boost::system::error_code& ec) {
  throw Error(Errc::System, what + ": " + ec.message());
}

inline bool would_block(const boost::system::error_code& ec) {
  return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
}

// Writes every byte of `parts` with sendmsg(MSG_NOSIGNAL), polling when the socket buffer
// stays full for a slice. The same loop as write_all(), minus the SIGPIPE.
inline void send_all(int fd, std::span<iovec> parts, Deadline deadline) {
  std::size_t first = 0;
  while (first < parts.size()) {
    if (within_a_slice(deadline)) poll_until(fd, POLLOUT, deadline, "the reader to make room");
    // One part left: send(), which skips sendmsg()'s copy-in of the msghdr and iovec array.
    msghdr msg{};
    msg.msg_iov = &parts[first];
    msg.msg_iovlen = parts.size() - first;
    const ssize_t n = first + 1 == parts.size() ? ::send(fd, parts[first].iov_base, parts[first].iov_len, MSG_NOSIGNAL)
                                                : ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {  // the slice ran out with the buffer full
        const short revents = poll_until(fd, POLLOUT, deadline, "the reader to make room");
        if ((revents & (POLLERR | POLLHUP)) && !(revents & POLLOUT))
          throw Error(Errc::PeerGone, "peer closed the channel");
        continue;
      }
      if (errno == EPIPE || errno == ECONNRESET) throw Error(Errc::PeerGone, "peer closed the channel");
      throw_system_error("sendmsg");
    }
    auto left = static_cast<std::size_t>(n);
    while (first < parts.size() && left >= parts[first].iov_len) left -= parts[first++].iov_len;
    if (first < parts.size()) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + left;
      parts[first].iov_len -= left;
    }
  }
}

// [u32 length][payload] in one call: send() of a frame assembled on the stack when small,
// sendmsg() of two parts when large (framing.hpp); one segment either way.
inline void send_frame_nosignal(int fd, std::span<const std::byte> message, Deadline deadline) {
  with_frame(message, [&](std::span<iovec> parts) { send_all(fd, parts, deadline); });
}

// What cuts a blocking wait into slices: see the top of this file.
enum class WaitSlices {
  Timeouts,  // SO_RCVTIMEO/SO_SNDTIMEO on the socket
  Ticker,    // none on the socket: the caller arms a SliceTicker before each send/receive
};

// Makes an accepted/connected socket ready for the hot path.
template <class Socket>
void prepare_socket(Socket& socket, WaitSlices slices = WaitSlices::Timeouts) {
  set_cloexec(socket.native_handle());
  // Blocking, each wait bounded by a slice. (Asio keeps no non-blocking state of its own for
  // a socket it never set non-blocking.)
  if (slices == WaitSlices::Timeouts) make_blocking_with_slice(socket.native_handle());
  else make_blocking(socket.native_handle());
  boost::system::error_code ec;
  if constexpr (std::is_same_v<typename Socket::protocol_type, boost::asio::ip::tcp>) {
    // Nagle would hold a small message back until the previous one is acknowledged.
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if (ec) throw_asio("cannot set TCP_NODELAY", ec);
  }
}

// Opens, binds and listens; the acceptor is non-blocking and close-on-exec. Returns the
// bind error (EADDRINUSE: the name exists) for the caller to word; other failures throw.
template <class Acceptor>
boost::system::error_code open_listener(Acceptor& acceptor, const typename Acceptor::endpoint_type& endpoint) {
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) throw_asio("cannot open a listening socket", ec);
  set_cloexec(acceptor.native_handle());
  acceptor.bind(endpoint, ec);
  if (ec) {
    acceptor.close();
    return ec;
  }
  acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (!ec) acceptor.non_blocking(true, ec);
  if (ec) throw_asio("cannot listen", ec);
  return {};
}

// Accepts one connection, waiting at most until `deadline`.
template <class Acceptor, class Socket>
void accept_one(Acceptor& acceptor, Socket& socket, Deadline deadline, const char* waiting_for,
                WaitSlices slices = WaitSlices::Timeouts) {
  for (;;) {
    boost::system::error_code ec;
    acceptor.accept(socket, ec);
    if (!ec) break;
    if (would_block(ec)) {
      poll_until(acceptor.native_handle(), POLLIN, deadline, waiting_for);
      continue;
    }
    if (ec == boost::asio::error::interrupted || ec == boost::asio::error::connection_aborted) continue;
    throw_asio("accept", ec);
  }
  prepare_socket(socket, slices);
}

// Polls the listening socket for up to `timeout_ms`; true when a connection is waiting.
template <class Acceptor>
bool connection_waiting(Acceptor& acceptor, int timeout_ms) {
  pollfd p{acceptor.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN);
}

// Both sides of an open byte-stream channel: framed messages, read-ahead on receive.
template <class Protocol>
class StreamConnection final : public Connection {
 public:
  using Socket = typename Protocol::socket;
  using Acceptor = typename Protocol::acceptor;

  // Server: owns the listening socket and the name at `owned_path` (removed on destruction).
  StreamConnection(std::unique_ptr<boost::asio::io_context> io, std::unique_ptr<Acceptor> acceptor,
                   std::string owned_path, std::size_t max_message)
      : io_(std::move(io)),
        acceptor_(std::move(acceptor)),
        socket_(*io_),
        owned_path_(std::move(owned_path)),
        reader_(max_message),
        max_message_(max_message) {}

  // Client: an already connected socket.
  StreamConnection(std::unique_ptr<boost::asio::io_context> io, Socket socket, std::size_t max_message)
      : io_(std::move(io)), socket_(std::move(socket)), reader_(max_message), max_message_(max_message) {
    prepare_socket(socket_, WaitSlices::Ticker);
  }

  ~StreamConnection() override {
    if (!owned_path_.empty()) ::unlink(owned_path_.c_str());
  }

  void accept(Deadline deadline) override {
    if (!acceptor_) return;  // the client connected in connect(); no handshake needed
    accept_one(*acceptor_, socket_, deadline, "the client to connect", WaitSlices::Ticker);
    acceptor_->close();  // one client per channel; the name stays until we are destroyed
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    check_size(message.size(), max_message_);
    const int socket = fd();
    ticker_.arm();
    send_frame_nosignal(socket, message, deadline);
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    const int socket = fd();
    ticker_.arm();
    return reader_.receive(socket, buffer, deadline);
  }

 private:
  int fd() {
    if (!socket_.is_open()) throw Error(Errc::InvalidArgument, "accept() must complete before send or receive");
    return socket_.native_handle();
  }

  std::unique_ptr<boost::asio::io_context> io_;  // first: outlives the sockets
  std::unique_ptr<Acceptor> acceptor_;
  Socket socket_;
  std::string owned_path_;
  FrameReader reader_;
  std::size_t max_message_;
  SliceTicker ticker_;  // armed at the first send/receive, in the thread that makes it
};

// The one-shot demo: every reader that connects gets one copy of the message, handed over by
// `deliver` (a frame on a stream socket, one packet on unix-dgram), then its socket closes.
template <class Protocol>
class AcceptingPublication final : public Publication {
 public:
  using Acceptor = typename Protocol::acceptor;
  using Socket = typename Protocol::socket;
  using Deliver = void (*)(Socket& reader, std::span<const std::byte> message, Deadline deadline);

  AcceptingPublication(std::unique_ptr<boost::asio::io_context> io, std::unique_ptr<Acceptor> acceptor,
                       std::string owned_path, std::span<const std::byte> message, Deliver deliver)
      : io_(std::move(io)),
        acceptor_(std::move(acceptor)),
        owned_path_(std::move(owned_path)),
        message_(message.begin(), message.end()),
        deliver_(deliver) {}

  ~AcceptingPublication() override { ::unlink(owned_path_.c_str()); }

  void serve_readers(bool (*stop)()) override {
    while (!stop()) {
      if (!connection_waiting(*acceptor_, kDemoPollMs)) continue;
      Socket reader(*io_);
      try {
        accept_one(*acceptor_, reader, Clock::now() + std::chrono::milliseconds(kDemoPollMs), "a reader");
        deliver_(reader, message_, Clock::now() + kDemoSendTimeout);
      } catch (const Error&) {
        // The reader left before its copy (or a spurious wake-up): serve the others.
      }
    }
  }

 private:
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<Acceptor> acceptor_;
  std::string owned_path_;
  std::vector<std::byte> message_;
  Deliver deliver_;
};

// Reads the demo's one framed message from a connected socket.
template <class Socket>
std::string fetch_frame(Socket& socket, Deadline deadline, const std::string& what) {
  prepare_socket(socket);
  const int fd = socket.native_handle();
  std::uint32_t length = 0;
  read_exact(fd, std::as_writable_bytes(std::span(&length, 1)), deadline);
  if (length > kMaxStreamMessage)
    throw Error(Errc::Corrupt, what + " sent a frame of " + std::to_string(length) + " bytes");
  std::string text(length, '\0');
  read_exact(fd, std::as_writable_bytes(std::span(text)), deadline);
  return text;
}

// The Transport functions of a stream-socket transport (unix, tcp), which differ only in how a
// channel's name becomes an endpoint. `Endpoints` provides:
//   using Protocol;                      an Asio stream protocol
//   static constexpr const char* kName;  "unix", "tcp": for messages
//   static std::string path(const std::string& channel);  the channel's file
//   static std::unique_ptr<Protocol::acceptor> listen_on(io_context&, channel, path);
//   static Protocol::socket connect_to(io_context&, channel);
template <class Endpoints>
struct StreamTransport {
  using Protocol = typename Endpoints::Protocol;

  static void check_config(const ChannelConfig& config) {
    if (config.max_message == 0 || config.max_message > kMaxStreamMessage)
      throw Error(Errc::MessageTooLarge, std::string(Endpoints::kName) + " messages are limited to 1.." +
                                             std::to_string(kMaxStreamMessage) + " bytes");
  }

  static std::unique_ptr<Connection> serve(const ChannelConfig& config) {
    check_config(config);
    const std::string path = Endpoints::path(config.channel);
    auto io = std::make_unique<boost::asio::io_context>(1);
    auto acceptor = Endpoints::listen_on(*io, config.channel, path);
    return std::make_unique<StreamConnection<Protocol>>(std::move(io), std::move(acceptor), path, config.max_message);
  }

  static std::unique_ptr<Connection> connect(const ChannelConfig& config) {
    check_config(config);
    auto io = std::make_unique<boost::asio::io_context>(1);
    auto socket = Endpoints::connect_to(*io, config.channel);
    return std::make_unique<StreamConnection<Protocol>>(std::move(io), std::move(socket), config.max_message);
  }

  static void remove(const std::string& channel) { ::unlink(Endpoints::path(channel).c_str()); }

  static std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size,
                                              std::span<const std::byte> message, bool replace) {
    check_publish_size(message.size(), size);
    if (message.size() > kMaxStreamMessage)
      throw Error(Errc::MessageTooLarge, std::string(Endpoints::kName) + " messages are limited to " +
                                             std::to_string(kMaxStreamMessage) + " bytes");
    const std::string path = Endpoints::path(channel);
    if (replace) ::unlink(path.c_str());
    auto io = std::make_unique<boost::asio::io_context>(1);
    auto acceptor = Endpoints::listen_on(*io, channel, path);
    return std::make_unique<AcceptingPublication<Protocol>>(std::move(io), std::move(acceptor), path, message,
                                                            &deliver_frame);
  }

  static void deliver_frame(typename Protocol::socket& reader, std::span<const std::byte> message,
                            Deadline deadline) {
    send_frame_nosignal(reader.native_handle(), message, deadline);
  }

  static std::string fetch(const std::string& channel, Deadline deadline) {
    boost::asio::io_context io(1);
    auto socket = Endpoints::connect_to(io, channel);
    return fetch_frame(socket, deadline, std::string(Endpoints::kName) + " channel '" + channel + "'");
  }

  static constexpr PointToPoint kChannel{.serve = &serve, .connect = &connect, .remove = &remove};
  static constexpr SeedOps kSeed{.publish = &publish, .fetch = &fetch};
};

}  // namespace ipcmark::asio_sockets
