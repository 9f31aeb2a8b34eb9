#include "harness/results/output_path.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "harness/usage_error.hpp"

namespace ipcmark {

namespace fs = std::filesystem;

std::string temporary_beside(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

void check_output_path(const std::string& what, const std::string& path, MissingDirectories missing) {
  auto refuse = [&](const std::string& why) { throw UsageError("cannot write " + what + " to '" + path + "': " + why); };
  if (path.empty()) refuse("the path is empty");
  std::error_code ec;
  if (fs::is_directory(path, ec)) refuse("it is a directory");

  // The outermost missing directory: made below, removed again if the probe fails.
  const fs::path parent = fs::path(path).parent_path();
  fs::path outermost_new;
  for (fs::path p = parent; !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, ec)) {
      if (!fs::is_directory(p, ec)) refuse("'" + p.string() + "' is not a directory");
      break;
    }
    if (missing == MissingDirectories::Refuse) refuse("no such directory '" + p.string() + "'");
    outermost_new = p;
    if (p == p.parent_path()) break;
  }
  auto undo = [&] {  // only empty directories: never anything another process put there meanwhile
    if (outermost_new.empty()) return;
    for (fs::path p = parent; fs::remove(p, ec) && p != outermost_new; p = p.parent_path()) {
    }
  };
  if (!outermost_new.empty() && !fs::create_directories(parent, ec) && ec) {
    const std::string why = "cannot create directory '" + parent.string() + "': " + ec.message();
    undo();
    refuse(why);
  }
  const std::string probe = temporary_beside(path);
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const std::string why = std::strerror(errno);
    undo();
    refuse(why);
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace ipcmark
