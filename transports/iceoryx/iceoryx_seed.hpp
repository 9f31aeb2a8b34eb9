// transports/iceoryx/iceoryx_seed.hpp — the seed demo over iceoryx: the publisher keeps its one
// message as history (historyCapacity 1), and a reader subscribing later asks for it
// (historyRequest 1, requiresPublisherHistorySupport), so a late reader still gets it.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark::iceoryx {

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size, std::span<const std::byte> message,
                                     bool replace);
std::string fetch(const std::string& channel, Deadline deadline);
void remove_publication(const std::string& channel);

}  // namespace ipcmark::iceoryx
