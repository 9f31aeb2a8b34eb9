#include "transports/plugin/seed_over_channel.hpp"

#include <algorithm>
#include <thread>
#include <vector>

namespace ipcmark {
namespace {

using namespace std::chrono_literals;

// The largest message fetch() makes room for: a plugin may claim any max_message.
constexpr std::size_t kMaxSeed = 16 << 20;
// How long fetch() waits for a channel to exist (see there).
constexpr auto kGrace = 1s;

// One channel at a time: a reader connects, gets the message, acknowledges it with one byte,
// and the channel is served afresh for the next reader (a Connection has one client).
class ChannelPublication final : public Publication {
 public:
  ChannelPublication(const Transport& t, const std::string& channel, std::span<const std::byte> message, bool replace)
      : transport_(t), channel_(channel), message_(message.begin(), message.end()) {
    if (replace) t.channel.remove(channel);
    server_ = t.channel.serve(config());
  }

  void serve_readers(bool (*stop)()) override {
    while (!stop()) {
      try {
        server_->accept(Clock::now() + 50ms);  // short, to look at stop() again
      } catch (const Error& e) {
        if (e.code() == Errc::Timeout) continue;
        throw;
      }
      try {
        const Deadline deadline = Clock::now() + 5s;
        server_->send(message_, deadline);
        std::byte ack[1];
        server_->receive(ack, deadline);
      } catch (const Error& e) {
        // A reader that went away or stalled is its own problem; the next one is served.
        if (e.code() != Errc::PeerGone && e.code() != Errc::Timeout) throw;
      }
      server_.reset();  // removes the names, then serves them again for the next reader
      server_ = transport_.channel.serve(config());
    }
  }

 private:
  ChannelConfig config() const { return {channel_, std::max<std::size_t>(message_.size(), 1), WaitKind::Block}; }

  const Transport& transport_;
  const std::string channel_;
  const std::vector<std::byte> message_;
  std::unique_ptr<Connection> server_;
};

}  // namespace

std::unique_ptr<Publication> publish_over_channel(const Transport& transport, const std::string& channel,
                                                  std::size_t size, std::span<const std::byte> message, bool replace) {
  check_publish_size(message.size(), size);
  if (message.empty()) throw Error(Errc::InvalidArgument, std::string(transport.name) + " cannot publish an empty message");
  if (message.size() > std::min(transport.max_message, kMaxSeed))
    throw Error(Errc::MessageTooLarge, std::string(transport.name) + " publishes messages up to " +
                                           std::to_string(std::min(transport.max_message, kMaxSeed)) + " bytes");
  return std::make_unique<ChannelPublication>(transport, channel, message, replace);
}

std::string fetch_over_channel(const Transport& transport, const std::string& channel, Deadline deadline) {
  const std::size_t max = std::min(transport.max_message, kMaxSeed);
  std::vector<std::byte> buffer(max);
  // Between two readers the publication serves its channel afresh, so a missing channel may be
  // one about to come back: DoesNotExist is tried again for up to kGrace (a channel nobody
  // serves fails after that), a connection dropped by the publication until the deadline.
  const Deadline grace_end = std::min(deadline, Clock::now() + kGrace);
  for (;;) {
    try {
      auto client = transport.channel.connect({channel, max, WaitKind::Block});
      client->accept(deadline);
      const std::size_t n = client->receive(buffer, deadline);
      const std::byte ack[1]{std::byte{1}};
      client->send(ack, deadline);
      return std::string(reinterpret_cast<const char*>(buffer.data()), n);
    } catch (const Error& e) {
      const bool again = (e.code() == Errc::DoesNotExist && Clock::now() < grace_end) ||
                         (e.code() == Errc::PeerGone && Clock::now() < deadline);
      if (!again) throw;
    }
    std::this_thread::sleep_for(1ms);
  }
}

}  // namespace ipcmark
