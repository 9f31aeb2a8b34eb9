// harness/run/spawn.hpp — a child process that cannot outlive its owner: spawned in its
// own process group with its stdout on a pipe; destroying a ChildProcess that still runs
// kills the whole group and reaps it.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "transports/transport.hpp"

namespace ipcmark {

struct ExitStatus {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that killed it, or 0
  rusage usage{};      // CPU time and context switches of the child
  bool ok() const { return exit_code == 0; }
  std::string describe() const;  // "exited with code 1", "killed by signal 9 (Killed)"
};

class ChildProcess {
 public:
  // argv[0] is the program path; stdin is /dev/null, stderr is inherited.
  static ChildProcess spawn(const std::vector<std::string>& argv);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return stdout_fd_; }

  // Reads what is available on stdout into the line buffer; false once stdout hit EOF.
  bool pump_stdout();
  // The next complete line of stdout, if one has arrived.
  std::optional<std::string> take_line();
  // Waits for a line until `deadline`; nullopt on EOF or timeout (see `timed_out`).
  std::optional<std::string> read_line(Deadline deadline, bool* timed_out = nullptr);

  // Reaps the child if it has exited; returns its status then.
  std::optional<ExitStatus> try_reap();
  // Waits until it exits or `deadline`; then kills the group and reaps it.
  ExitStatus wait_or_kill(Deadline deadline);
  void kill_group(int signal);
  bool reaped() const { return status_.has_value(); }

 private:
  ChildProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  bool stdout_eof_ = false;
  std::string buffer_;
  std::optional<ExitStatus> status_;
};

// Path of the running executable, so peers run the same build.
std::string self_executable();

}  // namespace ipcmark
