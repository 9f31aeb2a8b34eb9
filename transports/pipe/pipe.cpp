// transports/pipe/pipe.cpp — named FIFOs (mkfifo), one per direction.
//
// Chosen for speed the way a careful C program would: length-prefixed frames written
// with one write() (assembled on the stack when small) or writev(); reads go through a 64 KiB read-ahead buffer so a stream of small
// messages needs few read() calls; a large payload is read straight into the caller's
// buffer. The FIFOs are opened non-blocking (a blocking open would wait for the peer with
// no deadline) and made blocking once the handshake is done, so a wait is one read() or
// writev() that sleeps until the peer acts, as in a plain C program: read/EAGAIN/poll/read
// cost up to half as much again per round trip at 64 B. A SliceTicker interrupts such a
// call every kWaitSlice (EINTR), so every wait still ends at its deadline (fd.hpp). The
// one-shot demo keeps non-blocking descriptors: it is not measured.
//
// Names: <private runtime dir>/<channel>.s2c and .c2s (stream uses s2c only), and
// <channel>.fifo and .req for the one-shot demo; for a moment <channel>.c2s.new<pid> or
// .req.new<pid> (make_fifo_being_read), which remove() clears too if a crash left it.
#include "transports/pipe/pipe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

#include "transports/common/fd.hpp"
#include "transports/common/framing.hpp"
#include "transports/names.hpp"

namespace ipcmark {
namespace {

constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;  // framing allows 4 GiB; the harness buffers cap it
constexpr auto kOpenRetry = std::chrono::milliseconds(1);

std::string fifo_path(const std::string& channel, const char* suffix) {
  validate_channel_name(channel);
  return private_runtime_dir() + "/" + channel + suffix;
}

void make_fifo(const std::string& path, const std::string& channel) {
  if (::mkfifo(path.c_str(), 0600) == 0) return;
  if (errno == EEXIST) throw_channel_exists("pipe", channel, path);
  throw_system_error("mkfifo " + path);
}

// Makes the FIFO at `path` with its read end already open and returns that end: it is made
// under a temporary name, opened, then linked into place (link fails with EEXIST as mkfifo
// does). A client that finds the name thus always finds a reader; with mkfifo then open, one
// that came in between was refused (ENXIO) and failed (seen once in the broadcast demo's test
// under ctest -j2).
UniqueFd make_fifo_being_read(const std::string& path, const std::string& channel) {
  const std::string temporary = path + ".new" + std::to_string(::getpid());
  ::unlink(temporary.c_str());  // left by a crashed process that had our pid
  if (::mkfifo(temporary.c_str(), 0600) != 0) throw_system_error("mkfifo " + temporary);
  UniqueFd read_end(::open(temporary.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  const int open_error = errno;
  const int linked = read_end ? ::link(temporary.c_str(), path.c_str()) : -1;
  const int link_error = errno;
  ::unlink(temporary.c_str());
  if (!read_end) {
    errno = open_error;
    throw_system_error("open " + temporary);
  }
  if (linked != 0) {
    if (link_error == EEXIST) throw_channel_exists("pipe", channel, path);
    errno = link_error;
    throw_system_error("link " + path);
  }
  return read_end;
}

[[noreturn]] void throw_missing(const std::string& channel) {
  throw Error(Errc::DoesNotExist, "pipe channel '" + channel + "' does not exist (is the server running?)");
}

// Opens the write end, which the kernel refuses (ENXIO) until a reader has it open.
UniqueFd open_writer_when_read(const std::string& path, Deadline deadline, const char* waiting_for) {
  for (;;) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) return UniqueFd(fd);
    if (errno == ENOENT) throw Error(Errc::PeerGone, path + " was removed");
    if (errno != ENXIO && errno != EINTR) throw_system_error("open " + path);
    if (Clock::now() >= deadline) throw Error(Errc::Timeout, std::string("timed out waiting for ") + waiting_for);
    std::this_thread::sleep_for(kOpenRetry);
  }
}

class PipeConnection final : public Connection {
 public:
  PipeConnection(const ChannelConfig& config, bool is_server)
      : channel_(config.channel),
        s2c_path_(fifo_path(config.channel, ".s2c")),
        c2s_path_(fifo_path(config.channel, ".c2s")),
        is_server_(is_server),
        reader_(config.max_message),
        max_message_(config.max_message) {
    if (config.max_message == 0 || config.max_message > kMaxMessage)
      throw Error(Errc::MessageTooLarge, "pipe messages are limited to 1.." + std::to_string(kMaxMessage) + " bytes");
    if (is_server_) {
      make_fifo(s2c_path_, channel_);
      try {
        // Holding the read end open lets the client open its write end without blocking.
        in_ = make_fifo_being_read(c2s_path_, channel_);
      } catch (...) {
        unlink_names();
        throw;
      }
    } else {
      // The client opens c2s for writing first: the server already reads it, so this is
      // immediate, and when the server later sees our s2c read end, both are in place.
      const int fd = ::open(c2s_path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) {
        if (errno == ENOENT) throw_missing(channel_);
        if (errno == ENXIO) throw Error(Errc::PeerGone, "pipe channel '" + channel_ + "' has no server reading it");
        throw_system_error("open " + c2s_path_);
      }
      out_ = UniqueFd(fd);
      in_ = open_fd(s2c_path_, O_RDONLY);
    }
  }

