// transports/mq/mq.cpp — POSIX message queues (mq_open/mq_timedsend/mq_timedreceive).
//
// Chosen for speed: the kernel keeps message boundaries, so a message is one mq_timedsend and
// one mq_timedreceive — no framing, no length prefix, no read-ahead. Data goes straight from
// the caller's buffer and into it (a scratch buffer is used only when the caller's buffer is
// smaller than the queue's mq_msgsize, which the kernel insists on). Queue descriptors are
// blocking; every call carries an absolute CLOCK_REALTIME timeout (the deadline converted, cut
// into slices of at most 10 ms) so a wait returns by its deadline and checks the peer between
// slices. A full queue makes mq_timedsend wait: back-pressure, never a drop.
//
// Names: two queues per channel, /<channel>.s2c (server to client) and /<channel>.c2s, created
// O_EXCL mode 0600 by serve() (EEXIST is AlreadyExists) and unlinked by the server's
// destructor or remove(). The one-shot demo uses /<channel>.news.
//
// Handshake and peer death: message priorities mark control messages, so data needs no
// header. accept(): the client sends a hello (priority 2) carrying its pid on c2s, the server
// answers with its own pid on s2c; data is priority 1; a side closing its Connection sends a
// bye (priority 0), which the kernel delivers after every data message already queued, so the
// peer sees PeerGone only after the last message. A peer that dies without a bye is found by
// checking its pid (kill(pid, 0), plus a zombie check in /proc) every 10 ms while waiting.
//
// What mq cannot do: messages are limited to /proc/sys/fs/mqueue/msgsize_max (8192 by default)
// and a queue holds at most /proc/sys/fs/mqueue/msg_max messages (10 by default); both are
// read once and checked, never silently clamped: the descriptor's max_message is the real
// msgsize_max, and serve() refuses a bigger max_message with MessageTooLarge. Queue depth is
// min(msg_max, 10), lowered further if RLIMIT_MSGQUEUE would not hold both queues. Queues have
// no owner check: a server started with --replace and the old one's destructor unlink the
// same names (mq descriptors expose no identity to compare).
#include "transports/mq/mq.hpp"

#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "transports/common/process.hpp"
#include "transports/names.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;

constexpr auto kPeerCheck = 10ms;    // longest single kernel wait: the peer is checked this often
constexpr auto kPublishPoll = 50ms;  // serve_readers' stop() cadence
constexpr long kDepth = 10;          // messages per queue, if msg_max and RLIMIT_MSGQUEUE allow
constexpr unsigned kByePriority = 0, kDataPriority = 1, kHelloPriority = 2;
constexpr std::size_t kHelloSize = sizeof(std::int32_t);
constexpr std::size_t kQueueOverhead = 128;  // kernel bookkeeping per message, for RLIMIT_MSGQUEUE

struct Limits {
  std::size_t msgsize_max;
  long msg_max;
};

long read_proc_long(const char* path, long fallback) {
  std::ifstream in(path);
  long value = 0;
  return (in >> value) && value > 0 ? value : fallback;
}

// Read once, at first use; the kernel defaults if /proc cannot be read.
const Limits& limits() {
  static const Limits l{static_cast<std::size_t>(read_proc_long("/proc/sys/fs/mqueue/msgsize_max", 8192)),
                        read_proc_long("/proc/sys/fs/mqueue/msg_max", 10)};
  return l;
}

[[noreturn]] void throw_too_large() {
  throw Error(Errc::MessageTooLarge, "mq messages are limited to " + std::to_string(limits().msgsize_max) +
                                         " bytes (/proc/sys/fs/mqueue/msgsize_max)");
}

std::string queue_name(const std::string& channel, const char* suffix) {
  validate_channel_name(channel);
  if (channel.size() + std::strlen(suffix) > NAME_MAX)
    throw Error(Errc::InvalidArgument, "channel name '" + channel + "' is too long for a message queue name");
  return "/" + channel + suffix;
}

[[noreturn]] void throw_missing(const std::string& channel) {
  throw Error(Errc::DoesNotExist, "mq channel '" + channel + "' does not exist (is the server running?)");
}

