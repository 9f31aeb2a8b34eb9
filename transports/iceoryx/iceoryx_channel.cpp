#include "transports/iceoryx/iceoryx_channel.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <thread>

#include "iceoryx_posh/popo/wait_set.hpp"
#include "transports/iceoryx/iceoryx_common.hpp"
#include "transports/iceoryx/runtime.hpp"
#include "transports/names.hpp"

namespace ipcmark::iceoryx {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMarkerSuffix = ".iox";
constexpr const char* kKind = "iceoryx";
constexpr auto kSlice = 10ms;
constexpr unsigned kSpinsBetweenChecks = 1u << 14;
// Messages between looks at RouDi's pidfd. Shared memory keeps flowing after RouDi dies, so a
// stream that never waits would otherwise never notice (one poll() per 1024 messages is noise).
constexpr unsigned kMessagesBetweenRoudiChecks = 1u << 10;

iox::popo::PublisherOptions publisher_options() {
  iox::popo::PublisherOptions options;
  options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
  return options;
}

iox::popo::SubscriberOptions subscriber_options(std::uint64_t window) {
  iox::popo::SubscriberOptions options;
  options.queueCapacity = window + kCreditRoom;
  options.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
  return options;
}

class IceoryxConnection final : public Connection {
 public:
  IceoryxConnection(const ChannelConfig& config, bool is_server)
      : channel_(config.channel),
        is_server_(is_server),
        max_message_(config.max_message),
        spin_(config.wait == WaitKind::Spin),
        window_(window_for(config.max_message)) {
    validate_channel_name(channel_);
    check_max_message(max_message_);
    if (is_server_)
      marker_ = ServerMarker(channel_, kMarkerSuffix, kKind);
    else
      peer_ = PeerProcess(read_marker(channel_, kMarkerSuffix, kKind));
    ensure_runtime(max_message_);
    check_roudi(channel_);
    publisher_.emplace(topic(channel_, is_server_ ? "s2c" : "c2s"), publisher_options());
    subscriber_.emplace(topic(channel_, is_server_ ? "c2s" : "s2c"), subscriber_options(window_));
    probe_chunk_size(*publisher_, max_message_, channel_);
    if (!spin_) waitset_.emplace();
    if (waitset_ && waitset_->attachState(*subscriber_, iox::popo::SubscriberState::HAS_DATA).has_error())
      throw Error(Errc::System, "iceoryx channel '" + channel_ + "': cannot attach a WaitSet");
  }

  ~IceoryxConnection() override {
    view_.drop(*subscriber_);
    if (loan_ != nullptr) publisher_->release(loan_);
    for (const void* chunk : stash_) subscriber_->release(chunk);
    if (waitset_) waitset_->detachState(*subscriber_, iox::popo::SubscriberState::HAS_DATA);
  }

  void accept(Deadline deadline) override {
    if (is_server_) {
      const void* hello = next(deadline, "the client to connect", true);
      peer_ = PeerProcess(static_cast<pid_t>(inspect(hello, max_message_, channel_).header->sequence));
      subscriber_->release(hello);
      wait_for_subscriber(deadline);
      send_hello(deadline);
    } else {
      wait_for_subscriber(deadline);
      send_hello(deadline);
      subscriber_->release(next(deadline, "the server to answer the handshake", true));
    }
    connected_ = true;
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    void* chunk = loan(message.size(), deadline).data();
    std::memcpy(chunk, message.data(), message.size());
    commit();
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    const void* chunk = next(deadline, "data", false);
    const Received r = inspect(chunk, max_message_, channel_);
    if (r.size > buffer.size()) {
      subscriber_->release(chunk);
      throw Error(Errc::Corrupt, "iceoryx channel '" + channel_ + "' delivered " + std::to_string(r.size) +
                                     " bytes into a buffer of " + std::to_string(buffer.size()));
    }
    std::memcpy(buffer.data(), r.payload, r.size);
    subscriber_->release(chunk);
    return r.size;
  }

  std::span<std::byte> loan(std::size_t size, Deadline deadline) override {
    check_message_size(size, max_message_);
    if (loan_ != nullptr) throw Error(Errc::InvalidArgument, "iceoryx: one loan at a time: commit() the last one");
    wait_for_window(deadline);
    check_roudi_now_and_then();
    loan_ = loan_chunk(*publisher_, size, deadline, channel_, &check_peers_of, this);
    return {static_cast<std::byte*>(loan_), size};
  }

