#include "transports/names.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "transports/transport.hpp"

namespace ipcmark {

void validate_channel_name(const std::string& name) {
  constexpr std::size_t kMaxLength = 200;
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (name.empty() || name.size() > kMaxLength || name == "." || name == "..")
    throw Error(Errc::InvalidArgument,
                "invalid channel name '" + name + "': use 1 to 200 letters, digits, '.', '_' or '-'");
  for (char c : name)
    if (!allowed(c))
      throw Error(Errc::InvalidArgument, "invalid channel name '" + name +
                                             "': only letters, digits, '.', '_' and '-' are allowed");
}

namespace {

std::string make_private_dir() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string dir = (xdg != nullptr && xdg[0] == '/') ? std::string(xdg) + "/ipcmark"
                                                      : "/tmp/ipcmark-" + std::to_string(::getuid());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_system_error("cannot create " + dir);
  // Someone else may have planted it (a symlink, or a directory others can write): refuse.
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) throw_system_error("cannot inspect " + dir);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 0077) != 0)
    throw Error(Errc::System, dir + " is not a private directory owned by this user (remove it and retry)");
  return dir;
}

}  // namespace

const std::string& private_runtime_dir() {
  static const std::string dir = make_private_dir();
  return dir;
}

void throw_channel_exists(std::string_view kind, const std::string& channel, const std::string& where) {
  throw Error(Errc::AlreadyExists, std::string(kind) + " channel '" + channel + "' already exists (" + where +
                                       "); another server is running, or a crashed one left it: "
                                       "pass --replace or run `ipcmark clean --channel " + channel + "`");
}

}  // namespace ipcmark
