// harness/machine/placement.hpp — where a run's two processes sit. Placement can matter more than
// the transport (a blocking hand-off across two vCPUs wakes a halted vCPU), so it is part
// of every row's name: `cross` (two distinct CPUs), `same` (one CPU), `unpinned`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ipcmark {

enum class Placement { Cross, Same, Unpinned };
std::string_view to_string(Placement placement);

struct CpuPair {
  int server = -1;  // -1: unpinned
  int client = -1;
};

struct PinnedPlacement {
  Placement placement = Placement::Unpinned;
  CpuPair cpus;
};

// One --cpus value: "A,B", "same" (both on the first allowed CPU), "none", or "" (the
// default: two distinct allowed CPUs, or unpinned when there is only one). CPUs outside
// `allowed` are a UsageError.
PinnedPlacement parse_placement(const std::string& text, const std::vector<int>& allowed);

}  // namespace ipcmark
