// transports/grpc/grpc.hpp — gRPC C++ over a Unix domain socket: one bidirectional streaming
// call carrying raw bytes. grpc.cpp's header comment explains the choices.
#pragma once

#include "transports/transport.hpp"

namespace ipcmark {

const Transport& grpc_transport();

}  // namespace ipcmark
