// transports/zmq/zmq_common.cpp — the zmq transports' shared helpers (see zmq_common.hpp).
#include "transports/zmq/zmq_common.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>
#include <utility>

#include "transports/common/process.hpp"
#include "transports/names.hpp"

namespace ipcmark::zmq_common {

std::string name_path(const std::string& channel, const char* suffix) {
  validate_channel_name(channel);
  return private_runtime_dir() + "/" + channel + suffix;
}

[[noreturn]] void throw_missing(const Flavor& f, const std::string& channel) {
  throw Error(Errc::DoesNotExist,
              std::string(f.name) + " channel '" + channel + "' does not exist (is the server running?)");
}

[[noreturn]] void rethrow_zmq(const zmq::error_t& e, const char* what) {
  throw Error(Errc::System, std::string(what) + ": " + e.what());
}

void check_max_message(const Flavor& f, std::size_t max_message) {
  if (max_message == 0 || max_message > kMaxMessage)
    throw Error(Errc::MessageTooLarge,
                std::string(f.name) + " messages are limited to 1.." + std::to_string(kMaxMessage) + " bytes");
}

void check_size(std::size_t size, std::size_t max_message) {
  if (size == 0 || size > max_message)
    throw Error(Errc::MessageTooLarge, "message of " + std::to_string(size) + " bytes is outside 1.." +
                                           std::to_string(max_message) + " for this channel");
}

int high_water_mark(std::size_t max_message) {
  return static_cast<int>(std::clamp<std::size_t>((64u << 20) / std::max<std::size_t>(max_message, 1), 4, 1000));
}

OwnedFile bind_endpoint(const Flavor& f, zmq::socket_t& socket, const std::string& channel, const char* suffix) {
  const std::string path = name_path(channel, suffix);
  if (f.kind == Kind::Ipc) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path)
      throw Error(Errc::InvalidArgument, "channel name '" + channel + "' is too long for a unix socket path (" +
                                             path + " exceeds " + std::to_string(sizeof addr.sun_path - 1) +
                                             " bytes)");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_system_error("socket");
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EADDRINUSE) throw_channel_exists(f.name, channel, path);
      errno = err;
      throw_system_error("bind " + path);
    }
    OwnedFile owned(path);
    if (::listen(fd, 64) != 0 || zmq_setsockopt(socket.handle(), ZMQ_USE_FD, &fd, sizeof fd) != 0) {
      const int err = errno;
      ::close(fd);
      errno = err;
      throw_system_error("listen " + path);
    }
    try {
      socket.bind("ipc://" + path);  // libzmq now owns (and will close) fd
    } catch (const zmq::error_t& e) {
      ::close(fd);
      rethrow_zmq(e, ("zmq bind ipc://" + path).c_str());
    }
    return owned;
  }

  // tcp: the port file is the name. Create it first (O_EXCL), then bind, then write the port.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw_channel_exists(f.name, channel, path);
    throw_system_error("create " + path);
  }
  OwnedFile owned(path);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  try {
    socket.bind("tcp://127.0.0.1:*");
  } catch (const zmq::error_t& e) {
    rethrow_zmq(e, "zmq bind tcp://127.0.0.1:*");
  }
  const std::string endpoint = socket.get(zmq::sockopt::last_endpoint);  // "tcp://127.0.0.1:40123"
  const std::string port = endpoint.substr(endpoint.rfind(':') + 1) + "\n";
  if (::write(fd, port.data(), port.size()) != static_cast<ssize_t>(port.size()))
    throw_system_error("write " + path);
  return owned;
}

std::string connect_address(const Flavor& f, const std::string& channel, const char* suffix) {
  const std::string path = name_path(channel, suffix);
  if (f.kind == Kind::Ipc) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) throw_missing(f, channel);
      throw_system_error("cannot inspect " + path);
    }
    if (!S_ISSOCK(st.st_mode))
      throw Error(Errc::Corrupt, std::string(f.name) + " channel '" + channel + "': " + path + " is not a socket");
    return "ipc://" + path;
  }
  // The server creates the file, then binds, then writes the port: a reader may catch it empty.
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) throw_missing(f, channel);
      throw_system_error("open " + path);
    }
    std::array<char, 32> text{};
    const ssize_t n = ::read(fd, text.data(), text.size());
    ::close(fd);
    if (n < 0) throw_system_error("read " + path);
    if (n == 0 && attempt < 1000) {
      std::this_thread::sleep_for(1ms);
      continue;
    }
    unsigned port = 0;
    const char* end = text.data() + n;
    const auto [next, ec] = std::from_chars(text.data(), end, port);
    const bool tail_ok = next == end || (*next == '\n' && next + 1 == end);
    if (ec != std::errc() || next == text.data() || !tail_ok || port < 1 || port > 65535)
      throw Error(Errc::Corrupt, std::string(f.name) + " channel '" + channel + "': " + path +
                                     " does not hold a port number (1..65535)");
    return "tcp://127.0.0.1:" + std::to_string(port);
  }
}

bool poll_once(zmq::socket_t& socket, short events, Clock::duration slice) {
  zmq_pollitem_t item{socket.handle(), 0, events, 0};
  const int n = zmq_poll(&item, 1, std::chrono::ceil<std::chrono::milliseconds>(slice).count());
  if (n < 0 && zmq_errno() != EINTR) throw Error(Errc::System, std::string("zmq_poll: ") + zmq_strerror(zmq_errno()));
  return n > 0 && (item.revents & events);
}

void wait_ready(zmq::socket_t& socket, short events, Deadline deadline, const PeerProcess& peer,
                const char* waiting_for) {
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) throw Error(Errc::Timeout, std::string("timed out waiting for ") + waiting_for);
    if (poll_once(socket, events, std::min<Clock::duration>(deadline - now, kPeerCheck))) return;
    if (peer.gone()) {
      if ((events & ZMQ_POLLIN) &&
          poll_once(socket, events, std::clamp<Clock::duration>(deadline - Clock::now(), {}, kDrainAfterPeerGone)))
        return;
      throw Error(Errc::PeerGone, "the peer process (pid " + std::to_string(peer.pid()) + ") has exited");
    }
  }
}

}  // namespace ipcmark::zmq_common
