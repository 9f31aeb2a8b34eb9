// transports/plugin/plugin_loader.hpp — loading a plugin (include/ipcmark/plugin.h) with dlopen,
// checking its descriptor, and registering its transport after the built-in ones.
#pragma once

#include <string>
#include <string_view>

#include "transports/transport.hpp"

namespace ipcmark {

struct LoadedPlugin {
  std::string path;  // as resolved (realpath): the same file given twice is loaded once
  const Transport* transport;
};

// Loads the plugin at `path` and registers its transport. Every refusal is an
// Error{InvalidArgument} of one line naming the file: it cannot be opened, it has no
// ipcmark_plugin_entry, it speaks another ABI version, a required function is missing, or its
// name is a built-in transport's or another plugin's. A plugin is never unloaded.
const LoadedPlugin& load_plugin(const std::string& path);

// The file `transport` was loaded from; "" for a built-in transport.
std::string_view plugin_path_of(const Transport& transport);

}  // namespace ipcmark
