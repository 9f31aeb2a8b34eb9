// tests/support/postgres_cluster.hpp — a private PostgreSQL server for the history tests: a
// temporary cluster (initdb) in a temporary directory, listening only on a Unix socket in that
// directory (no TCP port, so it meets no other server), started once for the test binary and
// stopped in TearDown, which then fails the binary if any process of it is left. A watchdog
// process stops it too if the test binary dies first (a crash, a kill by ctest's timeout): it
// waits on a pipe only the test binary holds, and EOF without the word "done" means it died.
//
// initdb refuses to run as root, so as root every server command runs as the `postgres` user
// (runuser; Debian's postgresql package creates it). No PostgreSQL binaries is a failure that
// says what to install, not a skip: CI installs them through scripts/setup.
#pragma once

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"

namespace ipcmark::testing {

class PostgresCluster : public ::testing::Environment {
 public:
  static PostgresCluster*& instance() {
    static PostgresCluster* cluster = nullptr;
    return cluster;
  }

  // Set when SetUp failed; every test then fails with it.
  const std::string& failure() const { return failure_; }
  // A libpq URI of database `database` on this server.
  std::string uri(const std::string& database) const {
    return "postgresql://" + user_ + "@/" + database + "?host=" + dir_;
  }

  void SetUp() override {
    instance() = this;
    bin_ = server_binaries();
    if (bin_.empty()) {
      failure_ = "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): install Debian's postgresql "
                 "(scripts/setup does)";
      return;
    }
    char dir[] = "/tmp/ipcmark-pg-XXXXXX";
    if (::mkdtemp(dir) == nullptr) {
      failure_ = "mkdtemp failed";
      return;
    }
    dir_ = dir;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr || ::chown(dir, pw->pw_uid, pw->pw_gid) != 0) {
        failure_ = "running as root, the server needs the user 'postgres' (Debian's postgresql package creates it)";
        return;
      }
      as_user_ = "runuser -u postgres -- ";
      user_ = "postgres";
    } else {
      user_ = ::getpwuid(::geteuid())->pw_name;
    }
    if (!run(bin_ + "/initdb -D " + dir_ + "/data -A trust -U " + user_ + " --no-sync", "initdb")) return;
    // fsync off (-F): a test server's data need not survive a power cut.
    if (!run(bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 60 -o \"-k " + dir_ +
                 " -c listen_addresses='' -F\" start",
             "pg_ctl start"))
      return;
    postmaster_ = std::atoi(slurp(dir_ + "/data/postmaster.pid").c_str());
    start_watchdog();
  }

  void TearDown() override {
    if (dir_.empty()) return;
    stop_watchdog();
    if (postmaster_ > 0) run(bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w -t 60 stop", "pg_ctl stop");
    // Nothing of this server may outlive the tests: its postmaster, or anything started on its directory.
    if (postmaster_ > 0 && running(postmaster_))
      ADD_FAILURE() << "the PostgreSQL server (pid " << postmaster_ << ") is still running after pg_ctl stop";
    const std::vector<int> left = processes_with({dir_});
    if (!left.empty()) ADD_FAILURE() << left.size() << " processes of the test's PostgreSQL server are left";
    std::filesystem::remove_all(dir_);
  }

 private:
  static std::string server_binaries() {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec))
      if (std::filesystem::exists(e.path() / "bin/initdb")) found.push_back((e.path() / "bin").string());
    std::sort(found.begin(), found.end());
    return found.empty() ? "" : found.back();
  }

  // The postmaster is not our child (pg_ctl detaches it), so once it exits it stays a zombie
  // until init reaps it: a zombie has stopped.
  static bool running(int pid) {
    const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    const auto state = stat.rfind(") ");
    return !stat.empty() && state != std::string::npos && stat[state + 2] != 'Z';
  }

  // Forked now, before any test opens a connection (no library threads yet); in its own session,
  // so a signal to the test's process group does not take it along.
  void start_watchdog() {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;  // no child the tests start holds the write end
    const std::string stop = as_user_ + bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w -t 60 stop >/dev/null 2>&1";
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipe_fds[1]);
      ::setsid();
      std::string said;
      char buffer[16];
      for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) said.append(buffer, std::size_t(n));
      if (said != "done") {  // the test binary died with the server running
        [[maybe_unused]] const int status = std::system(stop.c_str());
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
      }
      ::_exit(0);
    }
    ::close(pipe_fds[0]);
    if (pid < 0) {
      ::close(pipe_fds[1]);
      return;
    }
    watchdog_ = pid;
    watchdog_pipe_ = pipe_fds[1];
  }

  void stop_watchdog() {
    if (watchdog_ <= 0) return;
    [[maybe_unused]] const ssize_t n = ::write(watchdog_pipe_, "done", 4);
    ::close(watchdog_pipe_);
    ::waitpid(watchdog_, nullptr, 0);
    watchdog_ = 0;
  }

  bool run(const std::string& command, const std::string& what) {
    const std::string log = dir_ + "/" + std::to_string(++commands_) + ".log";
    const int status = std::system((as_user_ + command + " >" + log + " 2>&1").c_str());
    if (status == 0) return true;
    failure_ = what + " failed: " + slurp(log) + slurp(dir_ + "/server.log");
    ADD_FAILURE() << failure_;
    return false;
  }

  std::string bin_, dir_, as_user_, user_, failure_;
  int postmaster_ = 0, commands_ = 0;
  pid_t watchdog_ = 0;
  int watchdog_pipe_ = -1;
};

}  // namespace ipcmark::testing
