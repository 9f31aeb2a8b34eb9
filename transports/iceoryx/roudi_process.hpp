// transports/iceoryx/roudi_process.hpp — the iox-roudi daemon as a process: is one running,
// start one, stop one, and the files a RouDi leaves when it dies without shutting down.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "transports/transport.hpp"

namespace ipcmark::iceoryx {

// Whether a RouDi runs on this machine: RouDi holds a flock on /tmp/iox-unique-roudi.lock for
// its whole life (iceoryx 2.0 allows one per machine).
bool roudi_is_running();

// The pid of a running iox-roudi found in /proc (a RouDi someone else started; zombies are not
// running), or 0.
pid_t find_roudi_pid();

// Starts iox-roudi (IPCMARK_IOX_ROUDI, else found on PATH) with `config_path`, in a session of
// its own and not our child (a double fork), so killing a run's process group or the starting
// process exiting leaves it alone. Its output goes to `log_path`. Returns once it says it is
// ready for clients; System with its last output line if it exits or is not ready by `deadline`.
pid_t start_roudi(const std::string& config_path, const std::string& log_path, Deadline deadline);

// SIGTERM, then waits up to 5 s for it to shut down (RouDi removes its own shared memory and
// sockets); SIGKILL if it does not. Then removes whatever it left (remove_roudi_leftovers).
void stop_roudi(pid_t pid);

// The files a RouDi that died without shutting down leaves: its shared memory (iceoryx_mgmt and
// the user's segment in /dev/shm) and sockets and locks in /tmp (roudi, its lock, and one socket
// and lock per ipcmark runtime). Only call when no RouDi runs. Returns the paths removed.
std::vector<std::string> remove_roudi_leftovers();

}  // namespace ipcmark::iceoryx