  void commit() override {
    if (loan_ == nullptr) throw Error(Errc::InvalidArgument, "iceoryx: commit() without a loan");
    MessageHeader& header = header_of(loan_);
    header.kind = MessageHeader::Data;
    header.sequence = ++sent_;
    header.credit = taken_;
    credited_ = taken_;
    publisher_->publish(std::exchange(loan_, nullptr));
  }

  std::span<const std::byte> view(Deadline deadline) override {
    view_.check_free();
    return view_.hold(next(deadline, "data", false), max_message_, channel_);
  }

  void release() override { view_.release(*subscriber_); }

 private:
  static void check_peers_of(const void* self) { static_cast<const IceoryxConnection*>(self)->check_peers(); }

  void check_roudi_now_and_then() {
    if (++messages_ % kMessagesBetweenRoudiChecks == 0) check_roudi(channel_);
  }

  // PeerGone when the peer process, its end of the channel or RouDi has gone.
  void check_peers() const {
    check_roudi(channel_);
    if (peer_.gone())
      throw Error(Errc::PeerGone, "iceoryx channel '" + channel_ + "': the peer process (pid " +
                                      std::to_string(peer_.pid()) + ") has exited");
    if (connected_ && (subscriber_->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED ||
                       !publisher_->hasSubscribers()))
      throw Error(Errc::PeerGone, "iceoryx channel '" + channel_ + "': the peer has closed the channel");
  }

  // Takes chunks until a data message (or, in the handshake, the hello) arrives: credits are
  // counted on the way. Waits by the wait mode; checks the peers every slice, after a last look.
  const void* next(Deadline deadline, const char* waiting_for, bool hello) {
    if (!hello) check_roudi_now_and_then();
    if (!hello && !stash_.empty()) {
      const void* chunk = stash_.front();
      stash_.pop_front();
      return chunk;
    }
    for (bool yielded = false;; yielded = true) {
      if (const void* chunk = take(hello)) return chunk;
      // Block: give the CPU away once before sleeping. A peer on this CPU that we have just woken
      // runs now and its answer is often there when we are back, sparing the WaitSet's timed
      // wait (its semaphore sleep costs ~1.5 us more than an untimed one here); across CPUs it
      // returns at once.
      if (!spin_ && !yielded) {
        std::this_thread::yield();
        continue;
      }
      wait_for_data(deadline, waiting_for);
    }
  }

  // One chunk from the queue if there is a message: credits are absorbed here; data is counted
  // as taken (its queue slot is free) and may earn the peer a credit message.
  const void* take(bool hello) {
    for (;;) {
      auto taken = subscriber_->take();
      if (taken.has_error()) return nullptr;
      const void* chunk = taken.value();
      const Received r = inspect(chunk, max_message_, channel_);
      if (hello) {
        if (r.header->kind != MessageHeader::Hello) {
          subscriber_->release(chunk);
          throw Error(Errc::Corrupt, "iceoryx channel '" + channel_ + "': the peer's first message is not a hello");
        }
        return chunk;
      }
      if (r.header->kind == MessageHeader::Hello) {
        subscriber_->release(chunk);
        throw Error(Errc::Corrupt, "iceoryx channel '" + channel_ + "': a second hello (two clients?)");
      }
      acked_ = std::max(acked_, r.header->credit);
      if (r.header->kind == MessageHeader::Credit) {
        subscriber_->release(chunk);
        continue;
      }
      if (r.header->sequence != received_ + 1) {
        subscriber_->release(chunk);
        throw Error(Errc::Corrupt, "iceoryx channel '" + channel_ + "': message " + std::to_string(r.header->sequence) +
                                       " arrived after " + std::to_string(received_));
      }
      ++received_;
      ++taken_;
      if (taken_ - credited_ >= window_ / 2) send_credit();
      return chunk;
    }
  }

  void wait_for_data(Deadline deadline, const char* waiting_for) {
    if (spin_) {
      if (++spins_ % kSpinsBetweenChecks != 0) return;
    } else {
      const auto now = Clock::now();
      const auto slice = std::min<Clock::duration>(kSlice, std::max<Clock::duration>(deadline - now, 0ns));
      (void)waitset_->timedWait(iox::units::Duration::fromNanoseconds(
          std::chrono::duration_cast<std::chrono::nanoseconds>(slice).count()));
      if (subscriber_->hasData()) return;
    }
    if (Clock::now() >= deadline)
      throw Error(Errc::Timeout, "iceoryx channel '" + channel_ + "': timed out waiting for " + waiting_for);
    if (!peer_.gone() && !roudi_gone() && !(connected_ && subscriber_->getSubscriptionState() !=
                                                              iox::SubscribeState::SUBSCRIBED))
      return;
    std::this_thread::sleep_for(1ms);  // what the peer published just before going is queued by now
    if (!subscriber_->hasData()) check_peers();
  }

