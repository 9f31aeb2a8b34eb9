// harness/run/floor_choice.hpp — which floor bounds a row: the physical limit its repetitions
// are divided by for `x_floor` (results/README.md, `x_floor_of`).
//
//  * cacheline  busy-poll round trips across two CPUs: nothing that polls shared memory can
//               beat a cache line going there and back;
//  * futex      round trips that sleep (a blocking shm wait) and every kernel transport: each
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
