// transports/shm/record_defect.hpp — why a record header read from a ring was refused.
// Both rings (spsc_ring, broadcast_ring) parse records the same way on their hot paths and
// come here, off them, only to say what was wrong.
#pragma once

#include <cstdint>
#include <string>

#include "transports/shm/ring_layout.hpp"

namespace ipcmark::shm {

// The first rule `record`, at `offset` in a data area of `capacity` bytes with `available`
// bytes published from there, breaks (for the caller's Corrupt error).
std::string record_defect(RecordHeader record, std::uint64_t offset, std::uint64_t available, std::uint64_t capacity,
                          std::uint32_t max_message);

}  // namespace ipcmark::shm
