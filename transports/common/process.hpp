// transports/common/process.hpp — is the peer process still there?
#pragma once

#include <sys/types.h>

namespace ipcmark {

// True once `pid` has exited: kill(pid, 0) says ESRCH, or it is a zombie nobody has reaped
// yet (which kill() alone would miss). False for pid <= 0 and for ourselves. A few
// syscalls: for slow paths (a waiter checking every few milliseconds) only.
bool process_is_gone(pid_t pid) noexcept;

}  // namespace ipcmark