// The absolute CLOCK_REALTIME time at which a wait of min(deadline - now, slice) ends.
timespec slice_end(Deadline deadline, Clock::duration slice) {
  const auto left = std::clamp<Clock::duration>(deadline - Clock::now(), Clock::duration::zero(), slice);
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const long long ns = now.tv_nsec + std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  return timespec{static_cast<time_t>(now.tv_sec + ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

class Queue {
 public:
  Queue() = default;
  explicit Queue(mqd_t q) : q_(q) {}
  Queue(Queue&& other) noexcept : q_(std::exchange(other.q_, mqd_t(-1))) {}
  Queue& operator=(Queue&& other) noexcept {
    if (this != &other) {
      reset();
      q_ = std::exchange(other.q_, mqd_t(-1));
    }
    return *this;
  }
  ~Queue() { reset(); }
  void reset() noexcept {
    if (q_ != mqd_t(-1)) ::mq_close(q_);
    q_ = mqd_t(-1);
  }
  mqd_t get() const noexcept { return q_; }
  explicit operator bool() const noexcept { return q_ != mqd_t(-1); }

 private:
  mqd_t q_ = mqd_t(-1);
};

Queue create_queue(const std::string& channel, const std::string& name, int mode, std::size_t msgsize, long depth) {
  mq_attr attr{};
  attr.mq_maxmsg = depth;
  attr.mq_msgsize = static_cast<long>(msgsize);
  const mqd_t q = ::mq_open(name.c_str(), mode | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
  if (q != mqd_t(-1)) return Queue(q);
  if (errno == EEXIST) throw_channel_exists("mq", channel, name);
  if (errno == EMFILE || errno == ENOMEM)
    throw_system_error("mq_open " + name + " (" + std::to_string(depth) + " x " + std::to_string(msgsize) +
                       " bytes; RLIMIT_MSGQUEUE or fs.mqueue.queues_max)");
  throw_system_error("mq_open " + name);
}

Queue open_queue(const std::string& channel, const std::string& name, int mode) {
  const mqd_t q = ::mq_open(name.c_str(), mode | O_CLOEXEC);
  if (q != mqd_t(-1)) return Queue(q);
  if (errno == ENOENT) throw_missing(channel);
  throw_system_error("mq_open " + name);
}

std::size_t queue_msgsize(const Queue& q, const std::string& name) {
  mq_attr attr{};
  if (::mq_getattr(q.get(), &attr) != 0) throw_system_error("mq_getattr " + name);
  return static_cast<std::size_t>(attr.mq_msgsize);
}

// Depth for two queues of `msgsize`: min(msg_max, kDepth), and what RLIMIT_MSGQUEUE allows.
long queue_depth(std::size_t msgsize) {
  long depth = std::min(limits().msg_max, kDepth);
  rlimit rl{};
  if (::getrlimit(RLIMIT_MSGQUEUE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const auto fits = static_cast<long>(rl.rlim_cur / (2 * (msgsize + kQueueOverhead)));
    if (fits < 1)
      throw Error(Errc::MessageTooLarge, "two mq queues of " + std::to_string(msgsize) +
                                             "-byte messages exceed RLIMIT_MSGQUEUE (" +
                                             std::to_string(rl.rlim_cur) + " bytes; raise `ulimit -q`)");
    depth = std::min(depth, fits);
  }
  return depth;
}

class MqConnection final : public Connection {
 public:
  MqConnection(const ChannelConfig& config, bool is_server)
      : channel_(config.channel),
        s2c_name_(queue_name(config.channel, ".s2c")),
        c2s_name_(queue_name(config.channel, ".c2s")),
        is_server_(is_server),
        max_message_(config.max_message) {
    if (config.max_message == 0) throw Error(Errc::MessageTooLarge, "mq max_message must be at least 1 byte");
    if (config.max_message > limits().msgsize_max) throw_too_large();
    if (is_server_) {
      // The hello (a pid) must fit too, even on a channel of 1-byte messages.
      msgsize_ = std::max(config.max_message, kHelloSize);
      const long depth = queue_depth(msgsize_);
      out_ = create_queue(channel_, s2c_name_, O_WRONLY, msgsize_, depth);
      try {
        in_ = create_queue(channel_, c2s_name_, O_RDONLY, msgsize_, depth);
      } catch (...) {
        ::mq_unlink(s2c_name_.c_str());
        throw;
      }
    } else {
      in_ = open_queue(channel_, s2c_name_, O_RDONLY);
      out_ = open_queue(channel_, c2s_name_, O_WRONLY);
      msgsize_ = queue_msgsize(in_, s2c_name_);
      if (msgsize_ < config.max_message || queue_msgsize(out_, c2s_name_) < config.max_message)
        throw Error(Errc::MessageTooLarge, "mq channel '" + channel_ + "' carries messages of at most " +
                                               std::to_string(msgsize_) + " bytes, fewer than the " +
                                               std::to_string(config.max_message) + " asked for");
    }
    scratch_.resize(msgsize_);
  }

  ~MqConnection() override {
    // Tell the peer we are leaving; behind any data still queued. A full queue skips it
    // (the peer then finds our pid gone, or times out).
    const std::byte bye{0};
    const timespec now = slice_end(Clock::now(), Clock::duration::zero());
    ::mq_timedsend(out_.get(), reinterpret_cast<const char*>(&bye), 1, kByePriority, &now);
    in_.reset();
    out_.reset();
    if (is_server_) {
      ::mq_unlink(s2c_name_.c_str());
      ::mq_unlink(c2s_name_.c_str());
    }
  }

  void accept(Deadline deadline) override {
    if (is_server_) {
      receive_hello(deadline, "the client to connect");
      send_hello(deadline);
    } else {
      send_hello(deadline);
      receive_hello(deadline, "the server to answer the handshake");
    }
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    if (message.empty() || message.size() > max_message_)
      throw Error(Errc::MessageTooLarge, "message of " + std::to_string(message.size()) + " bytes is outside 1.." +
                                             std::to_string(max_message_) + " for this channel");
    send_raw(message, kDataPriority, deadline, "the reader to make room");
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    const bool direct = buffer.size() >= msgsize_;
    const std::span<std::byte> into = direct ? buffer : std::span(scratch_);
    unsigned priority = 0;
    const std::size_t n = receive_raw(into, &priority, deadline, "data");
    if (priority == kByePriority) throw Error(Errc::PeerGone, "the peer closed the mq channel");
    if (priority != kDataPriority || n == 0 || n > max_message_ || n > buffer.size())
      throw Error(Errc::Corrupt, "mq channel '" + channel_ + "' delivered a message of " + std::to_string(n) +
                                     " bytes at priority " + std::to_string(priority) + " (expected 1.." +
                                     std::to_string(std::min(max_message_, buffer.size())) + " at priority " +
                                     std::to_string(kDataPriority) + ")");
    if (!direct) std::memcpy(buffer.data(), scratch_.data(), n);
    return n;
  }

 private:
  void send_raw(std::span<const std::byte> message, unsigned priority, Deadline deadline, const char* waiting_for) {
    for (;;) {
      const timespec until = slice_end(deadline, kPeerCheck);
      if (::mq_timedsend(out_.get(), reinterpret_cast<const char*>(message.data()), message.size(), priority,
                         &until) == 0)
        return;
      if (errno != ETIMEDOUT && errno != EINTR) throw_system_error("mq_timedsend " + out_name());
      check_wait(deadline, waiting_for);
    }
  }

  std::size_t receive_raw(std::span<std::byte> into, unsigned* priority, Deadline deadline, const char* waiting_for) {
    for (;;) {
      const timespec until = slice_end(deadline, kPeerCheck);
      const ssize_t n = ::mq_timedreceive(in_.get(), reinterpret_cast<char*>(into.data()), into.size(), priority, &until);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != ETIMEDOUT && errno != EINTR) throw_system_error("mq_timedreceive " + in_name());
      if (peer_.gone()) {
        // It may have sent its last message between our timeout and its exit: take it first.
        const timespec now = slice_end(Clock::now(), Clock::duration::zero());
        const ssize_t last =
            ::mq_timedreceive(in_.get(), reinterpret_cast<char*>(into.data()), into.size(), priority, &now);
        if (last >= 0) return static_cast<std::size_t>(last);
      }
      check_wait(deadline, waiting_for);
    }
  }

  void check_wait(Deadline deadline, const char* waiting_for) const {
    if (peer_.gone())
      throw Error(Errc::PeerGone, "the peer process (pid " + std::to_string(peer_.pid()) + ") has exited");
    if (Clock::now() >= deadline) throw Error(Errc::Timeout, std::string("timed out waiting for ") + waiting_for);
  }

  void send_hello(Deadline deadline) {
    const std::int32_t pid = ::getpid();
    send_raw(std::as_bytes(std::span(&pid, 1)), kHelloPriority, deadline, "the peer to take the handshake");
  }

  void receive_hello(Deadline deadline, const char* waiting_for) {
    unsigned priority = 0;
    const std::size_t n = receive_raw(scratch_, &priority, deadline, waiting_for);
    if (priority == kByePriority) throw Error(Errc::PeerGone, "the peer closed the mq channel during the handshake");
    if (priority != kHelloPriority || n != kHelloSize)
      throw Error(Errc::Corrupt, "mq channel '" + channel_ + "': the peer's handshake is not an ipcmark hello");
    std::int32_t pid = 0;
    std::memcpy(&pid, scratch_.data(), sizeof pid);
    peer_ = PeerProcess(pid);
  }

  const std::string& in_name() const { return is_server_ ? c2s_name_ : s2c_name_; }
  const std::string& out_name() const { return is_server_ ? s2c_name_ : c2s_name_; }

  std::string channel_, s2c_name_, c2s_name_;
  bool is_server_;
  std::size_t max_message_;
  std::size_t msgsize_ = 0;  // the queues' mq_msgsize: mq_timedreceive wants a buffer this big
  std::vector<std::byte> scratch_;
  Queue in_, out_;
  PeerProcess peer_;  // none until the handshake: nothing to check
};

// The one-shot demo: one queue, /<channel>.news, one message deep. The server keeps it topped
// up with a copy of the message (mq_timedsend blocks while it is full, in 50 ms slices so
// stop() is checked); each reader takes one copy with mq_timedreceive. No request queue is
// needed. A crashed server leaves its last copy behind until `ipcmark clean`.
class MqPublication final : public Publication {
 public:
  MqPublication(const std::string& channel, std::span<const std::byte> message, bool replace)
      : name_(queue_name(channel, ".news")), message_(message.begin(), message.end()) {
    if (replace) ::mq_unlink(name_.c_str());
    queue_ = create_queue(channel, name_, O_WRONLY, std::max<std::size_t>(message.size(), 1), 1);
    top_up(Clock::now());  // a reader arriving before serve_readers() still gets it
  }
  ~MqPublication() override {
    queue_.reset();
    ::mq_unlink(name_.c_str());
  }

  void serve_readers(bool (*stop)()) override {
    while (!stop()) top_up(Clock::now() + kPublishPoll);
  }

 private:
  void top_up(Deadline until) {
    const timespec t = slice_end(until, kPublishPoll);
    if (::mq_timedsend(queue_.get(), reinterpret_cast<const char*>(message_.data()), message_.size(), 0, &t) != 0 &&
        errno != ETIMEDOUT && errno != EINTR)
      throw_system_error("mq_timedsend " + name_);
  }

  std::string name_;
  std::vector<std::byte> message_;
  Queue queue_;
};

std::unique_ptr<Connection> serve(const ChannelConfig& config) { return std::make_unique<MqConnection>(config, true); }

std::unique_ptr<Connection> connect(const ChannelConfig& config) {
  return std::make_unique<MqConnection>(config, false);
}

void remove(const std::string& channel) {
  for (const char* suffix : {".s2c", ".c2s", ".news"}) ::mq_unlink(queue_name(channel, suffix).c_str());
}

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size, std::span<const std::byte> message,
                                     bool replace) {
  check_publish_size(message.size(), size);
  // `size` is the channel size the harness reserves (shm sizes a region by it); a queue is
  // sized to the message it carries, which must fit msgsize_max.
  if (message.size() > limits().msgsize_max) throw_too_large();
  return std::make_unique<MqPublication>(channel, message, replace);
}

std::string fetch(const std::string& channel, Deadline deadline) {
  const std::string name = queue_name(channel, ".news");
  const Queue queue = open_queue(channel, name, O_RDONLY);
  std::string text(queue_msgsize(queue, name), '\0');
  for (;;) {
    const timespec until = slice_end(deadline, kPublishPoll);
    const ssize_t n = ::mq_timedreceive(queue.get(), text.data(), text.size(), nullptr, &until);
    if (n >= 0) {
      text.resize(static_cast<std::size_t>(n));
      return text;
    }
    if (errno != ETIMEDOUT && errno != EINTR) throw_system_error("mq_timedreceive " + name);
    if (Clock::now() >= deadline) throw Error(Errc::Timeout, "timed out waiting for the server to send the message");
  }
}

}  // namespace

const Transport& mq_transport() {
  static const Transport transport{
      .name = "mq",
      .summary = "POSIX message queues (mq_open), one per direction, kernel-kept message boundaries",
      .has_wait_modes = false,
      .max_message = limits().msgsize_max,  // /proc/sys/fs/mqueue/msgsize_max, read at first use
      .channel = {.serve = &serve, .connect = &connect, .remove = &remove},
      .seed = {.publish = &publish, .fetch = &fetch},
  };
  return transport;
}

}  // namespace ipcmark
