// transports/shm/shm.hpp — the shared-memory transport: two SPSC rings in one POSIX shm region.
#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

const Transport& shm_transport();

}  // namespace ipcmark
