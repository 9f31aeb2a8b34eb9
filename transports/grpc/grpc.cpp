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
// Threads and fork: gRPC starts its own threads (timer manager, executor, event engine) once a
// channel or server exists, and they survive grpc_shutdown. A child fork()ed after that finds
// gRPC initialised but without its threads: its calls fail ("connection attempt timed out before
// receiving SETTINGS frame"); GRPC_ENABLE_FORK_SUPPORT=1 made it hang here. `run` spawns fresh
// ipcmark processes (exec) and ctest runs each test in its own process, forking before any
// transport exists, so both are fine; running conformance_tests by hand with several grpc tests in
// one process is not (a test that used gRPC in the parent breaks the next one's forked client).
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
