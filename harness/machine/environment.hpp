// harness/machine/environment.hpp — what about the machine changes the numbers, read from procfs
// and sysfs under a root directory (tests point it at fixture trees): SMT siblings,
// frequency governor and boost, virtualization and containers, isolated CPUs. Results
// carry it in `context` so a figure always says where it was measured.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ipcmark {

struct Environment {
  int online_cpus = 0;
  std::vector<std::string> smt_sibling_groups;  // e.g. {"0,4", "1,5"}; empty without SMT
  std::string governor;                         // "" when there is no cpufreq (most VMs)
  std::optional<bool> boost;                    // turbo/boost on, when readable
  std::string clocksource;
  std::string virtualization;  // "none", "kvm", "vmware", ... or "unknown hypervisor"
  std::string container;       // "none", "docker", "podman", "lxc", "kubernetes", "container"
  std::string isolated_cpus;   // isolcpus= as the kernel reports it; "" for none
};

Environment read_environment(const std::string& root = "/");
nlohmann::json to_json(const Environment& environment);

// Size and free space of the filesystem holding shared-memory objects (/dev/shm).
struct ShmSpace {
  unsigned long long total_bytes = 0, free_bytes = 0;
};
ShmSpace shm_space(const std::string& path = "/dev/shm");

// Counts "0-3,8,10-11" as 7 CPUs; 0 for an empty or malformed list.
int count_cpu_list(const std::string& list);

// A sysfs cache size ("48K", "2048K", "32M") in bytes; 0 for an empty text.
std::size_t parse_cache_size(const std::string& text);

}  // namespace ipcmark
