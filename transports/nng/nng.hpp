// transports/nng/nng.hpp — nanomsg-next-gen (libnng) pair1 sockets over ipc:// ("nng").
#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

const Transport& nng_transport();

}  // namespace ipcmark
