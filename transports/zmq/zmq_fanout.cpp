// transports/zmq/zmq_fanout.cpp — the zmq transports' native fanout: one XPUB writer, N SUB
// readers, over ipc:// ("zmq") or tcp://127.0.0.1 ("zmq-tcp"); every reader gets every message.
//
// Why XPUB rather than PUB: a PUB cannot tell who has subscribed, and a message published
// before a reader's subscription has reached the writer is silently lost to it (ZeroMQ's
// "slow joiner"). XPUB hands the writer each subscription as a message, so accept() can wait
// until all N readers are really subscribed before the first message goes out. Each reader
// subscribes to everything ("") and then to a hello topic "ipcmark-fan-reader:<pid>.<n>" on the
// same connection; ZeroMQ applies them in order, so once the writer reads the hello, that
// reader's "" subscription is in force. ZMQ_XPUB_VERBOSE passes every subscription up, not just
// the first of each topic. The hello topic is unique per reader, so it never widens what a
// reader gets ("" already matches everything, and a message is delivered once per reader).
//
// Liveness, writer side: when a reader's connection ends (it died: the kernel closes its
// socket; or it closed), libzmq terminates that pipe and, the hello topic being unique, queues
// its unsubscription "\0ipcmark-fan-reader:<pid>.<n>" for the writer to read (a unique topic's
// unsubscription always comes up, so ZMQ_XPUB_VERBOSER is not needed). The writer reads
// them every kDrainEvery sends and whenever it waits, and counts them: that is readers_lost().
// So it counts readers that went away while the writer was still in accept() or send(); one
// that leaves after the last send is not counted (a reader that finished and closed is not
// lost). With no reader left, send() is PeerGone, as for the generic fanout.
// Liveness, reader side: the writer's pid arrives in ZMQ_XPUB_WELCOME_MSG, which libzmq puts
// first on each new connection only; the reader's accept() takes it (a 12-byte magic + pid,
// as zmq.cpp's hello). receive() then checks that pid about every 10 ms while waiting and,
// once it has exited, drains what is left for up to 100 ms before PeerGone. (Readers keep
// libzmq's default reconnect: with ZMQ_RECONNECT_IVL -1, libzmq drops the messages a reader has
// not yet taken as soon as the writer's connection ends — the writer's last messages would be
// lost.)
//
// Back-pressure (closed loop, lossy=false): ZMQ_XPUB_NODROP=1, so a message that does not fit
// the fullest reader's pipe is refused whole (EAGAIN, never delivered to some readers only)
// instead of being dropped. A full XPUB still polls writable (its POLLOUT is always on), so
// the writer sleeps on the socket's ZMQ_FD instead — signalled by any command, among them the
// reader's "room again" — after re-reading ZMQ_EVENTS, in slices of at most 10 ms up to the
// deadline. A dead reader's pipe is terminated, so it never blocks the others for long.
// Open loop (lossy=true): plain PUB semantics: a reader's pipe over its high-water mark loses
// the message; readers see the gaps in their sequence numbers. Nothing here hides a drop.
// High-water marks (writer's SNDHWM per reader, reader's RCVHWM) are zmq.cpp's: 64 MiB worth of
// messages, 4..1000.
//
// Names: as zmq.cpp's, with their own suffix: the ipc socket <channel>.zmq-fan (bound by us,
// handed to libzmq with ZMQ_USE_FD, so AlreadyExists is atomic) and the tcp port file
// <channel>.zmqtcp-fan (O_EXCL); the writer removes its name when destroyed, remove() after a
// crash. Closing lingers up to 1 s while a reader remains so the last messages reach it.
#include "transports/zmq/zmq_fanout.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "transports/names.hpp"

