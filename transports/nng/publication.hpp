// transports/nng/publication.hpp — the one-shot demo (`ipcmark serve` / `ipcmark read`) over nng.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark::nng_seed {

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size,
                                     std::span<const std::byte> message, bool replace);
std::string fetch(const std::string& channel, Deadline deadline);

}  // namespace ipcmark::nng_seed
