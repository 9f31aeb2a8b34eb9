#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

const Transport& pipe_transport();

}  // namespace ipcmark
