// transports/nng/nng.cpp — nanomsg-next-gen (libnng 1.5, C API) over ipc://, a unix socket file.
//
// Point-to-point (pair_connection.cpp): one pair1 socket per side carries both directions
// (pair is nng's 1:1 protocol: no routing header beyond a 4-byte hop count, no lock-step). The
// server listens, the client dials synchronously, so a missing server is DoesNotExist at once.
// Back-pressure, not drops: pair1 (cooked, the default buffers of 0) holds at most one message
// per direction outside the kernel and, when the reader is behind, stops reading the socket and
// leaves send() waiting, until its deadline: a fast stream arrives whole, in order, exactly once.
// A dead or closed peer is seen through nng's pipe notifications (peer_watch.hpp), and closing
// says goodbye so that nothing sent just before close is lost (pair_connection.cpp).
// One-shot demo (publication.cpp): rep0/req0, since a publication serves many readers.
// Names (nng_endpoints.cpp): <private runtime dir>/<channel>.nng and <channel>.nng-news, unix
// socket files, created atomically (AlreadyExists) and removed by their server or by remove().
//
// Fanout: none native (nullptr: the generic fanout over N pair channels, transports/fanout.hpp).
// nng's pub0 drops a message for a subscriber whose queue is full, which the closed-loop fanout
// forbids; and a pub0 for open loop only would need readers to know, at connect(), whether the
// writer is lossy — FanoutOps::connect is not told.
#include "transports/nng/nng.hpp"

#include "transports/nng/nng_common.hpp"
#include "transports/nng/nng_endpoints.hpp"
#include "transports/nng/pair_connection.hpp"
#include "transports/nng/publication.hpp"

namespace ipcmark {

const Transport& nng_transport() {
  static const Transport transport{
      .name = "nng",
      .summary = "nanomsg-next-gen pair1 sockets over ipc:// (unix socket), libnng C API, peer loss from pipe events",
      .has_wait_modes = false,
      .max_message = nng_common::kMaxMessage,
      .channel = {.serve = &nng_pair::serve, .connect = &nng_pair::connect, .remove = &nng_endpoints::remove_names},
      .seed = {.publish = &nng_seed::publish, .fetch = &nng_seed::fetch},
  };
  return transport;
}

}  // namespace ipcmark