  // Waits until fewer than window_ of our messages are untaken.
  void wait_for_window(Deadline deadline) {
    if (sent_ - acked_ >= window_ / 2) absorb_credits();
    auto slice_end = Clock::now() + kSlice;
    while (sent_ - acked_ >= window_) {
      absorb_credits();
      if (sent_ - acked_ < window_) return;
      const auto now = Clock::now();
      if (now >= deadline)
        throw Error(Errc::Timeout, "iceoryx channel '" + channel_ + "': timed out waiting for the peer to take " +
                                       "messages (" + std::to_string(window_) + " in flight)");
      if (now >= slice_end) {
        check_peers();
        slice_end = now + kSlice;
      }
      if (spin_) continue;
      (void)waitset_->timedWait(iox::units::Duration::fromMilliseconds(1));
    }
  }

  // Reads what has arrived without waiting: credits count, data waits in stash_ for receive().
  void absorb_credits() {
    while (stash_.size() < window_ + kCreditRoom) {
      const void* chunk = take(false);
      if (chunk == nullptr) return;
      stash_.push_back(chunk);
    }
  }

  void send_credit() {
    auto loaned = publisher_->loan(1, alignof(std::max_align_t), sizeof(MessageHeader), alignof(MessageHeader));
    if (loaned.has_error()) return;  // the next message we send carries the credit anyway
    new (iox::mepoo::ChunkHeader::fromUserPayload(loaned.value())->userHeader())
        MessageHeader{MessageHeader::kMagic, MessageHeader::Credit, 0, taken_};
    credited_ = taken_;
    publisher_->publish(loaned.value());
  }

  void wait_for_subscriber(Deadline deadline) {
    auto slice_end = Clock::now() + kSlice;
    while (!publisher_->hasSubscribers()) {
      const auto now = Clock::now();
      if (now >= deadline)
        throw Error(Errc::Timeout, "iceoryx channel '" + channel_ + "': timed out waiting for the " +
                                       (is_server_ ? "client" : "server") + " to subscribe");
      if (now >= slice_end) {
        check_peers();
        slice_end = now + kSlice;
      }
      std::this_thread::sleep_for(1ms);
    }
  }

  void send_hello(Deadline deadline) {
    void* chunk = loan_chunk(*publisher_, 1, deadline, channel_, &check_peers_of, this);
    header_of(chunk) = MessageHeader{MessageHeader::kMagic, MessageHeader::Hello,
                                     static_cast<std::uint64_t>(::getpid()), 0};
    publisher_->publish(chunk);
  }

  std::string channel_;
  bool is_server_;
  std::size_t max_message_;
  bool spin_;
  std::uint64_t window_;
  ServerMarker marker_;  // the server's; removed last
  PeerProcess peer_;     // the client knows the server from the marker, the server from the hello
  bool connected_ = false;
  std::uint64_t sent_ = 0;      // data messages we published
  std::uint64_t acked_ = 0;     // of those, taken by the peer (its latest credit)
  std::uint64_t received_ = 0;  // the peer's last data sequence number
  std::uint64_t taken_ = 0;     // the peer's data messages we took from the queue
  std::uint64_t credited_ = 0;  // taken_ as last told to the peer
  unsigned spins_ = 0;
  unsigned messages_ = 0;  // sent and received, for check_roudi_now_and_then()
  void* loan_ = nullptr;
  HeldView view_;
  std::deque<const void*> stash_;  // data taken while looking for credits, for receive()
  iox::cxx::optional<iox::popo::UntypedPublisher> publisher_;
  iox::cxx::optional<iox::popo::UntypedSubscriber> subscriber_;
  iox::cxx::optional<iox::popo::WaitSet<1>> waitset_;
};

}  // namespace

std::unique_ptr<Connection> serve_channel(const ChannelConfig& config) {
  return std::make_unique<IceoryxConnection>(config, true);
}

std::unique_ptr<Connection> connect_channel(const ChannelConfig& config) {
  return std::make_unique<IceoryxConnection>(config, false);
}

void remove_channel(const std::string& channel) { remove_marker(channel, kMarkerSuffix); }

}  // namespace ipcmark::iceoryx
