#include "harness/run/broker_leases.hpp"

#include <algorithm>
#include <map>

namespace ipcmark {

BrokerLeases take_broker_leases(std::span<const RunSpec> specs) {
  std::map<const Transport*, std::size_t> largest;
  for (const RunSpec& spec : specs)
    if (spec.transport->broker != nullptr)
      largest[spec.transport] = std::max(largest[spec.transport], spec.message_size);
  BrokerLeases held;
  held.context = nlohmann::json::object();
  for (const auto& [transport, max_message] : largest) {
    held.leases.push_back(transport->broker->lease(max_message));
    held.context[std::string(transport->name)] = held.leases.back()->describe();
  }
  return held;
}

}  // namespace ipcmark
