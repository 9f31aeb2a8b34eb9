#include "harness/run/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>
#include <utility>

extern char** environ;

namespace ipcmark {

std::string ExitStatus::describe() const {
  if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exited with code " + std::to_string(exit_code);
}

ChildProcess ChildProcess::spawn(const std::vector<std::string>& argv) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw_system_error("pipe");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group: Ctrl-C reaches only ipcmark, which then stops its children in
  // order, and kill_group() reaches anything the child started.
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    errno = rc;
    throw_system_error("cannot start " + argv[0]);
  }
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  return ChildProcess(pid, out[0]);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      stdout_eof_(other.stdout_eof_),
      buffer_(std::move(other.buffer_)),
      status_(std::move(other.status_)) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    kill_group(SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

void ChildProcess::kill_group(int signal) {
  if (pid_ > 0 && !status_) ::kill(-pid_, signal);
}

bool ChildProcess::pump_stdout() {
  char chunk[4096];
  while (!stdout_eof_) {
    const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      stdout_eof_ = true;
    } else if (errno == EINTR) {
      continue;
    } else {
      break;  // EAGAIN: nothing more for now
    }
  }
  return !stdout_eof_;
}

std::optional<std::string> ChildProcess::take_line() {
  const auto end = buffer_.find('\n');
  if (end == std::string::npos) {
    // A child that exited without a final newline still said something.
    if (stdout_eof_ && !buffer_.empty()) return std::exchange(buffer_, {});
    return std::nullopt;
  }
  std::string line = buffer_.substr(0, end);
  buffer_.erase(0, end + 1);
  return line;
}

std::optional<std::string> ChildProcess::read_line(Deadline deadline, bool* timed_out) {
  if (timed_out) *timed_out = false;
  for (;;) {
    if (auto line = take_line()) return line;
    if (!pump_stdout()) {
      if (auto line = take_line()) return line;
      return std::nullopt;
    }
    if (auto line = take_line()) return line;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      if (timed_out) *timed_out = true;
      return std::nullopt;
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX))) < 0 && errno != EINTR)
      throw_system_error("poll");
  }
}

std::optional<ExitStatus> ChildProcess::try_reap() {
  if (status_) return status_;
  int status = 0;
  rusage usage{};
  const pid_t r = ::wait4(pid_, &status, WNOHANG, &usage);
  if (r != pid_) return std::nullopt;
  ExitStatus s;
  s.usage = usage;
  if (WIFEXITED(status)) s.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  status_ = s;
  return status_;
}

ExitStatus ChildProcess::wait_or_kill(Deadline deadline) {
  for (;;) {
    if (auto s = try_reap()) return *s;
    if (Clock::now() >= deadline) {
      kill_group(SIGKILL);
      deadline = Clock::time_point::max();  // reap after the kill, however long it takes
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::string self_executable() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) throw_system_error("readlink /proc/self/exe");
  return std::string(path, static_cast<std::size_t>(n));
}

}  // namespace ipcmark
