// transports/iceoryx/iceoryx_channel.hpp — one iceoryx channel: a publisher and a subscriber per
// side, one topic per direction ("c2s", "s2c"), with flow control and liveness on top.
//
// Back-pressure without iceoryx's blocking: a subscriber asking BLOCK_PRODUCER of a publisher set
// to WAIT_FOR_CONSUMER makes publish() spin in iceoryx until the queue has room — with no
// deadline, and forever once RouDi (which removes dead subscribers) is gone. So each direction
// has a window of W messages no bigger than the subscriber's queue (W plus room for credits):
// a sender never publishes more than W messages the receiver has not taken, and waits for
// credit — with its deadline, its peer checks — instead. Every message carries the count of
// messages its sender has taken the other way; a receiver that has taken W/2 without sending
// anything back sends a credit-only message. Pingpong never needs one; a stream sends one per
// W/2 messages. The queue policies stay BLOCK_PRODUCER/WAIT_FOR_CONSUMER as a backstop: iceoryx
// never drops, and the window keeps it from ever blocking. W = 16 MiB of messages, 2..240.
//
// Sequence numbers: each data message is numbered; a gap or a repeat is Corrupt (iceoryx never
// drops with these policies, so a gap would be a bug worth seeing).
//
// Connecting: iceoryx connects a subscriber to a publisher asynchronously, in RouDi's discovery
// loop (up to 100 ms), and a message published before that is not delivered. So the client waits
// until its publisher has a subscriber, sends a hello with its pid; the server takes it, waits
// until its own publisher has the client's subscriber, and answers with its pid. After that both
// directions are connected and each side knows the other's pid.
//
// Liveness, checked every 10 ms while waiting: the peer's process (a pidfd, from the hello), the
// peer closing (our subscriber loses its publisher, or our publisher its subscriber) and RouDi
// itself (its pid, from the lease): each is PeerGone, after what has already arrived is taken.
// Wait modes: Spin polls the subscriber; Block yields the CPU once, then sleeps in an iceoryx
// WaitSet (a semaphore in shared memory) in slices of at most 10 ms.
#pragma once

#include <memory>

#include "transports/transport.hpp"

namespace ipcmark::iceoryx {

std::unique_ptr<Connection> serve_channel(const ChannelConfig& config);
std::unique_ptr<Connection> connect_channel(const ChannelConfig& config);
void remove_channel(const std::string& channel);

}  // namespace ipcmark::iceoryx
