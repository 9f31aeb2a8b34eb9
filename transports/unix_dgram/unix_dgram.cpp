// transports/unix_dgram/unix_dgram.cpp — a Unix domain SOCK_SEQPACKET socket per channel.
//
// Chosen for speed: the kernel keeps message boundaries, so there is no framing and no
// read-ahead copy: one send() per message, one recvmsg() straight into the caller's buffer
// per message. Asio creates, binds, listens, accepts and connects (Boost 1.74 has no
// local::seq_packet_protocol, so this file defines one: AF_UNIX + SOCK_SEQPACKET); the
// messages then move on native_handle() with plain non-blocking syscalls, tried first, with
// poll() only when one would block — no Asio state or event loop, no allocation per message.
// MSG_NOSIGNAL makes a vanished reader PeerGone, not SIGPIPE.
//
// Message size: the kernel refuses (EMSGSIZE) a packet longer than the sender's SO_SNDBUF
// minus 32 bytes (net/unix/af_unix.c, unix_dgram_sendmsg; measured: 212992 default ->
// 212960). Every socket asks for SO_SNDBUF = 256 KiB, which the kernel doubles to 512 KiB
// (capped at 2 x net.core.wmem_max; stock Linux gives 416 KiB), so the transport's
// max_message is 256 KiB — a power of two that fits on a stock kernel with room for a
// second packet in flight. Each side reads its effective SO_SNDBUF back and refuses, with
// MessageTooLarge naming the limit, a channel whose max_message it cannot carry; send()
// refuses anything above max_message before the kernel sees it, and an EMSGSIZE is still
// reported as MessageTooLarge, never truncated. SO_RCVBUF is left alone: unix sockets
// charge queued packets to the sender's buffer, so the bigger SO_SNDBUF is also what lets
// more small packets be in flight. A received packet longer than the buffer sets MSG_TRUNC
// and is reported as Corrupt.
//
// Names: <private runtime dir>/<channel>.seqpacket, for benchmark channels and the
// one-shot demo alike. Server and publication unlink it when destroyed; remove() unlinks
// leftovers.
#include "transports/unix_dgram/unix_dgram.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/basic_seq_packet_socket.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/basic_endpoint.hpp>
#include <cerrno>

#include "transports/unix/asio_stream.hpp"
#include "transports/unix/local_socket.hpp"

namespace ipcmark {
namespace {

// AF_UNIX SOCK_SEQPACKET in Asio's Protocol shape (newer Boost ships the same class).
class seq_packet_protocol {
 public:
  int type() const noexcept { return SOCK_SEQPACKET; }
  int protocol() const noexcept { return 0; }
  int family() const noexcept { return AF_UNIX; }
  using endpoint = boost::asio::local::basic_endpoint<seq_packet_protocol>;
  using socket = boost::asio::basic_seq_packet_socket<seq_packet_protocol>;
  using acceptor = boost::asio::basic_socket_acceptor<seq_packet_protocol>;
};
using Protocol = seq_packet_protocol;

constexpr std::size_t kMaxMessage = 256 * 1024;
constexpr int kSendBufferRequest = 256 * 1024;  // the kernel doubles it
constexpr std::size_t kPacketOverhead = 32;     // SO_SNDBUF - 32 is the largest packet

constexpr local_sockets::Naming kNaming{
    .kind = "unix-dgram", .suffix = ".seqpacket", .socket = "unix seqpacket socket"};
using Names = local_sockets::Endpoints<Protocol, kNaming>;  // path, listen_on, connect_to

void check_limit(std::size_t max_message) {
  if (max_message == 0 || max_message > kMaxMessage)
    throw Error(Errc::MessageTooLarge,
                "unix-dgram messages are limited to 1.." + std::to_string(kMaxMessage) + " bytes (one packet each)");
}

// Grows the socket's send buffer and returns the largest packet it can now carry. Raw
// getsockopt on purpose: Asio's get_option halves SO_SNDBUF on Linux to undo the kernel's
// doubling, which would understate the real limit.
std::size_t size_send_buffer(Protocol::socket& socket) {
  const int fd = socket.native_handle();
  const int request = kSendBufferRequest;
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &request, sizeof request) != 0) throw_system_error("setsockopt SO_SNDBUF");
  int effective = 0;
  socklen_t length = sizeof effective;
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &effective, &length) != 0) throw_system_error("getsockopt SO_SNDBUF");
  const auto bytes = static_cast<std::size_t>(effective);
  return bytes > kPacketOverhead ? bytes - kPacketOverhead : 0;
}

// Readies a connected socket and checks it can carry `max_message`-byte packets.
void prepare(Protocol::socket& socket, std::size_t max_message) {
  asio_sockets::prepare_socket(socket);
  const std::size_t limit = size_send_buffer(socket);
  if (max_message > limit)
    throw Error(Errc::MessageTooLarge, "unix-dgram packets on this system are limited to " + std::to_string(limit) +
                                           " bytes (SO_SNDBUF - 32; raise net.core.wmem_max), not " +
                                           std::to_string(max_message));
}

// Sends one packet: whole or not at all.
void send_packet(int fd, std::span<const std::byte> message, Deadline deadline) {
  for (;;) {
    const ssize_t n = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(message.size())) return;
    if (n >= 0) throw Error(Errc::System, "send wrote " + std::to_string(n) + " of a " +
                                              std::to_string(message.size()) + "-byte packet");
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      const short revents = poll_until(fd, POLLOUT, deadline, "the reader to make room");
      if ((revents & (POLLERR | POLLHUP)) && !(revents & POLLOUT))
        throw Error(Errc::PeerGone, "peer closed the channel");
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) throw Error(Errc::PeerGone, "peer closed the channel");
    if (errno == EMSGSIZE)
      throw Error(Errc::MessageTooLarge, "the kernel refused a " + std::to_string(message.size()) +
                                             "-byte packet: it exceeds this socket's SO_SNDBUF - 32");
    throw_system_error("send");
  }
}