  ~PipeConnection() override {
    if (is_server_) unlink_names();
  }

  void accept(Deadline deadline) override {
    if (is_server_) {
      out_ = open_writer_when_read(s2c_path_, deadline, "the client");
      // One byte tells the client the write end is open: before that, its read() would
      // return 0 (no writer), which must not be mistaken for a server that has gone.
      const std::byte hello{1};
      iovec part{const_cast<std::byte*>(&hello), 1};
      write_all(out_.get(), std::span(&part, 1), deadline);
    } else {
      if (!(poll_until(in_.get(), POLLIN, deadline, "the server") & POLLIN))
        throw Error(Errc::PeerGone, "the server closed the channel");
      std::byte hello{};
      read_exact(in_.get(), std::span(&hello, 1), deadline);
    }
    make_blocking(in_.get());
    make_blocking(out_.get());
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    check_size(message.size());
    ticker_.arm();
#if IPCMARK_TEST_PIPE_SEND_DELAY_NS > 0
    // A known slowdown for checking the regression gate (CMake option of the same name; never
    // in a shipped build): a busy-wait before every send.
    for (const auto until = Clock::now() + std::chrono::nanoseconds(IPCMARK_TEST_PIPE_SEND_DELAY_NS);
         Clock::now() < until;) {
    }
#endif
    send_frame(out_.get(), message, deadline);
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    ticker_.arm();
    return reader_.receive(in_.get(), buffer, deadline);
  }

 private:
  static UniqueFd open_fd(const std::string& path, int mode) {
    const int fd = ::open(path.c_str(), mode | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw_system_error("open " + path);
    return UniqueFd(fd);
  }

  void check_size(std::size_t size) const {
    if (size == 0 || size > max_message_)
      throw Error(Errc::MessageTooLarge, "message of " + std::to_string(size) + " bytes is outside 1.." +
                                             std::to_string(max_message_) + " for this channel");
  }

  void unlink_names() {
    ::unlink(s2c_path_.c_str());
    ::unlink(c2s_path_.c_str());
  }

  std::string channel_, s2c_path_, c2s_path_;
  bool is_server_;
  UniqueFd in_, out_;
  FrameReader reader_;
  std::size_t max_message_;
  SliceTicker ticker_;  // armed at the first send/receive, in the thread that makes it
};

// The one-shot demo over FIFOs, which have no accept(): a reader opens <channel>.fifo for
// reading, then writes one request byte into <channel>.req; the server, woken by poll(),
// answers each request with one framed copy of the message. The server keeps the write
// end open between requests, so deliveries never overlap a reopen. Concurrent readers of
// messages above PIPE_BUF (4 KiB) may interleave; one-to-many delivery is a fan-out job.
class PipePublication final : public Publication {
 public:
  PipePublication(const std::string& channel, std::span<const std::byte> message, bool replace)
      : path_(fifo_path(channel, ".fifo")),
        request_path_(fifo_path(channel, ".req")),
        message_(message.begin(), message.end()) {
    if (replace) {
      ::unlink(path_.c_str());
      ::unlink(request_path_.c_str());
    }
    // The request FIFO first, already held open for reading: a reader that finds <channel>.fifo
    // then finds its request FIFO being read (its open fails, ENXIO, only once we are gone).
    requests_ = make_fifo_being_read(request_path_, channel);
    try {
      make_fifo(path_, channel);
    } catch (...) {
      ::unlink(request_path_.c_str());  // ours; <channel>.fifo, if it exists, is not
      throw;
    }
  }
  ~PipePublication() override { unlink_names(); }

