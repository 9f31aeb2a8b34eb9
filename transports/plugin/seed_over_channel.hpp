// transports/plugin/seed_over_channel.hpp — the seed demo (`ipcmark serve` / `ipcmark read`, the
// oneshot pattern) built from a transport's point-to-point ops alone, so that a plugin need
// not implement it: the publication serves one reader at a time on a fresh channel each. So
// fetch() of a channel nobody serves fails (DoesNotExist) after a grace of 1 s, not at once.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark {

// `transport.channel` must be set; `transport.max_message` bounds what fetch() accepts.
std::unique_ptr<Publication> publish_over_channel(const Transport& transport, const std::string& channel,
                                                  std::size_t size, std::span<const std::byte> message, bool replace);
std::string fetch_over_channel(const Transport& transport, const std::string& channel, Deadline deadline);

}  // namespace ipcmark
