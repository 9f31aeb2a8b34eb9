// transports/grpc/grpc.cpp — gRPC C++ (1.51, Debian's libgrpc++) over a Unix domain socket: one
// bidirectional streaming call per channel carrying raw bytes, to show what an RPC framework
// costs against the plain `unix` socket.
//
// The generic API (GenericStub, AsyncGenericService, ByteBuffer), not a .proto service: the
// message is already bytes, so a proto `bytes` field would only add a protobuf copy and parse per
// message and a protoc/grpc_cpp_plugin step to every build (three builds in CI) — what is
// measured is gRPC itself: HTTP/2 framing, flow control, its call and completion-queue machinery.
// A proto service over the same call costs the same plus that copy.
//
// Async completion-queue API, driven by the caller's thread (grpc_stream.hpp): every wait is an
// AsyncNext bounded by the deadline. The synchronous streaming API has no per-Read deadline, and
// the callback API would hand every message from gRPC's threads to ours (a wake-up per message).
// gRPC's limits follow the channel: max send and receive message sizes are set to max_message
// (gRPC's default receive limit is 4 MiB).
//
// Contract: the server claims its socket file itself before gRPC binds (grpc_names.hpp: gRPC's
// unix listener unlinks an existing file, so it cannot tell us AlreadyExists). The client checks
// the file exists (DoesNotExist at once) and starts its call without wait-for-ready, so a file
// nobody listens on fails in accept() with DoesNotExist instead of gRPC's reconnect backoff.
// PeerGone needs no pid: a dead or closing peer ends the stream (its socket closes, or it
// half-closes / finishes the call), and messages that arrived first are still delivered.
//
// Names (in the private runtime dir, like the unix transport's <channel>.sock): <channel>.grpc
// for a channel, <channel>.grpc-news for the one-shot demo. gRPC unlinks its socket file when
// the server shuts down; we unlink it too if it is still ours. Fanout: gRPC has no native
// publish/subscribe, so the generic fanout over N channels (transports/fanout.hpp).
//
// Threads: gRPC starts its own (timer manager, executor) once a channel or server exists. The
// tests fork their children before any transport is made, and `run` spawns fresh ipcmark
// processes, so no process forks with gRPC's threads running and then uses gRPC.
#include "transports/grpc/grpc.hpp"

#include <unistd.h>

#include "transports/grpc/grpc_names.hpp"
#include "transports/grpc/grpc_seed.hpp"
#include "transports/grpc/grpc_stream.hpp"

namespace ipcmark {
namespace {

void remove(const std::string& channel) {
  ::unlink(grpc_names::socket_path(channel, grpc_names::kChannelSuffix).c_str());
  ::unlink(grpc_names::socket_path(channel, grpc_names::kNewsSuffix).c_str());
}

}  // namespace

const Transport& grpc_transport() {
  static const Transport transport{
      .name = "grpc",
      .summary = "gRPC C++ bidirectional stream over a unix: socket, generic API (raw bytes, no protobuf), async "
                 "completion queue; max message sizes raised to the channel's",
      .has_wait_modes = false,
      .max_message = grpc_names::kMaxMessage,
      .channel = {.serve = &grpc_stream::serve, .connect = &grpc_stream::connect, .remove = &remove},
      .seed = {.publish = &grpc_seed::publish, .fetch = &grpc_seed::fetch},
  };
  return transport;
}

}  // namespace ipcmark
