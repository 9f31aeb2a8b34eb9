// transports/iceoryx/iceoryx.hpp — Eclipse iceoryx 2.0 publish/subscribe over shared memory.
#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

const Transport& iceoryx_transport();

}  // namespace ipcmark
