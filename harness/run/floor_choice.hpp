// harness/run/floor_choice.hpp — which floor bounds a row: the physical limit its repetitions
// are divided by for `x_floor` (results/README.md, `x_floor_of`).
//
//  * cacheline  busy-poll round trips across two CPUs: nothing that polls shared memory can
//               beat a cache line going there and back. shm's `block` too: it polls for about
//               13 µs before it sleeps, so its round trips across CPUs are caught polling (its
//               64 B p50 is spin's); divided by a futex round trip 200 times longer, its x_floor
//               carried the futex floor's own noise (cv 43% over 30 A/A runs against 5% for spin);
//  * futex      round trips that sleep (shm's futex, eventfd, sem and uds waits, iceoryx's
//               block) and every kernel transport: each
//               hand-off wakes a sleeping process, which a futex round trip on the same
//               placement does with nothing else (a cache line would make unix/cross read as
//               298× a limit no kernel transport can approach);
//  * memcpy     streams (stream, fanout): bounded by how fast one CPU copies the bytes;
//  * none       one-shot fetches (open and read: no matching floor).
// Spinning on one CPU is a scheduler hand-off, so a spin round trip there takes the futex floor.
#pragma once

#include <string_view>

#include "harness/run/scenario.hpp"

namespace ipcmark {

enum class FloorKind { None, Cacheline, Futex, Memcpy };
std::string_view to_string(FloorKind kind);

FloorKind x_floor_of(const RunSpec& spec);

}  // namespace ipcmark
