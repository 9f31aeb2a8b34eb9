// transports/fanout.hpp — one writer, N readers, over any transport.
//
// A transport with a native fanout (Transport::fanout: shm's multi-cursor ring, zmq's
// PUB/SUB) uses it. Every other one gets the generic fanout here: one point-to-point channel
// per reader, named "<channel>.r<i>", and the writer sends each message to each reader in
// turn — what a careful user of pipes, sockets or queues would write, and what such a
// transport costs when several processes listen.
#pragma once

#include <memory>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark {

// The channel reader `reader` of the generic fanout uses. InvalidArgument when `reader` is
// outside 0..kMaxReaders-1 or the name grows too long.
std::string reader_channel(const std::string& channel, int reader);

std::unique_ptr<FanoutWriter> serve_fanout(const Transport& transport, const FanoutConfig& config);
std::unique_ptr<Connection> connect_fanout(const Transport& transport, const ChannelConfig& config, int reader);
// Removes every name serve_fanout can have made for `channel`; no error if none.
void remove_fanout(const Transport& transport, const std::string& channel);

}  // namespace ipcmark
