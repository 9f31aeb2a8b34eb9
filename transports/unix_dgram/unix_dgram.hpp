#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

// "unix-dgram": a Unix domain SOCK_SEQPACKET socket, one packet per message.
const Transport& unix_dgram_transport();

}  // namespace ipcmark
