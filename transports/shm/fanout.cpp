// transports/shm/fanout.cpp — FanoutWriter / reader Connections over a BroadcastWriter/Reader
// in a named region, and the Transport hooks that make them (see fanout.hpp).
#include "transports/shm/fanout.hpp"

#include <unistd.h>

#include <atomic>
#include <thread>

#include "transports/names.hpp"
#include "transports/shm/broadcast_ring.hpp"
#include "transports/shm/region.hpp"
#include "transports/shm/shm.hpp"
#include "transports/shm/spsc_ring.hpp"  // default_capacity

namespace ipcmark {
namespace {

using namespace shm;

// How long a reader gives a writer that has created the region but not yet laid it out.
constexpr auto kInitialiseGrace = std::chrono::seconds(1);

template <class Wait>
class ShmFanoutWriter final : public FanoutWriter {
 public:
  ShmFanoutWriter(SharedRegion region, const std::string& channel)
      : region_(std::move(region)), writer_(region_.bytes(), channel) {}

  // Every operation goes through region_.guarded(): once a peer has truncated the region, what
  // the ring read was zeros, and the truncation is the error to report (region.hpp). A message
  // just read is also followed by region_.check_truncation() (ShmFanoutReader).
  void accept(Deadline deadline) override {
    region_.guarded([&] { writer_.accept(deadline); });
  }
  void send(std::span<const std::byte> message, Deadline deadline) override {
    region_.guarded([&] { writer_.send<Wait>(message, deadline); });
  }
  std::span<std::byte> loan(std::size_t size, Deadline deadline) override {
    return region_.guarded([&] { return writer_.loan<Wait>(size, deadline); });
  }
  void commit() override {
    if (!writer_.has_loan())
      throw Error(Errc::InvalidArgument, "commit() without a loan on '" + region_.name() + "'");
    writer_.commit();
  }
  int readers_lost() const override { return writer_.readers_lost(); }

 private:
  SharedRegion region_;     // first: the mapping outlives the writer; unlinks the name last
  BroadcastWriter writer_;  // its destructor marks the writer closed and wakes the readers
};

template <class Wait>
class ShmFanoutReader final : public Connection {
 public:
  ShmFanoutReader(SharedRegion region, const std::string& channel, int reader, WaitKind wait)
      : region_(std::move(region)),
        reader_(region_.bytes(), channel, reader, static_cast<std::int32_t>(::getpid()), wait) {
    if (shares_only_cpu_with(reader_.writer_pid())) reader_.set_spin_polls(0);
  }

  void accept(Deadline deadline) override {
    region_.guarded([&] { reader_.accept(deadline); });
  }
  void send(std::span<const std::byte>, Deadline) override {
    throw Error(Errc::InvalidArgument, "a fanout reader only receives");
  }
  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    const std::size_t n = region_.guarded([&] { return reader_.receive<Wait>(buffer, deadline); });
    region_.check_truncation();
    return n;
  }
  std::span<const std::byte> view(Deadline deadline) override {
    const std::span<const std::byte> viewed = region_.guarded([&] { return reader_.view<Wait>(deadline); });
    region_.check_truncation();
    return viewed;
  }
  void release() override {
    if (!reader_.has_view()) throw Error(Errc::InvalidArgument, "release() without a view on '" + region_.name() + "'");
    reader_.release();
    region_.check_truncation();
  }