namespace ipcmark::zmq_fanout {
namespace {

using namespace zmq_common;

constexpr std::string_view kHelloTopic = "ipcmark-fan-reader:";  // + "<pid>.<n>": unique per reader
constexpr std::array<char, 8> kWelcomeMagic{'i', 'p', 'c', 'm', 'z', 'f', 'a', 'n'};
constexpr std::size_t kWelcomeSize = kWelcomeMagic.size() + sizeof(std::int32_t);
constexpr unsigned kDrainEvery = 64;  // sends between looks at the subscription queue: ~1 syscall each

class Writer final : public FanoutWriter {
 public:
  Writer(const Flavor& flavor, const FanoutConfig& config)
      : flavor_(flavor),
        channel_(config.channel.channel),
        readers_(config.readers),
        max_message_(config.channel.max_message) {
    validate_channel_name(channel_);
    check_max_message(flavor, max_message_);
    if (readers_ < 1 || readers_ > kMaxReaders)
      throw Error(Errc::InvalidArgument, "invalid reader count " + std::to_string(readers_) + ": use 1 to " +
                                             std::to_string(kMaxReaders));
    std::array<char, kWelcomeSize> welcome{};
    const std::int32_t pid = ::getpid();
    std::memcpy(welcome.data(), kWelcomeMagic.data(), kWelcomeMagic.size());
    std::memcpy(welcome.data() + kWelcomeMagic.size(), &pid, sizeof pid);
    try {
      socket_.set(zmq::sockopt::linger, 0);
      socket_.set(zmq::sockopt::sndhwm, high_water_mark(max_message_));
      socket_.set(zmq::sockopt::xpub_verbose, 1);
      socket_.set(zmq::sockopt::xpub_nodrop, config.lossy ? 0 : 1);
      socket_.set(zmq::sockopt::xpub_welcome_msg, zmq::buffer(welcome));
      name_ = bind_endpoint(flavor_, socket_, channel_, flavor_.fan_suffix);
      fd_ = socket_.get(zmq::sockopt::fd);
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq fanout serve");
    }
  }

  ~Writer() override {
    // Flush to the readers still there; a dead reader's pipe is gone and never waited for.
    try {
      socket_.set(zmq::sockopt::linger, joined_ > lost_ ? kCloseLingerMs : 0);
    } catch (const zmq::error_t&) {
    }
  }

  void accept(Deadline deadline) override {
    try {
      for (;;) {
        drain_subscriptions();
        if (joined_ >= readers_) return;
        const auto now = Clock::now();
        if (now >= deadline)
          throw Error(Errc::Timeout, "timed out waiting for " + std::to_string(readers_) + " " + flavor_.name +
                                         " fanout readers: " + std::to_string(joined_) + " joined");
        (void)poll_once(socket_, ZMQ_POLLIN, std::min<Clock::duration>(deadline - now, kPeerCheck));
      }
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq fanout accept");
    }
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    check_size(message.size(), max_message_);
    try {
      if (++sends_ % kDrainEvery == 0) {
        drain_subscriptions();
        check_someone_listens();
      }
      if (try_send(message)) return;
      for (;;) {  // NODROP: the fullest reader's pipe is at its high-water mark
        drain_subscriptions();
        check_someone_listens();
        (void)socket_.get(zmq::sockopt::events);  // takes in libzmq's pending commands ("room again")
        if (try_send(message)) return;
        const auto now = Clock::now();
        if (now >= deadline)
          throw Error(Errc::Timeout, "timed out waiting for the slowest of " + std::to_string(joined_ - lost_) +
                                         " " + flavor_.name + " fanout readers to make room");
        pollfd item{fd_, POLLIN, 0};
        const auto slice = std::chrono::ceil<std::chrono::milliseconds>(
            std::min<Clock::duration>(deadline - now, kPeerCheck));
        if (::poll(&item, 1, static_cast<int>(slice.count())) < 0 && errno != EINTR) throw_system_error("poll");
      }
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq fanout send");
    }
  }

  int readers_lost() const override { return lost_; }

 private:
  bool try_send(std::span<const std::byte> message) {
    return socket_.send(zmq::const_buffer(message.data(), message.size()), zmq::send_flags::dontwait).has_value();
  }

  // Reads every queued (un)subscription: hellos count readers in, their unsubscriptions out.
  void drain_subscriptions() {
    std::array<char, 64> text{};
    while (const auto got = socket_.recv(zmq::buffer(text), zmq::recv_flags::dontwait)) {
      if (got->truncated() || got->size < 1) continue;  // not ours: ours are short
      if (!std::string_view(text.data() + 1, got->size - 1).starts_with(kHelloTopic))
        continue;  // the "" subscriptions, or a stranger's topic
      if (text[0] == 1) {
        ++joined_;
      } else if (text[0] == 0) {
        ++lost_;
      }
    }
  }

