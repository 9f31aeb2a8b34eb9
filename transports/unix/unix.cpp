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

#include <boost/asio/local/stream_protocol.hpp>

#include "transports/unix/asio_stream.hpp"
#include "transports/unix/local_socket.hpp"

namespace ipcmark {
namespace {

using Protocol = boost::asio::local::stream_protocol;
using asio_sockets::kMaxStreamMessage;

constexpr local_sockets::Naming kNaming{.kind = "unix", .suffix = ".sock", .socket = "unix socket"};
using UnixTransport = asio_sockets::StreamTransport<local_sockets::Endpoints<Protocol, kNaming>>;

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
