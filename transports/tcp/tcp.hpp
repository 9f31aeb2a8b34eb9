#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

// "tcp": TCP over 127.0.0.1 with TCP_NODELAY, length-prefixed frames.
const Transport& tcp_transport();

}  // namespace ipcmark
