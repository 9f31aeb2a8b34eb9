// transports/iceoryx/runtime.hpp — this process's one iceoryx runtime and the RouDi behind it.
//
// iceoryx allows one PoshRuntime per process, registered with RouDi for the rest of the process's
// life (its destructor, at exit, unregisters). So the first serve()/connect() of a process takes
// a RouDi lease that lives until exit — constructed before the runtime, so it is destroyed after
// it: the runtime unregisters first, then the last user stops RouDi (which would otherwise send
// its SIGTERM to every process still registered). The runtime is named ipcmark-iox-<pid>.
//
// iceoryx reports its errors through a process-wide handler that logs them and, for fatal ones,
// calls std::terminate. The handler installed here stays silent (transports never print) and
// keeps the last error for our own messages; a fatal error (RouDi answering nonsense, or gone
// while a port is being created) ends the process with one line on stderr and exit code 3
// instead of an abort with a core dump. Its log is turned off for the same reason.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace ipcmark::iceoryx {

// Takes the process's lease (starting RouDi if none runs) and registers the runtime, once.
// System if this process was forked from one that already had a runtime (iceoryx cannot give
// a forked child one of its own); the lease's errors as they are.
void ensure_runtime(std::size_t max_message);

// RouDi's pid as the lease knows it (0: unknown, a foreign RouDi not found in /proc).
pid_t roudi_pid();

// True once the RouDi this process registered with has exited.
bool roudi_gone();

// The name of the last non-fatal error iceoryx reported in this process ("" if none).
std::string last_iceoryx_error();

}  // namespace ipcmark::iceoryx