// Receives one packet into `buffer`; a packet that does not fit is Corrupt, never cut.
std::size_t receive_packet(int fd, std::span<std::byte> buffer, Deadline deadline) {
  for (;;) {
    iovec part{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &part;
    msg.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n > 0) {
      if (msg.msg_flags & MSG_TRUNC)
        throw Error(Errc::Corrupt, "received a packet larger than the " + std::to_string(buffer.size()) +
                                       "-byte buffer (truncated)");
      return static_cast<std::size_t>(n);
    }
    if (n == 0) throw Error(Errc::PeerGone, "peer closed the channel");  // we never send empty packets
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) throw Error(Errc::PeerGone, "peer closed the channel");
    if (errno != EAGAIN) throw_system_error("recvmsg");
    poll_until(fd, POLLIN, deadline, "data");
  }
}

class SeqPacketConnection final : public Connection {
 public:
  SeqPacketConnection(std::unique_ptr<boost::asio::io_context> io, std::unique_ptr<Protocol::acceptor> acceptor,
                      std::string owned_path, std::size_t max_message)
      : io_(std::move(io)),
        acceptor_(std::move(acceptor)),
        socket_(*io_),
        owned_path_(std::move(owned_path)),
        max_message_(max_message) {}

  SeqPacketConnection(std::unique_ptr<boost::asio::io_context> io, Protocol::socket socket, std::size_t max_message)
      : io_(std::move(io)), socket_(std::move(socket)), max_message_(max_message) {
    prepare(socket_, max_message_);
  }

  ~SeqPacketConnection() override {
    if (!owned_path_.empty()) ::unlink(owned_path_.c_str());
  }

  void accept(Deadline deadline) override {
    if (!acceptor_) return;
    asio_sockets::accept_one(*acceptor_, socket_, deadline, "the client to connect");
    acceptor_->close();
    prepare(socket_, max_message_);
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    asio_sockets::check_size(message.size(), max_message_);
    send_packet(fd(), message, deadline);
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    const std::size_t n = receive_packet(fd(), buffer, deadline);
    if (n > max_message_)
      throw Error(Errc::Corrupt, "received a packet of " + std::to_string(n) + " bytes, above the channel's " +
                                     std::to_string(max_message_));
    return n;
  }

 private:
  int fd() {
    if (!socket_.is_open()) throw Error(Errc::InvalidArgument, "accept() must complete before send or receive");
    return socket_.native_handle();
  }

  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<Protocol::acceptor> acceptor_;
  Protocol::socket socket_;
  std::string owned_path_;
  std::size_t max_message_;
};

// The one-shot demo's hand-over: the message as one packet.
void deliver_packet(Protocol::socket& reader, std::span<const std::byte> message, Deadline deadline) {
  prepare(reader, message.size());
  send_packet(reader.native_handle(), message, deadline);
}

std::unique_ptr<Connection> serve(const ChannelConfig& config) {
  check_limit(config.max_message);
  const std::string path = Names::path(config.channel);
  auto io = std::make_unique<boost::asio::io_context>(1);
  auto acceptor = Names::listen_on(*io, config.channel, path);
  return std::make_unique<SeqPacketConnection>(std::move(io), std::move(acceptor), path, config.max_message);
}

std::unique_ptr<Connection> connect(const ChannelConfig& config) {
  check_limit(config.max_message);
  auto io = std::make_unique<boost::asio::io_context>(1);
  auto socket = Names::connect_to(*io, config.channel);
  return std::make_unique<SeqPacketConnection>(std::move(io), std::move(socket), config.max_message);
}

void remove(const std::string& channel) { ::unlink(Names::path(channel).c_str()); }

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size,
                                     std::span<const std::byte> message, bool replace) {
  check_publish_size(message.size(), size);
  if (message.empty())  // an empty packet reads like end-of-file
    throw Error(Errc::InvalidArgument, "unix-dgram cannot publish an empty message");
  check_limit(message.size());
  const std::string path = Names::path(channel);
  if (replace) ::unlink(path.c_str());
  auto io = std::make_unique<boost::asio::io_context>(1);
  auto acceptor = Names::listen_on(*io, channel, path);
  return std::make_unique<asio_sockets::AcceptingPublication<Protocol>>(std::move(io), std::move(acceptor), path,
                                                                       message, &deliver_packet);
}

std::string fetch(const std::string& channel, Deadline deadline) {
  boost::asio::io_context io(1);
  auto socket = Names::connect_to(io, channel);
  asio_sockets::prepare_socket(socket);
  std::string text(kMaxMessage, '\0');
  text.resize(receive_packet(socket.native_handle(), std::as_writable_bytes(std::span(text)), deadline));
  return text;
}

}  // namespace

const Transport& unix_dgram_transport() {
  static const Transport transport{
      .name = "unix-dgram",
      .summary = "Unix domain SOCK_SEQPACKET socket (Asio setup, raw non-blocking I/O), one packet per message",
      .has_wait_modes = false,
      .max_message = kMaxMessage,
      .channel = {.serve = &serve, .connect = &connect, .remove = &remove},
      .seed = {.publish = &publish, .fetch = &fetch},
  };
  return transport;
}

}  // namespace ipcmark
