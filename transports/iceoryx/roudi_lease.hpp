// transports/iceoryx/roudi_lease.hpp — sharing one RouDi between ipcmark processes.
//
// iceoryx 2.0 allows one RouDi per machine, and several ipcmark processes may want it at once
// (a run's peers, tests side by side). The lease is "last one out turns off the lights", on a
// lock file in ipcmark's private directory (open-file-description locks, roudi_lease.cpp):
//  * every user holds a shared lock on it for as long as it uses RouDi;
//  * starting RouDi happens under the exclusive lock, so only one process starts it, which then
//    turns its lock into a shared one (atomically); a RouDi that ipcmark started is named by a
//    pid file beside the lock;
//  * on release, a process that can take the lock exclusively without waiting is the last user:
//    if ipcmark started that RouDi, it stops it and removes the files.
// A RouDi someone else started (no pid file of ours) is used as it is and never stopped. The
// kernel drops a crashed holder's lock, so a crash never pins RouDi; the next release (or
// `ipcmark clean`) stops it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "transports/transport.hpp"

namespace ipcmark::iceoryx {

class RoudiLease final : public BrokerLease {
 public:
  // Joins the running RouDi or starts one whose pools carry messages up to `max_message`.
  static std::unique_ptr<RoudiLease> acquire(std::size_t max_message, Deadline deadline);
  ~RoudiLease() override;
  RoudiLease(const RoudiLease&) = delete;
  RoudiLease& operator=(const RoudiLease&) = delete;

  std::string describe() const override { return description_; }
  // RouDi's pid (0 when a foreign RouDi's pid could not be found).
  pid_t roudi_pid() const { return roudi_pid_; }

 private:
  RoudiLease(int fd, pid_t roudi_pid, std::string description);

  int fd_;
  pid_t owner_;  // a forked child inherits the descriptor but must not unlock its parent's lease
  pid_t roudi_pid_;
  std::string description_;
};

// `ipcmark clean`: stops a RouDi ipcmark started that nobody holds, removes what a dead one
// left. One line per thing done.
std::vector<std::string> clean_roudi();

}  // namespace ipcmark::iceoryx
