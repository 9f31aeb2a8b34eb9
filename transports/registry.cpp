#include "transports/registry.hpp"

#include <array>
#include <vector>

#include "transports/bip_mq/bip_mq.hpp"
#include "transports/grpc/grpc.hpp"
#include "transports/iceoryx/iceoryx.hpp"
#include "transports/mq/mq.hpp"
#include "transports/nng/nng.hpp"
#include "transports/pipe/pipe.hpp"
#include "transports/shm/shm.hpp"
#include "transports/tcp/tcp.hpp"
#include "transports/unix/unix.hpp"
#include "transports/unix_dgram/unix_dgram.hpp"
#include "transports/zmq/zmq.hpp"

namespace ipcmark {

static std::span<const Transport* const> builtin_transports() {
  // One line per transport; the order is the order of `ipcmark list` and of result tables.
  static const std::array transports{
      &shm_transport(),
      &pipe_transport(),
      &unix_transport(),
      &unix_dgram_transport(),
      &tcp_transport(),
      &zmq_transport(),
      &zmq_tcp_transport(),
      &nng_transport(),
      &iceoryx_transport(),
      &grpc_transport(),
      &mq_transport(),
      &bip_mq_transport(),
  };
  return transports;
}

namespace {
// The built-in transports, then those registered at run time (plugins) in the order they came.
std::vector<const Transport*>& registered() {
  static std::vector<const Transport*> transports(builtin_transports().begin(), builtin_transports().end());
  return transports;
}
}  // namespace

std::span<const Transport* const> all_transports() { return registered(); }

void register_transport(const Transport& transport) { registered().push_back(&transport); }

const Transport* find_transport(std::string_view name) {
  for (const Transport* t : all_transports())
    if (t->name == name) return t;
  return nullptr;
}

}  // namespace ipcmark
