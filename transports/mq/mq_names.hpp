// transports/mq/mq_names.hpp — where POSIX message queue names can be listed.
//
// Linux shows the queues of this IPC namespace as files of an mqueue filesystem, but only where
// one is mounted (usually /dev/mqueue; a fresh container or chroot often has none). mq_open and
// mq_unlink work without it: only listing names (`ipcmark clean`, the tests' leftover checks)
// needs the mount.
#pragma once

#include <string>

namespace ipcmark {

struct MqueueDir {
  std::string path;     // where the queues are listed; empty when they cannot be
  std::string why_not;  // when `path` is empty: why, and the command that fixes it, one line
};

// $IPCMARK_MQUEUE_DIR when set and not empty (tests point it elsewhere; it must be a directory),
// else the first mqueue filesystem in /proc/self/mounts. Looked up afresh on every call.
MqueueDir find_mqueue_dir();

}  // namespace ipcmark
