// transports/grpc/grpc_bytes.hpp — raw bytes in and out of gRPC's ByteBuffer (the generic API's
// message type: no serialization step, one copy each way).
#pragma once

#include <cstddef>
#include <span>

#include <grpcpp/support/byte_buffer.h>

namespace ipcmark::grpc_bytes {

// A buffer holding gRPC's own copy of `bytes`.
grpc::ByteBuffer copy_in(std::span<const std::byte> bytes);

// Copies `message` into `into` (at least message.Length() bytes) and returns its length.
std::size_t copy_out(const grpc::ByteBuffer& message, std::byte* into);

}  // namespace ipcmark::grpc_bytes
