// tests/conformance/contract_support.hpp — what the contract suites share: unique channel
// names, the places a transport may leave names, and a forked client process.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tests/mq_listing.hpp"
#include "transports/names.hpp"
#include "transports/transport.hpp"

namespace ipcmark {

using namespace std::chrono_literals;

inline std::string unique_channel() {
  static std::atomic<int> counter{0};
  return "ipcmark-contract-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

inline std::vector<std::string> names_starting_with(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> found;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name).rfind(prefix, 0) == 0) found.push_back(dir + "/" + e->d_name);
    ::closedir(d);
  }
  return found;
}

// Every place a transport may leave a name: shm objects, mq queues (where they can be listed: a
// test about them starts with IPCMARK_REQUIRE_NAME_LISTING), FIFOs/sockets/port files.
inline std::vector<std::string> leftovers(const std::string& channel) {
  std::vector<std::string> all;
  for (const std::string& dir : {std::string("/dev/shm"), testing::mqueue_dir_or_empty(), private_runtime_dir()})
    if (!dir.empty())
      for (std::string& n : names_starting_with(dir, channel)) all.push_back(std::move(n));
  return all;
}

inline std::byte pattern_byte(std::size_t message, std::size_t i) { return std::byte((message * 131 + i * 7 + 1) & 0xff); }

// A child process running `body` as the client once the parent says "go".
class ClientProcess {
 public:
  explicit ClientProcess(std::function<int()> body) {
    int go[2];
    if (::pipe(go) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(go[1]);
      char c;
      if (::read(go[0], &c, 1) != 1) ::_exit(90);
      int code = 91;
      try {
        code = body();
      } catch (const Error& e) {
        std::fprintf(stderr, "client: %s\n", e.what());
        code = 92;
      }
      ::_exit(code);
    }
    ::close(go[0]);
    go_ = go[1];
  }
  ClientProcess(ClientProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), go_(std::exchange(other.go_, -1)) {}
  ClientProcess& operator=(ClientProcess&&) = delete;
  void start() {
    const char c = 'g';
    ASSERT_EQ(::write(go_, &c, 1), 1);
    ::close(go_);
    go_ = -1;
  }
  // Exit code, or -signal; kills the child at the deadline.
  int wait(Deadline deadline = Clock::now() + 30s) {
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
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  ~ClientProcess() {
    if (go_ >= 0) ::close(go_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
};

// gtest parameter names: the transport's name with '-' as '_'.
inline std::string transport_test_name(const ::testing::TestParamInfo<const Transport*>& info) {
  std::string name(info.param->name);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

}  // namespace ipcmark
