// transports/iceoryx/iceoryx_fanout.hpp — iceoryx's native fanout: one publisher on the topic
// "fan", one subscriber per reader; iceoryx hands every subscriber the same chunk (one copy in
// shared memory however many readers).
//
// Flow control and liveness as iceoryx_channel.hpp's, per reader: each reader has a window of
// W messages and gives credit back on a shared back topic ("fanback": every reader publishes on
// it, the writer's one subscriber reads them all); its hello there carries its pid and index, and
// a reader that closes says goodbye there. Closed loop: send() waits until every live reader has
// room. A reader that dies (its pid, checked every 10 ms while waiting and every 64 sends) or says
// goodbye is dropped and counted, its window no longer waited for. The publisher discards the
// oldest message of a full queue rather than block (ConsumerTooSlowPolicy DISCARD_OLDEST_DATA):
// only a dead reader's queue, or an open-loop (lossy) reader's, ever fills — a dead reader's queue
// stays until RouDi removes it, and blocking on it would stall the others (unboundedly once RouDi
// is gone). A live closed-loop reader never loses a message (the window); an open-loop one loses
// what it cannot keep up with, and the harness counts the gaps from the payload's numbers.
// Readers check the writer's pid and their subscription as the channel does: PeerGone after what
// arrived is taken.
#pragma once

#include <memory>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark::iceoryx {

std::unique_ptr<FanoutWriter> serve_fanout(const FanoutConfig& config);
std::unique_ptr<Connection> connect_fanout(const ChannelConfig& config, int reader);
void remove_fanout(const std::string& channel);

}  // namespace ipcmark::iceoryx
