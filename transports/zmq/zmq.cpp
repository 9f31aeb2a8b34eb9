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
#include "transports/zmq/zmq.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "transports/common/process.hpp"
#include "transports/names.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;  // the harness buffers cap it; libzmq allows more
constexpr auto kPeerCheck = 10ms;                      // how often a waiting side checks the peer pid
constexpr auto kPublishPoll = 50ms;                    // serve_readers' stop() cadence
constexpr auto kDrainAfterPeerGone = 100ms;            // data in flight from a peer that exited
constexpr int kCloseLingerMs = 1000;                   // flush on close while the peer lives
constexpr int kPublishLingerMs = 200;                  // let the last reader's answer out

enum class Kind { Ipc, Tcp };

struct Flavor {
  Kind kind;
  const char* name;         // transport name, in messages
  const char* suffix;       // channel's name file
  const char* news_suffix;  // one-shot demo's name file
};

constexpr Flavor kIpc{Kind::Ipc, "zmq", ".zmq", ".zmq-news"};
constexpr Flavor kTcp{Kind::Tcp, "zmq-tcp", ".zmqtcp", ".zmqtcp-news"};

std::string name_path(const std::string& channel, const char* suffix) {
  validate_channel_name(channel);
  return private_runtime_dir() + "/" + channel + suffix;
}

[[noreturn]] void throw_exists(const Flavor& f, const std::string& channel, const std::string& path) {
  throw Error(Errc::AlreadyExists, std::string(f.name) + " channel '" + channel + "' already exists (" + path +
                                       "); another server is running, or a crashed one left it: pass --replace "
                                       "or run `ipcmark clean --channel " + channel + "`");
}

[[noreturn]] void throw_missing(const Flavor& f, const std::string& channel) {
  throw Error(Errc::DoesNotExist,
              std::string(f.name) + " channel '" + channel + "' does not exist (is the server running?)");
}

[[noreturn]] void rethrow_zmq(const zmq::error_t& e, const char* what) {
  throw Error(Errc::System, std::string(what) + ": " + e.what());
}

// A name file this process created: removed on destruction only if it is still the same file
// (a server started with --replace may have taken the name over).
class OwnedFile {
 public:
  OwnedFile() = default;
  explicit OwnedFile(std::string path) : path_(std::move(path)) {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) throw_system_error("cannot inspect " + path_);
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
  OwnedFile(OwnedFile&& other) noexcept
      : path_(std::exchange(other.path_, {})), dev_(other.dev_), ino_(other.ino_) {}
  OwnedFile& operator=(OwnedFile&& other) noexcept {
    if (this != &other) {
      release();
      path_ = std::exchange(other.path_, {});
      dev_ = other.dev_;
      ino_ = other.ino_;
    }
    return *this;
  }
  OwnedFile(const OwnedFile&) = delete;
  ~OwnedFile() { release(); }

  void release() noexcept {
    if (path_.empty()) return;
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
    path_.clear();
  }

 private:
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

void set_common_options(zmq::socket_t& socket, int hwm) {
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::sndhwm, hwm);
  socket.set(zmq::sockopt::rcvhwm, hwm);
}

// Binds `socket` to the channel's name; returns the file that now names it.
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
      if (err == EADDRINUSE) throw_exists(f, channel, path);
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
    if (errno == EEXIST) throw_exists(f, channel, path);
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

// The address a client connects to; DoesNotExist at once when the name file is missing
// (ZeroMQ's own connect would wait forever).
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

void check_size(std::size_t size, std::size_t max_message) {
  if (size == 0 || size > max_message)
    throw Error(Errc::MessageTooLarge, "message of " + std::to_string(size) + " bytes is outside 1.." +
                                           std::to_string(max_message) + " for this channel");
}

// One zmq_poll of at most `slice`; true if `socket` is ready for `events`.
bool poll_once(zmq::socket_t& socket, short events, Clock::duration slice) {
  zmq_pollitem_t item{socket.handle(), 0, events, 0};
  const int n = zmq_poll(&item, 1, std::chrono::ceil<std::chrono::milliseconds>(slice).count());
  if (n < 0 && zmq_errno() != EINTR) throw Error(Errc::System, std::string("zmq_poll: ") + zmq_strerror(zmq_errno()));
  return n > 0 && (item.revents & events);
}

