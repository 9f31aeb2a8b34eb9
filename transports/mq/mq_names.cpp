#include "transports/mq/mq_names.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ipcmark {
namespace {

std::string mount_hint(const std::string& dir) {
  return " (as root: mkdir -p " + dir + " && mount -t mqueue mqueue " + dir + ")";
}

// /proc/self/mounts writes a space in a path as \040 (and tab, newline, backslash alike).
std::string unescape_mount_path(const std::string& field) {
  auto octal = [&](std::size_t i) { return i < field.size() && field[i] >= '0' && field[i] <= '7'; };
  std::string path;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      path += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      path += field[i];
    }
  }
  return path;
}

}  // namespace

MqueueDir find_mqueue_dir() {
  if (const char* env = std::getenv("IPCMARK_MQUEUE_DIR"); env != nullptr && *env != '\0') {
    struct stat st {};
    if (::stat(env, &st) != 0)
      return {"", "IPCMARK_MQUEUE_DIR is '" + std::string(env) + "': " + std::strerror(errno) + mount_hint(env)};
    if (!S_ISDIR(st.st_mode)) return {"", "IPCMARK_MQUEUE_DIR is '" + std::string(env) + "', not a directory"};
    return {env, ""};
  }
  std::ifstream mounts("/proc/self/mounts");
  if (!mounts) return {"", std::string("cannot read /proc/self/mounts: ") + std::strerror(errno)};
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device, dir, type;
    if (fields >> device >> dir >> type && type == "mqueue") return {unescape_mount_path(dir), ""};
  }
  return {"", "no mqueue filesystem is mounted" + mount_hint("/dev/mqueue")};
}

}  // namespace ipcmark
