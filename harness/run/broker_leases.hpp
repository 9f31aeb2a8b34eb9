// harness/run/broker_leases.hpp — the daemons a run's transports need (Transport::broker, e.g.
// iceoryx's RouDi), held from before the first repetition to after the last, so a daemon is
// started once per run (not once per peer) and sized for the largest message its transport's
// runs send. The peers still take their own leases; holding this one keeps the daemon up
// between them.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/run/scenario.hpp"

namespace ipcmark {

struct BrokerLeases {
  std::vector<std::unique_ptr<BrokerLease>> leases;
  // {"<transport>": "<the lease's describe()>"}: for the results' context ("brokers").
  nlohmann::json context;
};

// One lease per transport of `specs` that has a broker; the transport's errors (its daemon
// would not start) as they are.
BrokerLeases take_broker_leases(std::span<const RunSpec> specs);

}  // namespace ipcmark
