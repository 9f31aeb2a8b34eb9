// harness/conform/forked_peer.hpp — a client process for a clause: fork()ed at once, it waits
// for start() before running its body, so it can be forked before the server exists and
// inherits no transport state (ZeroMQ contexts, mappings).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark::conform {

class ForkedPeer {
 public:
  // Exit codes of the child beside the body's own: 90 the parent went away before start(),
  // 91 an exception that is not an Error, 92 an Error (its message: error()).
  explicit ForkedPeer(std::function<int()> body);
  ForkedPeer(ForkedPeer&& other) noexcept;
  ForkedPeer& operator=(ForkedPeer&&) = delete;
  ~ForkedPeer();  // kills and reaps a child still running

  // Lets the body run; false if the child is already gone.
  bool start();
  // Exit code, or -signal; kills the child at the deadline.
  int wait(Deadline deadline = Clock::now() + std::chrono::seconds(30));
  // The Error message the child died with (exit code 92), else "".
  const std::string& error() const { return error_; }
  // "exited with code 10", "killed by signal 9", with the child's Error message if it had one.
  std::string describe(int code) const;

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  int errors_ = -1;  // read end: the child's Error message
  std::string error_;
};

}  // namespace ipcmark::conform
