// harness/machine/affinity.hpp — which CPUs this process may use, and pinning to one of them.
#pragma once

#include <vector>

namespace ipcmark {

std::vector<int> allowed_cpus();  // from sched_getaffinity, ascending
void pin_to_cpu(int cpu);         // throws Error(System) naming the CPU

}  // namespace ipcmark
