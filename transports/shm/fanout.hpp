// transports/shm/fanout.hpp — the shm transport's native fanout: one broadcast ring
// (broadcast_ring.hpp) in one region, one writer, up to kMaxReaders reader cursors.
// Plugged into the "shm" Transport entry (shm.cpp); callers go through transports/fanout.hpp.
#pragma once

#include <memory>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark {

// The region's name: "<channel>.fan" (/dev/shm/<channel>.fan), apart from the channel's own
// point-to-point region "<channel>". InvalidArgument when that name is too long.
std::string shm_fanout_region(const std::string& channel);

// Transport::fanout of "shm":
//  * serve() creates the region (AlreadyExists if it exists) sized like the point-to-point
//    ring for max_message; accept() waits for config.readers readers.
//  * connect() opens the region (DoesNotExist at once if none) and claims slot `reader`
//    (AlreadyExists if taken, InvalidArgument if the region has fewer readers). The
//    Connection only receives.
//  * remove() unlinks the region after a crash; no error if there is none.
const FanoutOps& shm_fanout();

}  // namespace ipcmark
