#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

// "unix": a Unix domain SOCK_STREAM socket, length-prefixed frames.
const Transport& unix_transport();

}  // namespace ipcmark
