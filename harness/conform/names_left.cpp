#include "harness/conform/names_left.hpp"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>

#include "transports/mq/mq_names.hpp"
#include "transports/names.hpp"

namespace ipcmark::conform {
std::vector<std::string> entries_with_prefix(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> found;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name).rfind(prefix, 0) == 0) found.push_back(e->d_name);
    ::closedir(d);
  }
  return found;
}

std::string unique_name(const std::string& prefix, const std::string& infix) {
  static std::atomic<unsigned> counter{0};
  return prefix + std::to_string(::getpid()) + "-" + infix + std::to_string(counter++);
}

std::string mqueue_dir_or_empty() {
  const MqueueDir mqueue = find_mqueue_dir();
  static bool said = false;
  if (mqueue.path.empty() && !said) {
    said = true;
    std::fprintf(stderr, "note: mq names are not checked: %s\n", mqueue.why_not.c_str());
  }
  return mqueue.path;
}

bool can_mount() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key)
    if (key == "CapEff:") {
      std::string hex;
      status >> hex;
      return (std::stoull(hex, nullptr, 16) >> 21 & 1) != 0;  // bit 21: CAP_SYS_ADMIN
    }
  return false;
}

std::vector<std::string> names_with_prefix(const std::string& prefix) {
  std::vector<std::string> found;
  for (const std::string& dir : {std::string("/dev/shm"), mqueue_dir_or_empty(), private_runtime_dir()})
    if (!dir.empty())
      for (const std::string& name : entries_with_prefix(dir, prefix)) found.push_back(dir + "/" + name);
  return found;
}

std::optional<NameListing> names_unlistable(std::string_view transport) {
  if (transport != "mq") return std::nullopt;
  const MqueueDir mqueue = find_mqueue_dir();
  if (!mqueue.path.empty()) return std::nullopt;
  if (can_mount()) return NameListing{true, "cannot list POSIX message queues: " + mqueue.why_not + "; run scripts/setup"};
  return NameListing{false, "cannot list POSIX message queues, and not allowed to mount them: " + mqueue.why_not};
}

}  // namespace ipcmark::conform
