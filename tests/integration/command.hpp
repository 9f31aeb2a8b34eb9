// tests/integration/command.hpp — run the built ipcmark as a real process and capture
// its exit code, stdout and stderr.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ipcmark::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/ipcmark-it-" + std::to_string(::getpid()) + "-" + name;
}

// Runs `ipcmark args...` with a hard limit, so a hang fails the test instead of CI.
inline CommandResult ipcmark(const std::vector<std::string>& args, int limit_s = 120) {
  static int counter = 0;
  const std::string base = temp_path("cmd" + std::to_string(++counter));
  std::string command = "timeout -k 5 ";  // (built in steps: GCC 12 warns falsely on "literal" + string&&)
  command += std::to_string(limit_s);
  command += " ";
  command += quote(IPCMARK_BINARY);
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

inline bool exists(const std::string& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0;
}

inline bool wait_for_path(const std::string& path, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Entries of `dir` whose name starts with `prefix`.
inline std::vector<std::string> entries_with_prefix(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> found;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name).rfind(prefix, 0) == 0) found.push_back(e->d_name);
    ::closedir(d);
  }
  return found;
}

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

inline int count_lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

}  // namespace ipcmark::testing
