// transports/registry.hpp — the one list of transports (transports/registry.cpp).
#pragma once

#include <span>
#include <string_view>

#include "transports/transport.hpp"

namespace ipcmark {

std::span<const Transport* const> all_transports();
// nullptr when no transport has that name.
const Transport* find_transport(std::string_view name);

}  // namespace ipcmark