 private:
  SharedRegion region_;
  BroadcastReader reader_;  // its destructor marks the slot closed
};

std::uint32_t waits_code(WaitKind wait) { return wait == WaitKind::Spin ? kWaitsSpin : kWaitsBlock; }

// The broadcast ring has its own futex waits (one word per reader slot); the other ways of waking
// a sleeper (futex at once, eventfd, sem, uds) are measured on the point-to-point ring only.
bool takes_wait(WaitKind wait) { return wait == WaitKind::Spin || wait == WaitKind::Block; }

void check_wait(WaitKind wait) {
  if (!takes_wait(wait))
    throw Error(Errc::InvalidArgument, "the shm fanout waits with spin or block, not " + std::string(to_string(wait)));
}

// Opens the region, giving a writer caught between shm_open and its magic a moment.
SharedRegion open_ready(const std::string& channel) {
  const std::string name = shm_fanout_region(channel);
  const Deadline give_up = Clock::now() + kInitialiseGrace;
  for (;;) {
    // No more than the largest region serve() makes; the header check below is exact.
    SharedRegion region = SharedRegion::open(name, broadcast_bytes(default_capacity(shm_transport().max_message)));
    if (region.size() >= sizeof(BroadcastHeader)) {
      // acquire: pairs with initialise_broadcast's release; the header is validated after this anyway.
      const auto magic = std::atomic_ref(reinterpret_cast<BroadcastHeader*>(region.bytes().data())->magic)
                             .load(std::memory_order_acquire);
      if (magic != 0) return region;  // a wrong non-zero magic is reported by the validation
    }
    if (Clock::now() >= give_up)
      throw Error(Errc::Corrupt, "corrupt fanout region of channel '" + channel +
                                     "': it was never initialised (its writer may have died while creating it: "
                                     "run `ipcmark clean`)");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

std::string shm_fanout_region(const std::string& channel) {
  std::string name = channel + ".fan";
  validate_channel_name(name);
  return name;
}

namespace {

std::unique_ptr<FanoutWriter> serve(const FanoutConfig& config) {
  const ChannelConfig& channel = config.channel;
  validate_channel_name(channel.channel);
  check_wait(channel.wait);
  if (config.readers < 1 || config.readers > kMaxReaders)
    throw Error(Errc::InvalidArgument, "invalid reader count " + std::to_string(config.readers) + ": use 1 to " +
                                           std::to_string(kMaxReaders));
  if (channel.max_message == 0) throw Error(Errc::InvalidArgument, "max_message must be at least 1 byte");
  const std::size_t limit = shm_transport().max_message;
  if (channel.max_message > limit)
    throw Error(Errc::MessageTooLarge, "max_message of " + std::to_string(channel.max_message) +
                                           " bytes exceeds the shm transport's limit of " + std::to_string(limit) +
                                           " bytes");
  const std::uint64_t capacity = default_capacity(channel.max_message);
  SharedRegion region = SharedRegion::create(shm_fanout_region(channel.channel), broadcast_bytes(capacity));
  initialise_broadcast(region.bytes(),
                       BroadcastParams{capacity, static_cast<std::uint32_t>(channel.max_message), config.readers,
                                       static_cast<std::int32_t>(::getpid()), waits_code(channel.wait)});
  if (channel.wait == WaitKind::Spin)
    return std::make_unique<ShmFanoutWriter<SpinWait>>(std::move(region), channel.channel);
  return std::make_unique<ShmFanoutWriter<BlockWait>>(std::move(region), channel.channel);
}

std::unique_ptr<Connection> connect(const ChannelConfig& config, int reader) {
  validate_channel_name(config.channel);
  check_wait(config.wait);
  SharedRegion region = open_ready(config.channel);
  {
    // Checked before claiming a slot: once joined, the writer counts on us.
    // Written before the magic open_ready() acquired; validated with the rest of the header below.
    auto& header = *reinterpret_cast<BroadcastHeader*>(region.bytes().data());
    const std::uint32_t max_message = std::atomic_ref(header.max_message).load(std::memory_order_relaxed);
    if (config.max_message > max_message)
      throw Error(Errc::MessageTooLarge, "max_message of " + std::to_string(config.max_message) +
                                             " bytes exceeds the " + std::to_string(max_message) +
                                             " bytes fanout channel '" + config.channel + "' was created for");
  }
  if (config.wait == WaitKind::Spin)
    return std::make_unique<ShmFanoutReader<SpinWait>>(std::move(region), config.channel, reader, config.wait);
  return std::make_unique<ShmFanoutReader<BlockWait>>(std::move(region), config.channel, reader, config.wait);
}

void remove(const std::string& channel) {
  std::string name;
  try {
    name = shm_fanout_region(channel);
  } catch (const Error&) {
    return;  // too long: serve() could not have made it either
  }
  SharedRegion::remove(name);
}

}  // namespace

const FanoutOps& shm_fanout() {
  static const FanoutOps ops{.serve = &serve, .connect = &connect, .remove = &remove, .takes_wait = &takes_wait};
  return ops;
}

}  // namespace ipcmark
