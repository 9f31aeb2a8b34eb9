// transports/iceoryx/iceoryx.cpp — the iceoryx transport's descriptor: Eclipse iceoryx 2.0's
// untyped publishers and subscribers over shared memory, zero-copy loans, native fanout, and
// its broker RouDi, which ipcmark starts and stops (roudi_lease.hpp) unless one is running.
// The channel is in iceoryx_channel.hpp, the fanout in iceoryx_fanout.hpp, the seed demo in
// iceoryx_seed.hpp.
#include "transports/iceoryx/iceoryx.hpp"

#include "transports/iceoryx/iceoryx_channel.hpp"
#include "transports/iceoryx/iceoryx_fanout.hpp"
#include "transports/iceoryx/iceoryx_seed.hpp"
#include "transports/iceoryx/roudi_config.hpp"
#include "transports/iceoryx/roudi_lease.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;

// A waiting side polls, or sleeps in iceoryx's WaitSet: the shm ring's other wake-ups are not its own.
bool spins_or_blocks(WaitKind wait) { return wait == WaitKind::Spin || wait == WaitKind::Block; }

void remove(const std::string& channel) {
  iceoryx::remove_channel(channel);
  iceoryx::remove_publication(channel);
}

constexpr FanoutOps kFanout{
    .serve = &iceoryx::serve_fanout,
    .connect = &iceoryx::connect_fanout,
    .remove = &iceoryx::remove_fanout,
    .takes_wait = &spins_or_blocks};

constexpr BrokerOps kBroker{
    .lease = [](std::size_t max_message) -> std::unique_ptr<BrokerLease> {
      return iceoryx::RoudiLease::acquire(max_message, Clock::now() + 20s);
    },
    .clean = &iceoryx::clean_roudi,
};

}  // namespace

const Transport& iceoryx_transport() {
  static const Transport transport{
      .name = "iceoryx",
      .summary = "Eclipse iceoryx 2.0 untyped publish/subscribe over shared memory, zero-copy loans; "
                 "needs RouDi (started by ipcmark when none runs)",
      .has_wait_modes = true,
      .max_message = iceoryx::kMaxMessage,
      .zero_copy = true,
      .channel = {.serve = &iceoryx::serve_channel,
                  .connect = &iceoryx::connect_channel,
                  .remove = &remove,
                  .takes_wait = &spins_or_blocks},
      .seed = {.publish = &iceoryx::publish, .fetch = &iceoryx::fetch},
      .fanout = &kFanout,
      .broker = &kBroker,
  };
  return transport;
}

}  // namespace ipcmark
