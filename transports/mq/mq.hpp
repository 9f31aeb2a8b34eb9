// transports/mq/mq.hpp — POSIX message queues (mq_open), one queue per direction.
#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

const Transport& mq_transport();

}  // namespace ipcmark
