// transports/unix/local_socket.hpp — the names of a Unix domain socket transport (`unix`,
// `unix-dgram`): where a channel's socket file lives, and binding and connecting to it with
// the errors the contract asks for (AlreadyExists, DoesNotExist), for any Asio local protocol.
#pragma once

#include <sys/un.h>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <memory>
#include <string>

#include "transports/names.hpp"
#include "transports/unix/asio_stream.hpp"

namespace ipcmark::local_sockets {

// How one transport names its sockets.
struct Naming {
  const char* kind;    // "unix", "unix-dgram": in messages
  const char* suffix;  // of the socket file: ".sock", ".seqpacket"
  const char* socket;  // what "cannot open a …" says: "unix socket", "unix seqpacket socket"
};

// The channel's socket file, <private runtime dir>/<channel><suffix>, and binding and
// connecting to it; in StreamTransport's Endpoints shape (asio_stream.hpp).
template <class P, const Naming& N>
struct Endpoints {
  using Protocol = P;
  static constexpr const char* kName = N.kind;

  // InvalidArgument when the path does not fit sockaddr_un.
  static std::string path(const std::string& channel) {
    validate_channel_name(channel);
    std::string path = private_runtime_dir() + "/" + channel + N.suffix;
    if (path.size() >= sizeof(sockaddr_un{}.sun_path))
      throw Error(Errc::InvalidArgument, std::string(N.kind) + " channel '" + channel + "' makes a socket path of " +
                                             std::to_string(path.size()) + " bytes (" + path + "); the limit is " +
                                             std::to_string(sizeof(sockaddr_un{}.sun_path) - 1));
    return path;
  }

  // Binds and listens on the channel's socket file, which must not exist.
  static std::unique_ptr<typename Protocol::acceptor> listen_on(boost::asio::io_context& io,
                                                                const std::string& channel, const std::string& path) {
    auto acceptor = std::make_unique<typename Protocol::acceptor>(io);
    const auto ec = asio_sockets::open_listener(*acceptor, typename Protocol::endpoint(path));
    if (ec == boost::asio::error::address_in_use) throw_channel_exists(N.kind, channel, path);
    if (ec) asio_sockets::throw_asio("bind " + path, ec);
    return acceptor;
  }

  // Connects to the channel's server: DoesNotExist when there is no file or no listener.
  static typename Protocol::socket connect_to(boost::asio::io_context& io, const std::string& channel) {
    const std::string file = path(channel);
    typename Protocol::socket socket(io);
    boost::system::error_code ec;
    socket.open(Protocol(), ec);
    if (ec) asio_sockets::throw_asio(std::string("cannot open a ") + N.socket, ec);
    asio_sockets::set_cloexec(socket.native_handle());
    socket.connect(typename Protocol::endpoint(file), ec);
    const std::string missing =
        std::string(N.kind) + " channel '" + channel + "' does not exist (is the server running?)";
    if (ec == boost::asio::error::connection_refused)
      throw Error(Errc::DoesNotExist, missing + ": no server is listening on " + file);
    if (ec.value() == ENOENT) throw Error(Errc::DoesNotExist, missing);
    if (ec) asio_sockets::throw_asio("connect " + file, ec);
    return socket;
  }
};

}  // namespace ipcmark::local_sockets
