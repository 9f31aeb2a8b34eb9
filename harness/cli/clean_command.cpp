// harness/cli/clean_command.cpp — `ipcmark clean`: the names crashed runs left behind.
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "harness/cli/plugin_options.hpp"
#include "harness/cli/subcommand.hpp"
#include "transports/fanout.hpp"
#include "transports/mq/mq_names.hpp"
#include "transports/names.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

// Removes the names of `channel` on every transport, or with no channel, the names of
// `ipcmark run`s whose process is gone (ipcmark-<pid>-*); never anything else. A place it cannot
// list (mq without an mqueue mount) is a one-line warning, not a failure: the rest is cleaned, and
// on such a machine every clean would otherwise fail, mq used or not.
int command_clean(const std::string& channel) {
  if (!channel.empty()) {
    validate_channel_name(channel);
    for (const Transport* t : all_transports()) {
      t->channel.remove(channel);
      remove_fanout(*t, channel);
    }
    std::cout << "removed channel '" << channel << "' on every transport\n";
    return 0;
  }
  std::vector<std::string> dirs{"/dev/shm", private_runtime_dir()};
  const MqueueDir mqueue = find_mqueue_dir();
  if (mqueue.path.empty())
    std::cerr << "ipcmark: warning: cannot list POSIX message queues: " << mqueue.why_not << '\n';
  else
    dirs.push_back(mqueue.path);
  int removed = 0;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    std::filesystem::directory_iterator entries(dir, ec);
    if (ec) {
      const std::string what = dir == mqueue.path ? "POSIX message queues" : "names in " + dir;
      std::cerr << "ipcmark: warning: cannot list " << what << ": cannot read '" << dir << "': " << ec.message() << '\n';
      continue;
    }
    for (const auto& entry : entries) {
      const std::string file = entry.path().filename().string();
      int pid = 0;
      char rest[256];
      if (std::sscanf(file.c_str(), "ipcmark-%d-%255s", &pid, rest) != 2 || pid <= 0) continue;
      if (::kill(pid, 0) == 0 || errno == EPERM) continue;  // that run is still going
      std::filesystem::remove(entry.path(), ec);
      if (!ec) {
        std::cout << "removed " << entry.path().string() << '\n';
        ++removed;
      }
    }
  }
  // Daemons ipcmark started (iceoryx's RouDi) that no run holds any more, and what dead ones left.
  for (const Transport* t : all_transports()) {
    if (t->broker == nullptr) continue;
    for (const std::string& line : t->broker->clean()) {
      std::cout << t->name << ": " << line << '\n';
      ++removed;
    }
  }
  std::cout << removed << " stale name(s) removed\n";
  return 0;
}

}  // namespace

Subcommand add_clean_command(CLI::App& app) {
  auto channel = std::make_shared<std::string>();
  CLI::App* clean = app.add_subcommand(
      "clean", "Remove names left by crashed ipcmark runs (or one channel's names). Exit 0 also when mq names "
               "cannot be listed (no mqueue mount; IPCMARK_MQUEUE_DIR overrides where): a warning says so");
  clean->add_option("--channel", *channel, "Remove this channel's names on every transport");
  add_plugin_option(*clean);

  return {clean, [channel] { return command_clean(*channel); }};
}

}  // namespace ipcmark
