// transports/registry.hpp — the one list of transports (transports/registry.cpp), and plugins'.
#pragma once

#include <span>
#include <string_view>

#include "transports/transport.hpp"

namespace ipcmark {

// The built-in transports (registry.cpp's list), then the ones registered at run time.
std::span<const Transport* const> all_transports();
// Adds a transport made at run time (a plugin: transports/plugin/plugin_loader.hpp checks its
// name is free first). Invalidates spans all_transports() returned before.
void register_transport(const Transport& transport);
// nullptr when no transport has that name.
const Transport* find_transport(std::string_view name);

}  // namespace ipcmark
