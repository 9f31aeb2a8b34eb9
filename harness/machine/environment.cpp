#include "harness/machine/environment.hpp"

#include <sys/statvfs.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace ipcmark {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

bool file_contains(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str().find(needle) != std::string::npos;
}

std::string virtualization(const std::string& root) {
  // DMI names the hypervisor on most clouds; the cpuinfo flag says there is one at all.
  const std::string vendor = first_line(root + "sys/class/dmi/id/sys_vendor") + " " +
                             first_line(root + "sys/class/dmi/id/product_name");
  for (const auto& [needle, name] : {std::pair{"QEMU", "kvm"}, {"KVM", "kvm"}, {"Amazon EC2", "kvm"},
                                     {"Google", "kvm"}, {"VMware", "vmware"}, {"Microsoft", "hyperv"},
                                     {"VirtualBox", "virtualbox"}, {"Xen", "xen"}})
    if (vendor.find(needle) != std::string::npos) return name;
  std::ifstream cpuinfo(root + "proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("flags", 0) == 0) return line.find(" hypervisor") != std::string::npos ? "unknown hypervisor" : "none";
  return "none";
}

std::string container(const std::string& root) {
  if (exists(root + ".dockerenv")) return "docker";
  if (exists(root + "run/.containerenv")) return "podman";
  const std::string cgroup = root + "proc/1/cgroup";
  if (file_contains(cgroup, "kubepods")) return "kubernetes";
  if (file_contains(cgroup, "docker")) return "docker";
  if (file_contains(cgroup, "lxc")) return "lxc";
  const std::string environ = root + "proc/1/environ";
  if (file_contains(environ, "container=")) return "container";
  return "none";
}

std::optional<bool> boost(const std::string& root) {
  const std::string cpufreq = first_line(root + "sys/devices/system/cpu/cpufreq/boost");  // acpi-cpufreq, amd
  if (!cpufreq.empty()) return cpufreq == "1";
  const std::string no_turbo = first_line(root + "sys/devices/system/cpu/intel_pstate/no_turbo");
  if (!no_turbo.empty()) return no_turbo == "0";
  return std::nullopt;
}

}  // namespace

int count_cpu_list(const std::string& list) {
  int count = 0;
  std::stringstream ss(list);
  for (std::string range; std::getline(ss, range, ',');) {
    int first = 0, last = 0;
    char dash = 0;
    std::stringstream r(range);
    if (!(r >> first)) return 0;
    if (r >> dash) {
      if (dash != '-' || !(r >> last) || last < first) return 0;
    } else {
      last = first;
    }
    count += last - first + 1;
  }
  return count;
}

std::size_t parse_cache_size(const std::string& text) {
  if (text.empty()) return 0;
  std::size_t n = std::strtoull(text.c_str(), nullptr, 10);
  if (text.back() == 'K') n <<= 10;
  if (text.back() == 'M') n <<= 20;
  return n;
}

Environment read_environment(const std::string& root_dir) {
  const std::string root = root_dir.empty() || root_dir.back() == '/' ? root_dir : root_dir + "/";
  Environment e;
  const std::string cpus = root + "sys/devices/system/cpu/";
  e.online_cpus = count_cpu_list(first_line(cpus + "online"));
  std::set<std::string> groups;
  for (int cpu = 0; cpu < std::max(e.online_cpus, 1) && cpu < 4096; ++cpu) {
    const std::string siblings = first_line(cpus + "cpu" + std::to_string(cpu) + "/topology/thread_siblings_list");
    if (count_cpu_list(siblings) > 1) groups.insert(siblings);
  }
  e.smt_sibling_groups.assign(groups.begin(), groups.end());
  e.governor = first_line(cpus + "cpu0/cpufreq/scaling_governor");
  e.boost = boost(root);
  e.clocksource = first_line(root + "sys/devices/system/clocksource/clocksource0/current_clocksource");
  e.virtualization = virtualization(root);
  e.container = container(root);
  e.isolated_cpus = first_line(cpus + "isolated");
  return e;
}

nlohmann::json to_json(const Environment& e) {
  return {{"online_cpus", e.online_cpus},
          {"smt_sibling_groups", e.smt_sibling_groups},
          {"governor", e.governor.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.governor)},
          {"boost", e.boost ? nlohmann::json(*e.boost) : nlohmann::json(nullptr)},
          {"virtualization", e.virtualization},
          {"container", e.container},
          {"isolated_cpus", e.isolated_cpus}};
}

ShmSpace shm_space(const std::string& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return {};
  return {static_cast<unsigned long long>(s.f_blocks) * s.f_frsize,
          static_cast<unsigned long long>(s.f_bavail) * s.f_frsize};
}

}  // namespace ipcmark
