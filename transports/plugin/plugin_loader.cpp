#include "transports/plugin/plugin_loader.hpp"

#include <dlfcn.h>
#include <ipcmark/plugin.h>
#include <stdlib.h>

#include <algorithm>
#include <vector>
#include <memory>

#include "transports/plugin/plugin_transport.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

// Never reallocated (adapt_plugin refuses more than kMaxPlugins): references handed out stay valid.
std::vector<LoadedPlugin>& loaded() {
  static std::vector<LoadedPlugin> plugins = [] {
    std::vector<LoadedPlugin> v;
    v.reserve(kMaxPlugins);
    return v;
  }();
  return plugins;
}

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw Error(Errc::InvalidArgument, "plugin " + path + ": " + why);
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// Every descriptor field ipcmark relies on; `path` names the file in the one-line refusal.
void check_descriptor(const std::string& path, const ipcmark_plugin& p) {
  if (p.abi_version != IPCMARK_PLUGIN_ABI_VERSION)
    refuse(path, "built for plugin ABI version " + std::to_string(p.abi_version) + ", this ipcmark speaks version " +
                     std::to_string(IPCMARK_PLUGIN_ABI_VERSION) + " (rebuild it against this ipcmark's ipcmark/plugin.h)");
  if (p.name == nullptr || !valid_name(p.name))
    refuse(path, "its transport name must be 1 to 32 of [a-z0-9._-]");
  if (p.summary == nullptr) refuse(path, "its summary is NULL");
  if (p.max_message == 0) refuse(path, "its max_message is 0");
  const std::pair<const char*, bool> required[] = {
      {"serve", p.serve != nullptr},     {"connect", p.connect != nullptr}, {"accept", p.accept != nullptr},
      {"send", p.send != nullptr},       {"receive", p.receive != nullptr}, {"close", p.close != nullptr},
      {"remove", p.remove != nullptr},
  };
  for (const auto& [name, set] : required)
    if (!set) refuse(path, std::string("its ") + name + " function is NULL");
  const int loans = (p.loan != nullptr) + (p.commit != nullptr) + (p.view != nullptr) + (p.release != nullptr);
  if (loans != 0 && loans != 4) refuse(path, "loan, commit, view and release must be all set or all NULL");
  const int fanout = (p.fanout_serve != nullptr) + (p.fanout_connect != nullptr) +
                     (p.fanout_readers_lost != nullptr) + (p.fanout_remove != nullptr);
  if (fanout != 0 && fanout != 4) refuse(path, "the four fanout functions must be all set or all NULL");
}

void check_name_is_free(const std::string& path, std::string_view name) {
  const Transport* taken = find_transport(name);
  if (taken == nullptr) return;
  const std::string_view other = plugin_path_of(*taken);
  refuse(path, "its transport '" + std::string(name) + "' clashes with " +
                   (other.empty() ? std::string("the built-in transport of that name") : "the plugin " + std::string(other)));
}

}  // namespace

const LoadedPlugin& load_plugin(const std::string& path) {
  std::unique_ptr<char, decltype(&::free)> resolved(::realpath(path.c_str(), nullptr), &::free);
  if (!resolved) refuse(path, "no such file");
  const std::string real = resolved.get();
  for (const LoadedPlugin& p : loaded())
    if (p.path == real) return p;

  void* library = ::dlopen(real.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = ::dlerror();
    refuse(path, std::string("cannot be loaded: ") + (why != nullptr ? why : "dlopen failed"));
  }
  auto* entry = reinterpret_cast<const ipcmark_plugin* (*)()>(::dlsym(library, "ipcmark_plugin_entry"));
  if (entry == nullptr) {
    ::dlclose(library);
    refuse(path, "no ipcmark_plugin_entry symbol: not an ipcmark plugin (see ipcmark/plugin.h)");
  }
  const ipcmark_plugin* descriptor = entry();
  try {
    if (descriptor == nullptr) refuse(path, "ipcmark_plugin_entry() returned NULL: the plugin declined to load");
    check_descriptor(path, *descriptor);
    check_name_is_free(path, descriptor->name);
  } catch (const Error&) {
    ::dlclose(library);
    throw;
  }
  const Transport& transport = adapt_plugin(*descriptor);  // the library stays loaded for good
  register_transport(transport);
  return loaded().emplace_back(LoadedPlugin{real, &transport});
}

std::string_view plugin_path_of(const Transport& transport) {
  for (const LoadedPlugin& p : loaded())
    if (p.transport == &transport) return p.path;
  return {};
}

}  // namespace ipcmark
