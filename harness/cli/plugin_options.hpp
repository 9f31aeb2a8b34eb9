// harness/cli/plugin_options.hpp — `--plugin PATH.so` (repeatable) on the commands that name
// transports, and the IPCMARK_PLUGIN_PATH search path: which plugins a command loads, and how
// the peers it spawns load the same ones.
#pragma once

#include <string_view>

namespace CLI {
class App;
}

namespace ipcmark {

// The search path: colon-separated entries, each a plugin file or a directory whose *.so files
// are all loaded (in name order). Read by every command that names transports, peers included.
inline constexpr std::string_view kPluginPathVariable = "IPCMARK_PLUGIN_PATH";

// Adds `--plugin PATH` (repeatable) to `command`.
void add_plugin_option(CLI::App& command);

// Loads the plugins of IPCMARK_PLUGIN_PATH, then those of `command`'s --plugin (if it has the
// option), and sets IPCMARK_PLUGIN_PATH to exactly the files loaded, so that every process this
// one spawns (run's peers, fanout readers) loads the same plugins. A bad plugin, or an entry of
// the search path that does not exist, is an Error{InvalidArgument} naming it (exit 2).
void load_plugins(const CLI::App& command);

}  // namespace ipcmark
