#include "transports/iceoryx/iceoryx_fanout.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <thread>

#include "iceoryx_posh/popo/wait_set.hpp"
#include "transports/iceoryx/iceoryx_common.hpp"
#include "transports/iceoryx/runtime.hpp"
#include "transports/names.hpp"

namespace ipcmark::iceoryx {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMarkerSuffix = ".iox-fan";
constexpr const char* kKind = "iceoryx fanout";
constexpr std::uint64_t kGoodbye = ~std::uint64_t{0};  // a Credit whose count says "I am leaving"
constexpr unsigned kCheckEvery = 64;  // sends between looks at the readers' pids
constexpr auto kSlice = 10ms;

// Back-topic messages: Hello {sequence = pid, credit = reader index};
// Credit {sequence = reader index, credit = messages taken, or kGoodbye}.

iox::popo::SubscriberOptions queue(std::uint64_t capacity) {
  iox::popo::SubscriberOptions options;
  options.queueCapacity = capacity;
  return options;
}

class Writer final : public FanoutWriter {
 public:
  explicit Writer(const FanoutConfig& config)
      : channel_(config.channel.channel),
        max_message_(config.channel.max_message),
        readers_(config.readers),
        lossy_(config.lossy),
        window_(window_for(config.channel.max_message)) {
    validate_channel_name(channel_);
    check_max_message(max_message_);
    if (readers_ < 1 || readers_ > kMaxReaders)
      throw Error(Errc::InvalidArgument, "invalid reader count " + std::to_string(readers_) + ": use 1 to " +
                                             std::to_string(kMaxReaders));
    marker_ = ServerMarker(channel_, kMarkerSuffix, kKind);
    ensure_runtime(max_message_);
    check_roudi(channel_);
    iox::popo::PublisherOptions options;
    options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::DISCARD_OLDEST_DATA;
    publisher_.emplace(topic(channel_, "fan"), options);
    back_.emplace(topic(channel_, "fanback"), queue(iox::MAX_SUBSCRIBER_QUEUE_CAPACITY));
    probe_chunk_size(*publisher_, max_message_, channel_);
  }

  ~Writer() override {
    if (loan_ != nullptr) publisher_->release(loan_);
  }

  void accept(Deadline deadline) override {
    while (joined_ < readers_) {
      absorb();
      if (joined_ >= readers_) break;
      if (Clock::now() >= deadline)
        throw Error(Errc::Timeout, "timed out waiting for " + std::to_string(readers_) +
                                       " iceoryx fanout readers: " + std::to_string(joined_) + " joined");
      check_roudi(channel_);
      std::this_thread::sleep_for(200us);
    }
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    void* chunk = loan(message.size(), deadline).data();
    std::memcpy(chunk, message.data(), message.size());
    commit();
  }

  std::span<std::byte> loan(std::size_t size, Deadline deadline) override {
    check_message_size(size, max_message_);
    if (loan_ != nullptr) throw Error(Errc::InvalidArgument, "iceoryx: one loan at a time: commit() the last one");
    if (++sends_ % kCheckEvery == 0) check_readers();
    if (!lossy_) wait_for_room(deadline);
    loan_ = loan_chunk(*publisher_, size, deadline, channel_, &check_of, this);
    return {static_cast<std::byte*>(loan_), size};
  }

  void commit() override {
    if (loan_ == nullptr) throw Error(Errc::InvalidArgument, "iceoryx: commit() without a loan");
    header_of(loan_) = MessageHeader{MessageHeader::kMagic, MessageHeader::Data, ++sent_, 0};
    publisher_->publish(std::exchange(loan_, nullptr));
  }

  int readers_lost() const override { return lost_; }

 private:
  struct Reader {
    bool joined = false, gone = false;
    std::uint64_t acked = 0;
    PeerProcess process;
  };

  static void check_of(const void* self) { const_cast<Writer*>(static_cast<const Writer*>(self))->check_readers(); }

