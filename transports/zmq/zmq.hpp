// transports/zmq/zmq.hpp — ZeroMQ PAIR sockets over ipc:// ("zmq") and tcp://127.0.0.1 ("zmq-tcp").
#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

const Transport& zmq_transport();
const Transport& zmq_tcp_transport();

}  // namespace ipcmark
