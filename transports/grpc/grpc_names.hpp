// transports/grpc/grpc_names.hpp — where the grpc transport's socket files live, claiming one
// for a server, and what a gRPC status means in the Connection contract's terms.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include <grpcpp/support/status.h>

#include "transports/transport.hpp"

namespace ipcmark::grpc_names {

// The harness's buffers cap it (as for zmq); gRPC's own default receive limit (4 MiB) is raised
// to the channel's max_message on both sides.
inline constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;

inline constexpr const char* kChannelSuffix = ".grpc";       // a point-to-point channel's socket
inline constexpr const char* kNewsSuffix = ".grpc-news";     // the one-shot demo's socket

// <private runtime dir>/<channel><suffix>, like the unix transport's <channel>.sock;
// InvalidArgument for a bad channel name or a path too long for sockaddr_un.
std::string socket_path(const std::string& channel, const char* suffix);

// The "unix:" address gRPC binds and connects to.
std::string grpc_address(const std::string& path);

// The socket file of a gRPC server of ours. gRPC's unix listener unlinks whatever socket file
// is at its path before it binds (and again when the server shuts down), so two servers of one
// channel would silently take the name from each other: claim() binds the path ourselves first
// (bind() fails with EADDRINUSE if the file exists: an atomic AlreadyExists) and keeps that
// placeholder listening until gRPC has bound in its place; adopt() then records gRPC's file, and
// release() unlinks it only if it is still that file (a --replace successor may own the name).
class ServerName {
 public:
  // AlreadyExists (naming the path and the fix) when the file exists.
  static ServerName claim(const std::string& channel, const char* suffix);
  ServerName(ServerName&& other) noexcept;
  ServerName& operator=(ServerName&&) = delete;
  ServerName(const ServerName&) = delete;
  ~ServerName();

  const std::string& path() const { return path_; }
  // Call once gRPC listens on path(): closes the placeholder, remembers gRPC's file.
  void adopt();
  void release() noexcept;

 private:
  explicit ServerName(std::string path, int placeholder_fd) : path_(std::move(path)), placeholder_(placeholder_fd) {}
  void close_placeholder() noexcept;

  std::string path_;
  int placeholder_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

// DoesNotExist at once when the socket file is missing (gRPC would otherwise retry the
// connection with backoff until the call's deadline); Corrupt when it is not a socket.
void require_socket_file(const std::string& kind, const std::string& channel, const std::string& path);

// The Errc a failed gRPC status stands for. `connected`: whether the call ever reached the
// server (UNAVAILABLE before that is a missing server, after it a peer that went away).
Errc errc_for(grpc::StatusCode code, bool connected);

// "<what>: <status code name>: <message>", one line.
std::string describe(const std::string& what, const grpc::Status& status);

// Throws the Error a failed call's status stands for (errc_for), naming the channel and, for a
// missing server, its socket file.
[[noreturn]] void throw_status(const std::string& channel, const std::string& path, const grpc::Status& status,
                               bool connected);

}  // namespace ipcmark::grpc_names
