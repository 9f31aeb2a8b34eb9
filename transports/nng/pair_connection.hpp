// transports/nng/pair_connection.hpp — a point-to-point channel over an nng pair1 socket.
#pragma once

#include <memory>

#include "transports/transport.hpp"

namespace ipcmark::nng_pair {

std::unique_ptr<Connection> serve(const ChannelConfig& config);
std::unique_ptr<Connection> connect(const ChannelConfig& config);

}  // namespace ipcmark::nng_pair
