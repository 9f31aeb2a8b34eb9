#include "transports/iceoryx/iceoryx_seed.hpp"

#include <chrono>
#include <cstring>
#include <thread>

#include "transports/iceoryx/iceoryx_common.hpp"
#include "transports/iceoryx/roudi_config.hpp"
#include "transports/iceoryx/runtime.hpp"
#include "transports/names.hpp"

namespace ipcmark::iceoryx {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMarkerSuffix = ".iox-news";
constexpr const char* kKind = "iceoryx news";
constexpr auto kStopPoll = 20ms;
constexpr auto kResubscribe = 150ms;

class IceoryxPublication final : public Publication {
 public:
  IceoryxPublication(const std::string& channel, std::span<const std::byte> message)
      : marker_(channel, kMarkerSuffix, kKind) {
    ensure_runtime(message.size());
    check_roudi(channel);
    iox::popo::PublisherOptions options;
    options.historyCapacity = 1;
    publisher_.emplace(topic(channel, "news"), options);
    void* chunk = loan_chunk(*publisher_, message.size(), Clock::now() + 10s, channel, [](const void*) {}, nullptr);
    std::memcpy(chunk, message.data(), message.size());
    header_of(chunk).sequence = 1;
    publisher_->publish(chunk);
  }

  void serve_readers(bool (*stop)()) override {
    // iceoryx delivers the history to each reader as it subscribes; nothing to do but wait.
    while (!stop()) std::this_thread::sleep_for(kStopPoll);
  }

 private:
  ServerMarker marker_;  // destroyed after the publisher
  iox::cxx::optional<iox::popo::UntypedPublisher> publisher_;
};

}  // namespace

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size, std::span<const std::byte> message,
                                     bool replace) {
  validate_channel_name(channel);
  check_publish_size(message.size(), size);
  check_message_size(message.size(), kMaxMessage);
  if (replace) remove_marker(channel, kMarkerSuffix);
  return std::make_unique<IceoryxPublication>(channel, message);
}

std::string fetch(const std::string& channel, Deadline deadline) {
  validate_channel_name(channel);
  const PeerProcess server(read_marker(channel, kMarkerSuffix, kKind));
  ensure_runtime(kMaxMessage);
  check_roudi(channel);
  iox::popo::SubscriberOptions options;
  options.queueCapacity = 1;
  options.historyRequest = 1;
  options.requiresPublisherHistorySupport = true;
  for (;;) {
    // A publisher takes at most 256 subscribers, and RouDi detaches closed ones in its discovery
    // loop, every 100 ms: many fetches in a row can find the publisher full, and that subscriber
    // is never connected. So a subscriber that has not got the message soon is replaced.
    iox::popo::UntypedSubscriber subscriber(topic(channel, "news"), options);
    const auto retry_at = Clock::now() + kResubscribe;
    while (Clock::now() < retry_at) {
      if (auto taken = subscriber.take(); !taken.has_error()) {
        const Received r = inspect(taken.value(), kMaxMessage, channel);
        std::string text(reinterpret_cast<const char*>(r.payload), r.size);
        subscriber.release(taken.value());
        return text;
      }
      check_roudi(channel);
      if (server.gone())
        throw Error(Errc::PeerGone, "iceoryx news channel '" + channel + "': the server (pid " +
                                        std::to_string(server.pid()) + ") has exited");
      if (Clock::now() >= deadline)
        throw Error(Errc::Timeout, "iceoryx news channel '" + channel + "': timed out waiting for the message");
      std::this_thread::sleep_for(20us);
    }
  }
}

void remove_publication(const std::string& channel) { remove_marker(channel, kMarkerSuffix); }

}  // namespace ipcmark::iceoryx
