// transports/bip_mq/bip_mq.hpp — Boost.Interprocess message_queue, one queue per direction.
#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

const Transport& bip_mq_transport();

}  // namespace ipcmark
