// transports/bip_mq/queue_check.hpp — is this a message_queue object Boost can safely open?
//
// Boost's open_only spins forever on an object of size 0 or one whose creator died while
// creating it, and then follows every offset in the header without a check. So before Boost
// opens an object, the caller maps it (owner and mode checked: transports/shm/region.hpp) and
// passes its bytes here. Anything wrong is Errc::Corrupt, one line naming the object and the fix.
// A snapshot: what the peer changes later, under Boost's lock, is not re-checked (see bip_mq.cpp).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace ipcmark::bip_mq {

// Bounds on what a queue may declare before its sizes are even multiplied.
inline constexpr std::size_t kMaxMessage = 4 << 20;
inline constexpr std::size_t kMaxDepth = 1024;

struct QueueShape {
  std::size_t max_message;  // bytes per message
  std::size_t depth;        // messages the queue holds
};

// Checks the init state, the declared sizes against the object's size, the count and first
// index, that the index is a permutation of the slots and that each slot's length fits.
QueueShape check_queue(std::span<const std::byte> object, const std::string& name);

}  // namespace ipcmark::bip_mq
