// harness/cli/list_command.cpp — `ipcmark list`: the transports, one line each, with their limits
// (and, for a plugin's, the file it came from).
#include <cstdio>
#include <string>

#include "harness/cli/plugin_options.hpp"
#include "harness/cli/subcommand.hpp"
#include "harness/usage_error.hpp"
#include "transports/plugin/plugin_loader.hpp"
#include "transports/registry.hpp"

namespace ipcmark {

const Transport& transport_named(const std::string& name) {
  const Transport* t = find_transport(name);
  if (t == nullptr) throw UsageError("unknown transport '" + name + "' (see `ipcmark list`)");
  return *t;
}

Subcommand add_list_command(CLI::App& app) {
  CLI::App* list = app.add_subcommand("list", "List the transports");
  add_plugin_option(*list);
  return {list, [] {
            for (const Transport* t : all_transports()) {
              const std::string_view plugin = plugin_path_of(*t);
              std::printf("%-10s %s (messages up to %zu bytes)%s%s\n", std::string(t->name).c_str(),
                          std::string(t->summary).c_str(), t->max_message, plugin.empty() ? "" : "; plugin ",
                          std::string(plugin).c_str());
            }
            return 0;
          }};
}

}  // namespace ipcmark