  // Reads hellos, credits and goodbyes from the back topic.
  void absorb() {
    for (;;) {
      auto taken = back_->take();
      if (taken.has_error()) return;
      const Received r = inspect(taken.value(), max_message_, channel_);
      const MessageHeader h = *r.header;
      back_->release(taken.value());
      const std::uint64_t index = h.kind == MessageHeader::Hello ? h.credit : h.sequence;
      if (index >= static_cast<std::uint64_t>(readers_))
        throw Error(Errc::Corrupt, "iceoryx fanout channel '" + channel_ + "': a message from reader " +
                                       std::to_string(index) + " of " + std::to_string(readers_));
      Reader& reader = readers_state_[index];
      if (h.kind == MessageHeader::Hello) {
        if (reader.joined)
          throw Error(Errc::Corrupt, "iceoryx fanout channel '" + channel_ + "': reader " + std::to_string(index) +
                                         " joined twice");
        reader.joined = true;
        reader.process = PeerProcess(static_cast<pid_t>(h.sequence));
        ++joined_;
      } else if (h.credit == kGoodbye) {
        drop(reader);
      } else {
        reader.acked = std::max(reader.acked, h.credit);
      }
    }
  }

  void drop(Reader& reader) {
    if (reader.gone) return;
    reader.gone = true;
    ++lost_;
  }

  // Drops readers whose process has exited; PeerGone when none is left, or when RouDi has gone.
  void check_readers() {
    check_roudi(channel_);
    absorb();
    for (Reader& reader : readers_state_)
      if (reader.joined && !reader.gone && reader.process.gone()) drop(reader);
    if (joined_ > 0 && lost_ >= joined_)
      throw Error(Errc::PeerGone, "every iceoryx fanout reader has gone");
  }

  bool room() const {
    for (const Reader& reader : readers_state_)
      if (reader.joined && !reader.gone && sent_ - reader.acked >= window_) return false;
    return true;
  }

  void wait_for_room(Deadline deadline) {
    if (room()) return;
    auto slice_end = Clock::now() + kSlice;
    for (;;) {
      absorb();
      if (room()) return;
      const auto now = Clock::now();
      if (now >= deadline)
        throw Error(Errc::Timeout, "timed out waiting for the slowest of " + std::to_string(joined_ - lost_) +
                                       " iceoryx fanout readers to make room");
      if (now >= slice_end) {
        check_readers();
        slice_end = now + kSlice;
      }
      std::this_thread::sleep_for(20us);
    }
  }

  std::string channel_;
  std::size_t max_message_;
  int readers_;
  bool lossy_;
  std::uint64_t window_;
  ServerMarker marker_;
  std::array<Reader, kMaxReaders> readers_state_{};
  int joined_ = 0, lost_ = 0;
  std::uint64_t sent_ = 0;
  unsigned sends_ = 0;
  void* loan_ = nullptr;
  iox::cxx::optional<iox::popo::UntypedPublisher> publisher_;
  iox::cxx::optional<iox::popo::UntypedSubscriber> back_;
};

class Reader final : public Connection {
 public:
  Reader(const ChannelConfig& config, int index)
      : channel_(config.channel),
        max_message_(config.max_message),
        index_(index),
        spin_(config.wait == WaitKind::Spin),
        window_(window_for(config.max_message)) {
    validate_channel_name(channel_);
    check_max_message(max_message_);
    writer_ = PeerProcess(read_marker(channel_, kMarkerSuffix, kKind));
    ensure_runtime(max_message_);
    check_roudi(channel_);
    subscriber_.emplace(topic(channel_, "fan"), queue(window_ + kCreditRoom));
    back_.emplace(topic(channel_, "fanback"));
    if (!spin_) {
      waitset_.emplace();
      if (waitset_->attachState(*subscriber_, iox::popo::SubscriberState::HAS_DATA).has_error())
        throw Error(Errc::System, "iceoryx fanout channel '" + channel_ + "': cannot attach a WaitSet");
    }
  }

  ~Reader() override {
    view_.drop(*subscriber_);
    if (joined_) post(MessageHeader::Credit, static_cast<std::uint64_t>(index_), kGoodbye);
    if (waitset_) waitset_->detachState(*subscriber_, iox::popo::SubscriberState::HAS_DATA);
  }

  // Waits until both topics are connected, then says hello with our pid and index.
  void accept(Deadline deadline) override {
    while (subscriber_->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED || !back_->hasSubscribers()) {
      if (Clock::now() >= deadline)
        throw Error(Errc::Timeout, "iceoryx fanout channel '" + channel_ + "': timed out waiting for the writer");
      check_writer();
      std::this_thread::sleep_for(1ms);
    }
    void* hello = loan_chunk(*back_, 1, deadline, channel_, [](const void*) {}, nullptr);
    header_of(hello) = MessageHeader{MessageHeader::kMagic, MessageHeader::Hello, static_cast<std::uint64_t>(::getpid()),
                                     static_cast<std::uint64_t>(index_)};
    back_->publish(hello);
    joined_ = true;
  }

