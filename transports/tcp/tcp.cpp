// transports/tcp/tcp.cpp — TCP over 127.0.0.1 per channel.
//
// Chosen for speed: Asio (boost::asio::ip::tcp) creates, binds, listens, accepts, connects
// and sets TCP_NODELAY (both sides: without it Nagle holds a small message back until the
// previous one is acknowledged, which in a ping-pong costs a delayed-ACK timeout); the
// messages then move on native_handle() with plain syscalls on a blocking socket whose
// waits are cut into slices by a per-thread SliceTicker (one syscall per wait, deadlines
// still kept: see unix/asio_stream.hpp) — no Asio state or event loop and no allocation
// per message on the hot path. Each message is a [u32 length][payload] frame sent with one
// send() or sendmsg() (one segment for a small message; MSG_NOSIGNAL so a vanished reader is PeerGone,
// not SIGPIPE); the receiver reads ahead through a 64 KiB buffer and reads large payloads
// straight into the caller's buffer. Socket buffer sizes are left alone on purpose: setting
// SO_SNDBUF/SO_RCVBUF turns off the kernel's auto-tuning, which on loopback grows them
// further than a fixed guess would.
//
// Names: the server binds an ephemeral port and publishes it in
// <private runtime dir>/<channel>.tcp (mode 0600); that file is the channel's name, so
// "already exists" and "does not exist" mean what they do for the other transports. The
// file appears atomically with its contents: it is written as an unnamed O_TMPFILE and then
// linked into place (link fails with EEXIST like O_CREAT|O_EXCL), so a client never reads a
// half-written port. Where O_TMPFILE is unsupported it is created with O_CREAT|O_EXCL and
// written at once. The server and the publication unlink it when destroyed; remove()
// unlinks a leftover. A stale file (server crashed) makes connect() fail with
// ECONNREFUSED, reported as DoesNotExist.
#include "transports/tcp/tcp.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <charconv>

#include "transports/names.hpp"
#include "transports/unix/asio_stream.hpp"

namespace ipcmark {
namespace {

using Protocol = boost::asio::ip::tcp;
using asio_sockets::kMaxStreamMessage;

std::string port_path(const std::string& channel) {
  validate_channel_name(channel);
  return private_runtime_dir() + "/" + channel + ".tcp";
}

[[noreturn]] void throw_missing(const std::string& channel, const std::string& detail = "") {
  throw Error(Errc::DoesNotExist,
              "tcp channel '" + channel + "' does not exist (is the server running?)" + detail);
}

void write_whole(int fd, const std::string& text, const std::string& path) {
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) throw_system_error("write " + path);
}

// Creates `path` holding `text`, failing with AlreadyExists if the name exists.
void create_port_file(const std::string& channel, const std::string& path, const std::string& text) {
  const int tmp = ::open(private_runtime_dir().c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (tmp >= 0) {
    UniqueFd file(tmp);
    write_whole(tmp, text, path);
    const std::string proc = "/proc/self/fd/" + std::to_string(tmp);
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0) return;
    if (errno == EEXIST) throw_channel_exists("tcp", channel, path);
    if (errno != ENOENT) throw_system_error("link " + path);  // ENOENT: no /proc; fall back
  } else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    throw_system_error("open O_TMPFILE in " + private_runtime_dir());
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw_channel_exists("tcp", channel, path);
    throw_system_error("create " + path);
  }
  UniqueFd file(fd);
  try {
    write_whole(fd, text, path);
  } catch (...) {
    ::unlink(path.c_str());
    throw;
  }
}

// Reads and validates the port a server published.
unsigned short read_port(const std::string& channel, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) throw_missing(channel);
    throw_system_error("open " + path);
  }
  UniqueFd file(fd);
  char text[16];
  ssize_t n;
  do n = ::read(fd, text, sizeof text); while (n < 0 && errno == EINTR);
  if (n < 0) throw_system_error("read " + path);
  std::size_t length = static_cast<std::size_t>(n);
  if (length > 0 && text[length - 1] == '\n') --length;
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text, text + length, port);
  if (ec != std::errc() || end != text + length || length == 0 || port < 1 || port > 65535)
    throw Error(Errc::Corrupt, "tcp channel '" + channel + "': " + path + " does not hold a port number 1..65535");
  return static_cast<unsigned short>(port);
}

// Listens on an ephemeral loopback port and publishes it under the channel's name.
std::unique_ptr<Protocol::acceptor> bind_and_listen(boost::asio::io_context& io, const std::string& channel,
                                                    const std::string& path) {
  auto acceptor = std::make_unique<Protocol::acceptor>(io);
  const auto ec = asio_sockets::open_listener(*acceptor, Protocol::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  if (ec) asio_sockets::throw_asio("bind 127.0.0.1", ec);
  boost::system::error_code local_ec;
  const auto port = acceptor->local_endpoint(local_ec).port();
  if (local_ec) asio_sockets::throw_asio("getsockname", local_ec);
  create_port_file(channel, path, std::to_string(port) + "\n");
  return acceptor;
}

Protocol::socket connect_socket(boost::asio::io_context& io, const std::string& channel) {
  const std::string path = port_path(channel);
  const unsigned short port = read_port(channel, path);
  Protocol::socket socket(io);
  boost::system::error_code ec;
  socket.open(Protocol::v4(), ec);
  if (ec) asio_sockets::throw_asio("cannot open a tcp socket", ec);
  asio_sockets::set_cloexec(socket.native_handle());
  socket.connect(Protocol::endpoint(boost::asio::ip::address_v4::loopback(), port), ec);
  if (ec == boost::asio::error::connection_refused)
    throw_missing(channel, ": no server is listening on 127.0.0.1:" + std::to_string(port) + " (" + path + ")");
  if (ec) asio_sockets::throw_asio("connect 127.0.0.1:" + std::to_string(port), ec);
  return socket;
}

struct TcpEndpoints {
  using Protocol = ipcmark::Protocol;
  static constexpr const char* kName = "tcp";
  static constexpr auto* path = &port_path;
  static constexpr auto* listen_on = &bind_and_listen;
  static constexpr auto* connect_to = &connect_socket;
};
using TcpTransport = asio_sockets::StreamTransport<TcpEndpoints>;

}  // namespace

const Transport& tcp_transport() {
  static const Transport transport{
      .name = "tcp",
      .summary = "TCP over 127.0.0.1 with TCP_NODELAY (Asio setup, raw blocking I/O in deadline slices), length-prefixed frames",
      .has_wait_modes = false,
      .max_message = kMaxStreamMessage,
      .channel = TcpTransport::kChannel,
      .seed = TcpTransport::kSeed,
  };
  return transport;
}

}  // namespace ipcmark
