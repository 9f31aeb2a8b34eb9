#include "harness/cli/plugin_options.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "transports/plugin/plugin_loader.hpp"

namespace ipcmark {
namespace {

constexpr const char* kOption = "--plugin";

// The files an entry of the search path names: itself, or a directory's *.so files in order.
std::vector<std::string> files_of(const std::string& entry) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(entry, error))
    throw Error(Errc::InvalidArgument, std::string(kPluginPathVariable) + ": no such file or directory: " + entry);
  if (!fs::is_directory(entry, error)) return {entry};
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::directory_iterator(entry, error))
    if (e.path().extension() == ".so" && e.is_regular_file(error)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> search_path_files() {
  const char* value = ::getenv(std::string(kPluginPathVariable).c_str());
  std::vector<std::string> files;
  if (value == nullptr) return files;
  const std::string path = value;
  for (std::size_t start = 0; start <= path.size();) {
    const std::size_t end = std::min(path.find(':', start), path.size());
    if (end > start)
      for (std::string& f : files_of(path.substr(start, end - start))) files.push_back(std::move(f));
    start = end + 1;
  }
  return files;
}

}  // namespace

void add_plugin_option(CLI::App& command) {
  static const std::string description =
      "A transport plugin (.so) to load; repeatable (also: IPCMARK_PLUGIN_PATH, colon-separated files or directories)";
  command.add_option(kOption, description)  // no variable: load_plugins() reads every occurrence
      ->type_name("PATH")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void load_plugins(const CLI::App& command) {
  std::vector<std::string> files = search_path_files();
  if (const CLI::Option* option = command.get_option_no_throw(kOption))
    for (const std::string& f : option->results()) files.push_back(f);
  if (files.empty()) return;
  std::vector<std::string> loaded;
  for (const std::string& f : files) {
    const LoadedPlugin& p = load_plugin(f);
    if (std::find(loaded.begin(), loaded.end(), p.path) == loaded.end()) loaded.push_back(p.path);
  }
  std::string joined;
  for (const std::string& p : loaded) joined += (joined.empty() ? "" : ":") + p;
  ::setenv(std::string(kPluginPathVariable).c_str(), joined.c_str(), 1);  // for the peers we spawn
}

}  // namespace ipcmark
