// transports/unix/unix.cpp — a Unix domain SOCK_STREAM socket per channel.
//
// Chosen for speed: Asio (boost::asio::local::stream_protocol) creates, binds, listens,
// accepts and connects; the messages then move on native_handle() with plain syscalls on
// a blocking socket whose waits are cut into slices by a per-thread SliceTicker (one
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
std::unique_ptr<Protocol::acceptor> bind_and_listen(boost::asio::io_context& io, const std::string& channel,
                                                    const std::string& path) {
  auto acceptor = std::make_unique<Protocol::acceptor>(io);
  const auto ec = asio_sockets::open_listener(*acceptor, Protocol::endpoint(path));
  if (ec == boost::asio::error::address_in_use) throw_exists(channel, path);
  if (ec) asio_sockets::throw_asio("bind " + path, ec);
  return acceptor;
}

Protocol::socket connect_socket(boost::asio::io_context& io, const std::string& channel) {
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

struct UnixEndpoints {
  using Protocol = ipcmark::Protocol;
  static constexpr const char* kName = "unix";
  static constexpr auto* path = &socket_path;
  static constexpr auto* listen_on = &bind_and_listen;
  static constexpr auto* connect_to = &connect_socket;
};
using UnixTransport = asio_sockets::StreamTransport<UnixEndpoints>;

}  // namespace

const Transport& unix_transport() {
  static const Transport transport{
      .name = "unix",
      .summary = "Unix domain stream socket (Asio setup, raw blocking I/O in deadline slices), length-prefixed frames",
      .has_wait_modes = false,
      .max_message = kMaxStreamMessage,
      .channel = UnixTransport::kChannel,
      .seed = UnixTransport::kSeed,
  };
  return transport;
}

}  // namespace ipcmark
