// transports/plugin/plugin_transport.hpp — a loaded plugin's descriptor (include/ipcmark/plugin.h)
// made a Transport like the built-in ones.
#pragma once

#include <ipcmark/plugin.h>

#include "transports/transport.hpp"

namespace ipcmark {

// At most this many plugins per process: Transport's ops are plain function pointers, so each
// plugin gets one of a fixed set of slots (a set of functions bound to it at compile time).
inline constexpr int kMaxPlugins = 16;

// The Transport for `plugin`, which must have been checked (plugin_loader.cpp) and outlive the
// process. Throws Error{InvalidArgument} when every slot is taken.
const Transport& adapt_plugin(const ipcmark_plugin& plugin);

}  // namespace ipcmark