  void check_someone_listens() const {
    if (lost_ >= joined_)
      throw Error(Errc::PeerGone, "every " + std::string(flavor_.name) + " fanout reader has gone");
  }

  const Flavor& flavor_;
  std::string channel_;
  int readers_;
  std::size_t max_message_;
  int joined_ = 0;  // hellos seen
  int lost_ = 0;    // hellos' unsubscriptions seen: readers whose connection ended
  unsigned sends_ = 0;
  int fd_ = -1;     // libzmq's notification fd for socket_
  OwnedFile name_;  // destroyed after the socket below (members die in reverse order)
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::xpub};
};

class Reader final : public Connection {
 public:
  Reader(const Flavor& flavor, const ChannelConfig& config) : flavor_(flavor), channel_(config.channel) {
    validate_channel_name(channel_);
    check_max_message(flavor, config.max_message);
    const std::string address = connect_address(flavor_, channel_, flavor_.fan_suffix);
    static std::atomic<unsigned> readers_here{0};  // unique topics even for readers in one process
    const std::string hello =
        std::string(kHelloTopic) + std::to_string(::getpid()) + "." + std::to_string(readers_here++);
    try {
      socket_.set(zmq::sockopt::linger, 0);
      socket_.set(zmq::sockopt::rcvhwm, high_water_mark(config.max_message));
      socket_.set(zmq::sockopt::subscribe, "");  // first: in force by the time the writer sees the hello
      socket_.set(zmq::sockopt::subscribe, hello);
      socket_.connect(address);
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq fanout connect");
    }
  }

  // Takes the writer's welcome (its pid), the first message on the connection.
  void accept(Deadline deadline) override {
    std::array<char, kWelcomeSize + 1> welcome{};
    try {
      for (;;) {
        if (const auto got = socket_.recv(zmq::buffer(welcome), zmq::recv_flags::dontwait)) {
          if (got->untruncated_size != kWelcomeSize ||
              std::memcmp(welcome.data(), kWelcomeMagic.data(), kWelcomeMagic.size()) != 0)
            throw Error(Errc::Corrupt, std::string(flavor_.name) + " fanout channel '" + channel_ +
                                           "': the writer's welcome is not an ipcmark one");
          std::int32_t pid = 0;
          std::memcpy(&pid, welcome.data() + kWelcomeMagic.size(), sizeof pid);
          writer_ = PeerProcess(pid);
          return;
        }
        wait_ready(socket_, ZMQ_POLLIN, deadline, PeerProcess{}, "the fanout writer's welcome");
      }
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq fanout accept");
    }
  }

  void send(std::span<const std::byte>, Deadline) override {
    throw Error(Errc::InvalidArgument, "a fanout reader only receives");
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    try {
      for (;;) {
        if (const auto got =
                socket_.recv(zmq::mutable_buffer(buffer.data(), buffer.size()), zmq::recv_flags::dontwait)) {
          if (got->truncated())
            throw Error(Errc::Corrupt, std::string(flavor_.name) + " fanout channel '" + channel_ + "' delivered " +
                                           std::to_string(got->untruncated_size) + " bytes into a buffer of " +
                                           std::to_string(buffer.size()));
          return got->size;
        }
        wait_ready(socket_, ZMQ_POLLIN, deadline, writer_, "data");
      }
    } catch (const zmq::error_t& e) {
      rethrow_zmq(e, "zmq fanout receive");
    }
  }

 private:
  const Flavor& flavor_;
  std::string channel_;
  PeerProcess writer_;  // none until the welcome: nothing to check
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::sub};
};

}  // namespace

std::unique_ptr<FanoutWriter> serve(const Flavor& flavor, const FanoutConfig& config) {
  return std::make_unique<Writer>(flavor, config);
}

std::unique_ptr<Connection> connect(const Flavor& flavor, const ChannelConfig& config, int reader) {
  if (reader < 0 || reader >= kMaxReaders)
    throw Error(Errc::InvalidArgument,
                "invalid reader " + std::to_string(reader) + ": use 0 to " + std::to_string(kMaxReaders - 1));
  return std::make_unique<Reader>(flavor, config);
}

void remove(const Flavor& flavor, const std::string& channel) {
  ::unlink(name_path(channel, flavor.fan_suffix).c_str());
}

}  // namespace ipcmark::zmq_fanout
