// tests/integration/launched.hpp — an `ipcmark` process started in the background with its
// stdout and stderr in files, for tests that need its pid (to find its peers and names, or
// to signal it) while it runs. Never outlives the test: the destructor kills and reaps it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/command.hpp"
#include "tests/mq_listing.hpp"
#include "transports/names.hpp"

extern char** environ;

namespace ipcmark::testing {

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
    std::vector<std::string> argv{IPCMARK_BINARY};
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
    const int rc = ::posix_spawn(&pid_, IPCMARK_BINARY, &actions, nullptr, cargv.data(), cenv.data());
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

// Names whose first characters are `prefix`, wherever a transport may create them (mq names
// only where they can be listed: a test about them starts with IPCMARK_REQUIRE_NAME_LISTING).
inline std::vector<std::string> names_with_prefix(const std::string& prefix) {
  std::vector<std::string> found;
  for (const std::string& dir : {std::string("/dev/shm"), mqueue_dir_or_empty(), private_runtime_dir()})
    if (!dir.empty())
      for (const std::string& name : entries_with_prefix(dir, prefix)) found.push_back(dir + "/" + name);
  return found;
}

}  // namespace ipcmark::testing
