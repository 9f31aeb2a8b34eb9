// transports/zmq/zmq_fanout.hpp — the zmq transports' native fanout (XPUB/SUB), plugged into
// their Transport entries in zmq.cpp; zmq_fanout.cpp explains it.
#pragma once

#include <memory>
#include <string>

#include "transports/transport.hpp"
#include "transports/zmq/zmq_common.hpp"

namespace ipcmark::zmq_fanout {

std::unique_ptr<FanoutWriter> serve(const zmq_common::Flavor& flavor, const FanoutConfig& config);
std::unique_ptr<Connection> connect(const zmq_common::Flavor& flavor, const ChannelConfig& config, int reader);
void remove(const zmq_common::Flavor& flavor, const std::string& channel);

}  // namespace ipcmark::zmq_fanout