// Waits until `socket` is ready for `events`, in slices of kPeerCheck, checking `peer` between
// slices. Throws Timeout at the deadline, PeerGone once the peer process has exited (a receiver
// first drains, for up to kDrainAfterPeerGone, what the peer flushed before it exited).
void wait_ready(zmq::socket_t& socket, short events, Deadline deadline, pid_t peer, const char* waiting_for) {
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) throw Error(Errc::Timeout, std::string("timed out waiting for ") + waiting_for);
    if (poll_once(socket, events, std::min<Clock::duration>(deadline - now, kPeerCheck))) return;
    if (process_is_gone(peer)) {
      if ((events & ZMQ_POLLIN) &&
          poll_once(socket, events, std::clamp<Clock::duration>(deadline - Clock::now(), {}, kDrainAfterPeerGone)))
        return;
      throw Error(Errc::PeerGone, "the peer process (pid " + std::to_string(peer) + ") has exited");
    }
  }
}

// The handshake message: magic and the sender's pid.
constexpr std::array<char, 8> kHelloMagic{'i', 'p', 'c', 'm', 'z', 'm', 'q', '1'};
constexpr std::size_t kHelloSize = kHelloMagic.size() + sizeof(std::int32_t);

class ZmqConnection final : public Connection {
 public:
  ZmqConnection(const Flavor& flavor, const ChannelConfig& config, bool is_server)
      : flavor_(flavor), channel_(config.channel), is_server_(is_server), max_message_(config.max_message) {
    validate_channel_name(config.channel);
    if (config.max_message == 0 || config.max_message > kMaxMessage)
      throw Error(Errc::MessageTooLarge, std::string(flavor.name) + " messages are limited to 1.." +
                                             std::to_string(kMaxMessage) + " bytes");
    try {
      const int hwm = static_cast<int>(std::clamp<std::size_t>((64u << 20) / config.max_message, 4, 1000));
      set_common_options(socket_, hwm);
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
    const bool peer_alive = peer_pid_ != 0 && !process_is_gone(peer_pid_);
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
        wait_ready(socket_, ZMQ_POLLOUT, deadline, peer_pid_, "the peer to make room");
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
        wait_ready(socket_, ZMQ_POLLIN, deadline, peer_pid_, "data");
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
      wait_ready(socket_, ZMQ_POLLOUT, deadline, peer_pid_, "the peer to take the handshake");
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
        peer_pid_ = pid;
        return;
      }
      wait_ready(socket_, ZMQ_POLLIN, deadline, peer_pid_, waiting_for);
    }
  }

  const Flavor& flavor_;
  std::string channel_;
  bool is_server_;
  std::size_t max_message_;
  pid_t peer_pid_ = 0;  // 0 until the handshake: nothing to check
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
      wait_ready(socket, ZMQ_POLLOUT, deadline, 0, "the server to accept the reader");
    zmq::message_t reply;
    while (!socket.recv(reply, zmq::recv_flags::dontwait))
      wait_ready(socket, ZMQ_POLLIN, deadline, 0, "the server to send the message");
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
  if (message.size() > size)
    throw Error(Errc::InvalidArgument, "message of " + std::to_string(message.size()) +
                                           " bytes does not fit the channel size of " + std::to_string(size));
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

}  // namespace

const Transport& zmq_transport() {
  static const Transport transport{
      .name = "zmq",
      .summary = "ZeroMQ PAIR sockets over ipc:// (unix socket), cppzmq, handshake carries peer pids",
      .has_wait_modes = false,
      .max_message = kMaxMessage,
      .serve = &serve<kIpc>,
      .connect = &connect<kIpc>,
      .remove = &remove<kIpc>,
      .publish = &publish<kIpc>,
      .fetch = &fetch<kIpc>,
  };
  return transport;
}

const Transport& zmq_tcp_transport() {
  static const Transport transport{
      .name = "zmq-tcp",
      .summary = "ZeroMQ PAIR sockets over tcp://127.0.0.1 (ephemeral port in a file), cppzmq",
      .has_wait_modes = false,
      .max_message = kMaxMessage,
      .serve = &serve<kTcp>,
      .connect = &connect<kTcp>,
      .remove = &remove<kTcp>,
      .publish = &publish<kTcp>,
      .fetch = &fetch<kTcp>,
  };
  return transport;
}

}  // namespace ipcmark