  void serve_readers(bool (*stop)()) override {
    while (!stop()) {
      pollfd p{requests_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0 || !(p.revents & POLLIN)) {
        // POLLHUP with nothing to read: the last requester has closed; just wait again.
        if (p.revents & POLLHUP) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      char request[64];
      const ssize_t n = ::read(requests_.get(), request, sizeof request);
      for (ssize_t i = 0; i < n; ++i) answer_one();
    }
  }

 private:
  void answer_one() {
    try {
      // The reader opened the FIFO before asking, so this open finds it (no ENXIO).
      if (!out_) out_ = open_nonblocking(path_, O_WRONLY);
      send_frame(out_.get(), message_, Clock::now() + std::chrono::seconds(5));
    } catch (const Error&) {
      // The reader left before its answer: drop our end so the kernel discards the pipe's
      // contents, and serve the others.
      out_.reset();
    }
  }

  static UniqueFd open_nonblocking(const std::string& path, int mode) {
    const int fd = ::open(path.c_str(), mode | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw_system_error("open " + path);
    return UniqueFd(fd);
  }

  void unlink_names() {
    ::unlink(path_.c_str());
    ::unlink(request_path_.c_str());
  }

  std::string path_, request_path_;
  std::vector<std::byte> message_;
  UniqueFd requests_, out_;
};

std::string fetch(const std::string& channel, Deadline deadline) {
  const std::string path = fifo_path(channel, ".fifo");
  const std::string request_path = fifo_path(channel, ".req");
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw_missing(channel);
    throw_system_error("open " + path);
  }
  UniqueFd in(fd);
  const int request_fd = ::open(request_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (request_fd < 0) {
    if (errno == ENOENT || errno == ENXIO) throw_missing(channel);  // no server holds it
    throw_system_error("open " + request_path);
  }
  UniqueFd request(request_fd);
  const std::byte ask{1};
  iovec part{const_cast<std::byte*>(&ask), 1};
  write_all(request.get(), std::span(&part, 1), deadline);

  // read() before the server's first open of the write end would return 0 (no writer):
  // wait until the answer is there.
  poll_until(in.get(), POLLIN, deadline, "the server to send the message");
  std::uint32_t length = 0;
  read_exact(in.get(), std::as_writable_bytes(std::span(&length, 1)), deadline);
  if (length > kMaxMessage)
    throw Error(Errc::Corrupt, "pipe channel '" + channel + "' sent a frame of " + std::to_string(length) + " bytes");
  std::string text(length, '\0');
  read_exact(in.get(), std::as_writable_bytes(std::span(text)), deadline);
  return text;
}

std::unique_ptr<Connection> serve(const ChannelConfig& config) {
  return std::make_unique<PipeConnection>(config, true);
}

std::unique_ptr<Connection> connect(const ChannelConfig& config) {
  return std::make_unique<PipeConnection>(config, false);
}

// Whether `file` is `prefix` followed by one or more digits (a pid).
bool is_prefix_and_pid(std::string_view file, std::string_view prefix) {
  if (file.size() <= prefix.size() || !file.starts_with(prefix)) return false;
  return std::all_of(file.begin() + prefix.size(), file.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void remove(const std::string& channel) {
  for (const char* suffix : {".s2c", ".c2s", ".fifo", ".req"}) ::unlink(fifo_path(channel, suffix).c_str());
  // A process that died inside make_fifo_being_read leaves its temporary name, <name>.new<pid>.
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(private_runtime_dir(), ignored)) {
    const std::string file = entry.path().filename().string();
    for (const char* suffix : {".c2s.new", ".req.new"})
      if (is_prefix_and_pid(file, channel + suffix)) ::unlink(entry.path().c_str());
  }
}

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size,
                                     std::span<const std::byte> message, bool replace) {
  check_publish_size(message.size(), size);
  return std::make_unique<PipePublication>(channel, message, replace);
}

}  // namespace

const Transport& pipe_transport() {
  static const Transport transport{
      .name = "pipe",
      .summary = "named FIFOs (mkfifo), length-prefixed frames, kernel wake-ups",
      .has_wait_modes = false,
      .max_message = kMaxMessage,
      .channel = {.serve = &serve, .connect = &connect, .remove = &remove},
      .seed = {.publish = &publish, .fetch = &fetch},
  };
  return transport;
}

}  // namespace ipcmark
