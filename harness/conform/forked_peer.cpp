#include "harness/conform/forked_peer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <utility>

namespace ipcmark::conform {

ForkedPeer::ForkedPeer(std::function<int()> body) {
  int go[2], errors[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(errors, O_CLOEXEC) != 0) std::abort();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::close(go[1]);
    ::close(errors[0]);
    char c;
    if (::read(go[0], &c, 1) != 1) ::_exit(90);
    int code = 91;
    try {
      code = body();
    } catch (const Error& e) {
      const std::string message = std::string(e.what()) + '\n';
      [[maybe_unused]] auto ignored = ::write(errors[1], message.data(), message.size());
      code = 92;
    } catch (const std::exception&) {
    }
    ::_exit(code);  // no destructors, no atexit: the parent's state is not the child's to tear down
  }
  ::close(go[0]);
  ::close(errors[1]);
  go_ = go[1];
  errors_ = errors[0];
}

ForkedPeer::ForkedPeer(ForkedPeer&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      go_(std::exchange(other.go_, -1)),
      errors_(std::exchange(other.errors_, -1)),
      error_(std::move(other.error_)) {}

bool ForkedPeer::start() {
  const char c = 'g';
  const bool ok = ::write(go_, &c, 1) == 1;
  ::close(go_);
  go_ = -1;
  return ok;
}

int ForkedPeer::wait(Deadline deadline) {
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    ::usleep(1000);
  }
  pid_ = -1;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(errors_, buffer, sizeof buffer)) > 0) error_.append(buffer, static_cast<std::size_t>(n));
  while (!error_.empty() && error_.back() == '\n') error_.pop_back();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::string ForkedPeer::describe(int code) const {
  std::string text = code < 0 ? "killed by signal " + std::to_string(-code) + " (" + strsignal(-code) + ")"
                              : "exited with code " + std::to_string(code);
  if (!error_.empty()) text += " (" + error_ + ")";
  return text;
}

ForkedPeer::~ForkedPeer() {
  if (go_ >= 0) ::close(go_);
  if (errors_ >= 0) ::close(errors_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

}  // namespace ipcmark::conform
