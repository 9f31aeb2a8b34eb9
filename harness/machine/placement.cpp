#include "harness/machine/placement.hpp"

#include <algorithm>
#include <stdexcept>

#include "harness/usage_error.hpp"

namespace ipcmark {

std::string_view to_string(Placement placement) {
  switch (placement) {
    case Placement::Cross: return "cross";
    case Placement::Same: return "same";
    case Placement::Unpinned: return "unpinned";
  }
  return "unpinned";
}

PinnedPlacement parse_placement(const std::string& text, const std::vector<int>& allowed) {
  if (text == "none" || text == "unpinned") return {};
  if (text.empty() || text == "cross") {
    // Unpinned, two busy-polling peers can share one CPU until the scheduler moves one:
    // milliseconds of noise. Two distinct CPUs is the placement every figure assumes.
    if (allowed.size() >= 2) return {Placement::Cross, {allowed[0], allowed[1]}};
    if (text == "cross") throw UsageError("--cpus cross needs two CPUs; this process may use " +
                                          std::to_string(allowed.size()));
    return {};
  }
  if (text == "same") {
    if (allowed.empty()) return {};
    return {Placement::Same, {allowed[0], allowed[0]}};
  }
  CpuPair cpus;
  const auto comma = text.find(',');
  try {
    if (comma == std::string::npos) throw std::invalid_argument(text);
    std::size_t used = 0;
    cpus.server = std::stoi(text.substr(0, comma), &used);
    if (used != comma) throw std::invalid_argument(text);
    cpus.client = std::stoi(text.substr(comma + 1), &used);
    if (used != text.size() - comma - 1) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    throw UsageError("--cpus '" + text + "': expected SERVER_CPU,CLIENT_CPU (e.g. 0,1), cross, same, or none");
  }
  for (int cpu : {cpus.server, cpus.client})
    if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end())
      throw UsageError("--cpus '" + text + "': CPU " + std::to_string(cpu) + " is not available to this process");
  return {cpus.server == cpus.client ? Placement::Same : Placement::Cross, cpus};
}

}  // namespace ipcmark
