// transports/nng/nng_endpoints.cpp — see nng_endpoints.hpp.
//
// Why nng does not listen on the channel's name itself: its ipc listener, finding the path
// taken, connects to it and unlinks it when nobody answers (a stale file silently replaced,
// and a check-then-listen of ours would race with another server doing the same), and on close
// it unlinks its path whoever's file that is by then (after `--replace`, the successor's). So
// nng listens on a private name, ipcmark-<pid>-nng-<n> (`ipcmark clean` removes it if we crash
// in between), and we hard-link the channel's name to that socket: link() fails with EEXIST
// when the name exists, an atomic AlreadyExists. The private name is then unlinked (nng's own
// unlink on close finds nothing), and the channel's name is ours to remove, only if it is still
// the same inode (OwnedFile).
#include "transports/nng/nng_endpoints.hpp"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "transports/names.hpp"
#include "transports/nng/nng_common.hpp"

namespace ipcmark::nng_endpoints {

using nng_common::kName;
using nng_common::throw_nng;

namespace {

std::string private_listen_path() {
  static std::atomic<unsigned> next{0};
  return private_runtime_dir() + "/ipcmark-" + std::to_string(::getpid()) + "-nng-" + std::to_string(next++);
}

[[noreturn]] void throw_missing(const std::string& channel, const std::string& why) {
  throw Error(Errc::DoesNotExist,
              std::string(kName) + " channel '" + channel + "' does not exist (is the server running?)" + why);
}

}  // namespace

std::string socket_path(const std::string& channel, const char* suffix) {
  validate_channel_name(channel);
  std::string path = private_runtime_dir() + "/" + channel + suffix;
  constexpr std::size_t kLimit = sizeof(sockaddr_un{}.sun_path) - 1;
  if (path.size() > kLimit)
    throw Error(Errc::InvalidArgument, std::string(kName) + " channel '" + channel + "' makes a socket path of " +
                                           std::to_string(path.size()) + " bytes (" + path + "); the limit is " +
                                           std::to_string(kLimit));
  return path;
}

OwnedFile listen_at(nng_socket socket, const std::string& channel, const char* suffix) {
  const std::string path = socket_path(channel, suffix);
  const std::string private_path = private_listen_path();
  ::unlink(private_path.c_str());  // a crashed process with our pid left it: it is not anyone's now
  if (const int rv = nng_listen(socket, ("ipc://" + private_path).c_str(), nullptr, 0); rv != 0)
    throw_nng(rv, "nng listen on ipc://" + private_path);
  if (::link(private_path.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(private_path.c_str());
    if (err == EEXIST) throw_channel_exists(kName, channel, path);
    errno = err;
    throw_system_error("cannot name the nng socket " + path);
  }
  OwnedFile owned(path);
  ::unlink(private_path.c_str());
  return owned;
}

void dial(nng_socket socket, const std::string& channel, const char* suffix) {
  const std::string path = socket_path(channel, suffix);
  // A check first: nng's dial of a missing path would fail the same way, but say less.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw_missing(channel, "");
    throw_system_error("cannot inspect " + path);
  }
  if (!S_ISSOCK(st.st_mode))
    throw Error(Errc::Corrupt, std::string(kName) + " channel '" + channel + "': " + path + " is not a socket");
  // Synchronous (no NNG_FLAG_NONBLOCK): fails at once instead of redialing in the background.
  const int rv = nng_dial(socket, ("ipc://" + path).c_str(), nullptr, 0);
  if (rv == NNG_ECONNREFUSED || rv == NNG_ENOENT) throw_missing(channel, ": no server is listening on " + path);
  if (rv != 0) throw_nng(rv, "nng dial ipc://" + path);
}

void remove_names(const std::string& channel) {
  validate_channel_name(channel);  // no length check: a name too long to serve has nothing to remove
  for (const char* suffix : {kChannelSuffix, kNewsSuffix})
    ::unlink((private_runtime_dir() + "/" + channel + suffix).c_str());
}

}  // namespace ipcmark::nng_endpoints
