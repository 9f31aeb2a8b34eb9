// transports/grpc/grpc_bytes.cpp — raw bytes in and out of grpc::ByteBuffer (see grpc_bytes.hpp).
#include "transports/grpc/grpc_bytes.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <grpcpp/support/slice.h>

#include "transports/transport.hpp"

namespace ipcmark::grpc_bytes {

grpc::ByteBuffer copy_in(std::span<const std::byte> bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

std::size_t copy_out(const grpc::ByteBuffer& message, std::byte* into) {
  // A received message is usually one slice; a large one may arrive in several.
  grpc::Slice single;
  if (message.TrySingleSlice(&single).ok()) {
    std::memcpy(into, single.begin(), single.size());
    return single.size();
  }
  std::vector<grpc::Slice> slices;
  if (!message.Dump(&slices).ok()) throw Error(Errc::System, "grpc: cannot read a received message");
  std::byte* at = into;
  for (const grpc::Slice& s : slices) at = std::copy_n(reinterpret_cast<const std::byte*>(s.begin()), s.size(), at);
  return static_cast<std::size_t>(at - into);
}

}  // namespace ipcmark::grpc_bytes
