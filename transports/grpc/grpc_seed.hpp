// transports/grpc/grpc_seed.hpp — the grpc transport's one-shot demo (`ipcmark serve`/`read`, the
// oneshot pattern): a gRPC server on <channel>.grpc-news answers every call with the message.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark::grpc_seed {

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size, std::span<const std::byte> message,
                                     bool replace);
std::string fetch(const std::string& channel, Deadline deadline);

}  // namespace ipcmark::grpc_seed
