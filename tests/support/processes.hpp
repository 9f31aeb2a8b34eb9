// tests/support/processes.hpp — child processes (the built ipcmark, forked clients) and the names runs leave behind.
//
// ipcmark(...) and Launched run the built binary (IPCMARK_BINARY, defined for integration_tests);
// ClientProcess forks a client; names_with_prefix/leftovers list what a transport may have left in
// /dev/shm, the mqueue mount and the private runtime dir; IPCMARK_REQUIRE_NAME_LISTING guards a test
// about mq names on a machine that cannot list them.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "harness/conform/forked_peer.hpp"
#include "harness/conform/names_left.hpp"
#include "tests/support/files.hpp"
#include "transports/mq/mq_names.hpp"
#include "transports/names.hpp"
#include "transports/transport.hpp"

extern char** environ;

namespace ipcmark::testing {

// ---- running the built ipcmark ------------------------------------------------------------------

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The built ipcmark: integration_tests defines IPCMARK_BINARY; elsewhere a test that runs it fails.
inline const char* built_binary() {
#ifdef IPCMARK_BINARY
  return IPCMARK_BINARY;
#else
  ADD_FAILURE() << "this test executable is not given IPCMARK_BINARY";
  return "/bin/false";
#endif
}

// Runs `ipcmark args...` with a hard limit, so a hang fails the test instead of CI.
inline CommandResult ipcmark(const std::vector<std::string>& args, int limit_s = 120) {
  static int counter = 0;
  const std::string base = temp_path("cmd" + std::to_string(++counter));
  std::string command = "timeout -k 5 ";  // (built in steps: GCC 12 warns falsely on "literal" + string&&)
  command += std::to_string(limit_s);
  command += " ";
  command += quote(built_binary());
  for (const std::string& a : args) command += " " + quote(a);
  command += " >" + base + ".out 2>" + base + ".err";
  const int status = std::system(command.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return r;
}



// ---- processes and names a run may leave behind --------------------------------------------------

// Processes whose command line contains every one of `needles`.
inline std::vector<int> processes_with(const std::vector<std::string>& needles) {
  std::vector<int> pids;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      const int pid = std::atoi(e->d_name);
      if (pid <= 0 || pid == ::getpid()) continue;
      std::string cmdline = slurp("/proc/" + std::string(e->d_name) + "/cmdline");
      for (char& c : cmdline)
        if (c == '\0') c = ' ';
      bool all = !cmdline.empty();
      for (const std::string& n : needles) all = all && cmdline.find(n) != std::string::npos;
      if (all) pids.push_back(pid);
    }
    ::closedir(d);
  }
  return pids;
}

// What a transport may leave behind: the conformance clauses' own lists (harness/conform).
using conform::can_mount;
using conform::leftovers;
using conform::mqueue_dir_or_empty;
using conform::names_with_prefix;

// ---- the built ipcmark in the background ---------------------------------------------------------

struct Outcome {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool hung = false;  // the test had to kill it
  std::string out, err;
};

// `ipcmark args...` started in the background, stdout and stderr to files; killed and reaped
// by the destructor if the test is done with it early.
class Launched {
 public:
  explicit Launched(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
    static int counter = 0;
    base_ = temp_path("launched" + std::to_string(++counter));
    std::vector<std::string> argv{built_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    std::vector<std::string> env(extra_env);
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);  // the first of a name wins
    std::vector<char*> cenv;
    for (std::string& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, (base_ + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, (base_ + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int rc = ::posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
  }
  Launched(const Launched&) = delete;
  Launched& operator=(const Launched&) = delete;
  ~Launched() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::remove((base_ + ".out").c_str());
    std::remove((base_ + ".err").c_str());
  }

  pid_t pid() const { return pid_; }
  std::string out() const { return slurp(base_ + ".out"); }

  // Waits until it exits; after `limit` kills it (and says so: `hung`).
  Outcome finish(std::chrono::milliseconds limit) {
    Outcome o;
    int status = 0;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= end) {
        o.hung = true;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    reaped_ = true;
    if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
    o.out = out();
    o.err = slurp(base_ + ".err");
    return o;
  }

 private:
  std::string base_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};


// ---- a forked client ------------------------------------------------------------------------------

// A child process running `body` as the client once the parent says "go" (start()).
using ClientProcess = conform::ForkedPeer;

}  // namespace ipcmark::testing

// For a test about the names of `transport` (a name; only "mq" needs a mount): without an mqueue
// mount it could only fail for no visible reason or pass without looking. Where this process
// could mount one (root, CAP_SYS_ADMIN), mounting is scripts/setup's job, so the test fails in
// one line; elsewhere the machine cannot list them and the test is skipped, saying why.
#define IPCMARK_REQUIRE_NAME_LISTING(transport)                                          \
  switch (0)                                                                             \
  case 0:                                                                                \
  default: /* one statement, safe after a braceless if, as gtest's own macros */         \
    if (const auto unlistable_ = ::ipcmark::conform::names_unlistable(transport); !unlistable_) { \
    } else if (unlistable_->fail)                                                        \
      FAIL() << unlistable_->why;                                                        \
    else                                                                                 \
      GTEST_SKIP() << unlistable_->why
