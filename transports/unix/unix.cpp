// transports/unix/unix.cpp — a Unix domain SOCK_STREAM socket per channel.
//
// Chosen for speed: Asio (boost::asio::local::stream_protocol) creates, binds, listens,
// accepts and connects; the messages then move on native_handle() with plain syscalls on
// a blocking socket whose waits are cut into slices by SO_RCVTIMEO/SO_SNDTIMEO (one
// syscall per wait, deadlines still kept: see asio_stream.hpp) — no Asio state, no event
// loop, no allocation per message on the hot path. Each message is a
// [u32 length][payload] frame sent with one send() (assembled on the stack when small) or
// sendmsg() (MSG_NOSIGNAL: a vanished reader is PeerGone, not SIGPIPE); the receiver reads ahead through a 64 KiB buffer, so a stream of
// small messages costs one read() per many messages, and a large payload is read straight
// into the caller's buffer. Socket buffers keep the kernel defaults: a unix stream socket
// charges queued bytes to the sender's SO_SNDBUF (212 KiB by default), which is already
// more than the read-ahead takes at once. No handshake: the client's connect() completes
// against the listen backlog, before the server's accept().
//
// Names: <private runtime dir>/<channel>.sock, for benchmark channels and the one-shot
// demo alike. Server and publication unlink it when destroyed; remove() unlinks leftovers.
#include "transports/unix/unix.hpp"

#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>

#include "transports/names.hpp"
#include "transports/unix/asio_stream.hpp"

namespace ipcmark {
namespace {

using Protocol = boost::asio::local::stream_protocol;
using asio_sockets::kMaxStreamMessage;

std::string socket_path(const std::string& channel) {
  validate_channel_name(channel);
  std::string path = private_runtime_dir() + "/" + channel + ".sock";
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    throw Error(Errc::InvalidArgument, "unix channel '" + channel + "' makes a socket path of " +
                                           std::to_string(path.size()) + " bytes (" + path + "); the limit is " +
                                           std::to_string(sizeof(sockaddr_un{}.sun_path) - 1));
  return path;
}

[[noreturn]] void throw_exists(const std::string& channel, const std::string& path) {
  throw Error(Errc::AlreadyExists, "unix channel '" + channel + "' already exists (" + path +
                                       "); another server is running, or a crashed one left it: "
                                       "pass --replace or run `ipcmark clean --channel " + channel + "`");
}

// Binds and listens on the channel's socket file, which must not exist.
std::unique_ptr<Protocol::acceptor> listen_on(boost::asio::io_context& io, const std::string& channel,
                                              const std::string& path) {
  auto acceptor = std::make_unique<Protocol::acceptor>(io);
  const auto ec = asio_sockets::open_listener(*acceptor, Protocol::endpoint(path));
  if (ec == boost::asio::error::address_in_use) throw_exists(channel, path);
  if (ec) asio_sockets::throw_asio("bind " + path, ec);
  return acceptor;
}

Protocol::socket connect_to(boost::asio::io_context& io, const std::string& channel) {
  const std::string path = socket_path(channel);
  Protocol::socket socket(io);
  boost::system::error_code ec;
  socket.open(Protocol(), ec);
  if (ec) asio_sockets::throw_asio("cannot open a unix socket", ec);
  asio_sockets::set_cloexec(socket.native_handle());
  socket.connect(Protocol::endpoint(path), ec);
  if (ec == boost::asio::error::connection_refused)
    throw Error(Errc::DoesNotExist, "unix channel '" + channel + "' does not exist (is the server running?): " +
                                        "no server is listening on " + path);
  if (ec.value() == ENOENT)
    throw Error(Errc::DoesNotExist, "unix channel '" + channel + "' does not exist (is the server running?)");
  if (ec) asio_sockets::throw_asio("connect " + path, ec);
  return socket;
}

void check_config(const ChannelConfig& config) {
  if (config.max_message == 0 || config.max_message > kMaxStreamMessage)
    throw Error(Errc::MessageTooLarge,
                "unix messages are limited to 1.." + std::to_string(kMaxStreamMessage) + " bytes");
}

std::unique_ptr<Connection> serve(const ChannelConfig& config) {
  check_config(config);
  const std::string path = socket_path(config.channel);
  auto io = std::make_unique<boost::asio::io_context>(1);
  auto acceptor = listen_on(*io, config.channel, path);
  return std::make_unique<asio_sockets::StreamConnection<Protocol>>(std::move(io), std::move(acceptor), path,
                                                                     config.max_message);
}

std::unique_ptr<Connection> connect(const ChannelConfig& config) {
  check_config(config);
  auto io = std::make_unique<boost::asio::io_context>(1);
  auto socket = connect_to(*io, config.channel);
  return std::make_unique<asio_sockets::StreamConnection<Protocol>>(std::move(io), std::move(socket),
                                                                     config.max_message);
}

void remove(const std::string& channel) { ::unlink(socket_path(channel).c_str()); }

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size,
                                     std::span<const std::byte> message, bool replace) {
  if (message.size() > size)
    throw Error(Errc::InvalidArgument, "message of " + std::to_string(message.size()) +
                                           " bytes does not fit the channel size of " + std::to_string(size));
  if (message.size() > kMaxStreamMessage)
    throw Error(Errc::MessageTooLarge, "unix messages are limited to " + std::to_string(kMaxStreamMessage) + " bytes");
  const std::string path = socket_path(channel);
  if (replace) ::unlink(path.c_str());
  auto io = std::make_unique<boost::asio::io_context>(1);
  auto acceptor = listen_on(*io, channel, path);
  return std::make_unique<asio_sockets::StreamPublication<Protocol>>(std::move(io), std::move(acceptor), path,
                                                                      message);
}

std::string fetch(const std::string& channel, Deadline deadline) {
  boost::asio::io_context io(1);
  auto socket = connect_to(io, channel);
  return asio_sockets::fetch_frame(socket, deadline, "unix channel '" + channel + "'");
}

}  // namespace

const Transport& unix_transport() {
  static const Transport transport{
      .name = "unix",
      .summary = "Unix domain stream socket (Asio setup, raw blocking I/O in deadline slices), length-prefixed frames",
      .has_wait_modes = false,
      .max_message = kMaxStreamMessage,
      .serve = &serve,
      .connect = &connect,
      .remove = &remove,
      .publish = &publish,
      .fetch = &fetch,
  };
  return transport;
}

}  // namespace ipcmark