  void send(std::span<const std::byte>, Deadline) override {
    throw Error(Errc::InvalidArgument, "a fanout reader only receives");
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    const void* chunk = next(deadline);
    const Received r = inspect(chunk, max_message_, channel_);
    const bool fits = r.size <= buffer.size();
    if (fits) std::memcpy(buffer.data(), r.payload, r.size);
    subscriber_->release(chunk);
    if (!fits)
      throw Error(Errc::Corrupt, "iceoryx fanout channel '" + channel_ + "' delivered " + std::to_string(r.size) +
                                     " bytes into a buffer of " + std::to_string(buffer.size()));
    return r.size;
  }

  std::span<const std::byte> view(Deadline deadline) override {
    view_.check_free();
    return view_.hold(next(deadline), max_message_, channel_);
  }

  void release() override { view_.release(*subscriber_); }

 private:
  const void* next(Deadline deadline) {
    for (unsigned tries = 0;; ++tries) {
      auto taken = subscriber_->take();
      if (!taken.has_error()) {
        if (++taken_ - credited_ >= window_ / 2) {
          post(MessageHeader::Credit, static_cast<std::uint64_t>(index_), taken_);
          credited_ = taken_;
        }
        return taken.value();
      }
      if (spin_) {
        if (tries % 16384 != 16383) continue;
      } else if (tries == 0) {
        std::this_thread::yield();  // as the channel's Block: once, before sleeping
        continue;
      } else {
        (void)waitset_->timedWait(iox::units::Duration::fromMilliseconds(10));
        if (subscriber_->hasData()) continue;
      }
      if (Clock::now() >= deadline)
        throw Error(Errc::Timeout, "iceoryx fanout channel '" + channel_ + "': timed out waiting for data");
      if (writer_.gone() || roudi_gone() || subscriber_->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED) {
        std::this_thread::sleep_for(1ms);  // what the writer published before going is queued by now
        if (subscriber_->hasData()) continue;
        check_writer();
        throw Error(Errc::PeerGone, "iceoryx fanout channel '" + channel_ + "': the writer has closed the channel");
      }
    }
  }

  void check_writer() const {
    check_roudi(channel_);
    if (writer_.gone())
      throw Error(Errc::PeerGone, "iceoryx fanout channel '" + channel_ + "': the writer (pid " +
                                      std::to_string(writer_.pid()) + ") has exited");
  }

  // One small message on the back topic; a full pool just skips it (credits repeat themselves).
  void post(MessageHeader::Kind kind, std::uint64_t sequence, std::uint64_t credit) {
    auto loaned = back_->loan(1, alignof(std::max_align_t), sizeof(MessageHeader), alignof(MessageHeader));
    if (loaned.has_error()) return;
    new (header_pointer(loaned.value())) MessageHeader{MessageHeader::kMagic, kind, sequence, credit};
    back_->publish(loaned.value());
  }

  static void* header_pointer(void* payload) { return &header_of(payload); }

  std::string channel_;
  std::size_t max_message_;
  int index_;
  bool spin_;
  std::uint64_t window_;
  PeerProcess writer_;
  bool joined_ = false;
  std::uint64_t taken_ = 0, credited_ = 0;
  HeldView view_;
  iox::cxx::optional<iox::popo::UntypedSubscriber> subscriber_;
  iox::cxx::optional<iox::popo::UntypedPublisher> back_;
  iox::cxx::optional<iox::popo::WaitSet<1>> waitset_;
};

}  // namespace

std::unique_ptr<FanoutWriter> serve_fanout(const FanoutConfig& config) { return std::make_unique<Writer>(config); }

std::unique_ptr<Connection> connect_fanout(const ChannelConfig& config, int reader) {
  if (reader < 0 || reader >= kMaxReaders)
    throw Error(Errc::InvalidArgument,
                "invalid reader " + std::to_string(reader) + ": use 0 to " + std::to_string(kMaxReaders - 1));
  return std::make_unique<Reader>(config, reader);
}

void remove_fanout(const std::string& channel) { remove_marker(channel, kMarkerSuffix); }

}  // namespace ipcmark::iceoryx
