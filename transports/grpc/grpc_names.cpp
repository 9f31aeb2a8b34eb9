// transports/grpc/grpc_names.cpp — socket files and statuses of the grpc transport (see grpc_names.hpp).
#include "transports/grpc/grpc_names.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cerrno>
#include <utility>

#include "transports/unix/local_socket.hpp"

namespace ipcmark::grpc_names {
namespace {

constexpr local_sockets::Naming kNaming{.kind = "grpc", .suffix = "", .socket = "unix socket"};
using Endpoints = local_sockets::Endpoints<boost::asio::local::stream_protocol, kNaming>;

}  // namespace

std::string socket_path(const std::string& channel, const char* suffix) {
  // The unix transport's naming and length check, with our suffix on the channel name.
  validate_channel_name(channel);
  return Endpoints::path(channel + suffix);
}

std::string grpc_address(const std::string& path) { return "unix:" + path; }

ServerName ServerName::claim(const std::string& channel, const char* suffix) {
  std::string path = socket_path(channel, suffix);
  boost::asio::io_context io;
  // listen_on: AlreadyExists naming the path and `ipcmark clean --channel <channel>` on EADDRINUSE.
  auto placeholder = Endpoints::listen_on(io, channel, path);
  return ServerName(std::move(path), placeholder->release());
}

ServerName::ServerName(ServerName&& other) noexcept
    : path_(std::exchange(other.path_, {})),
      placeholder_(std::exchange(other.placeholder_, -1)),
      dev_(other.dev_),
      ino_(other.ino_) {}

ServerName::~ServerName() { release(); }

void ServerName::close_placeholder() noexcept {
  if (placeholder_ >= 0) ::close(placeholder_);
  placeholder_ = -1;
}

void ServerName::adopt() {
  close_placeholder();
  struct stat st {};
  if (::lstat(path_.c_str(), &st) != 0) throw_system_error("gRPC is not listening on " + path_);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
}

void ServerName::release() noexcept {
  if (path_.empty()) return;
  if (placeholder_ >= 0) {
    ::unlink(path_.c_str());  // gRPC never bound: the file is still our placeholder
    close_placeholder();
  } else {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
  }
  path_.clear();
}

void require_socket_file(const std::string& kind, const std::string& channel, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      throw Error(Errc::DoesNotExist, kind + " channel '" + channel + "' does not exist (is the server running?)");
    throw_system_error("cannot inspect " + path);
  }
  if (!S_ISSOCK(st.st_mode)) throw Error(Errc::Corrupt, kind + " channel '" + channel + "': " + path + " is not a socket");
}

Errc errc_for(grpc::StatusCode code, bool connected) {
  switch (code) {
    case grpc::StatusCode::DEADLINE_EXCEEDED: return Errc::Timeout;
    case grpc::StatusCode::UNAVAILABLE: return connected ? Errc::PeerGone : Errc::DoesNotExist;
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OK:  // the peer finished the call: it is gone from the conversation
      return Errc::PeerGone;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return Errc::MessageTooLarge;
    default: return Errc::System;
  }
}

std::string describe(const std::string& what, const grpc::Status& status) {
  static constexpr const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                           "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                           "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const auto code = static_cast<std::size_t>(status.error_code());
  std::string line = what + ": " + (code < std::size(kNames) ? kNames[code] : "status " + std::to_string(code));
  if (!status.error_message().empty()) line += ": " + status.error_message();
  for (char& c : line)
    if (c == '\n') c = ' ';  // one line
  return line;
}

void throw_status(const std::string& channel, const std::string& path, const grpc::Status& status, bool connected) {
  const Errc code = errc_for(status.error_code(), connected);
  std::string what = "grpc channel '" + channel + "'";
  if (code == Errc::DoesNotExist) what += " does not exist: no server is listening on " + path;
  throw Error(code, describe(what, status));
}

}  // namespace ipcmark::grpc_names
