#include "transports/iceoryx/roudi_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "transports/common/process.hpp"

namespace ipcmark::iceoryx {
namespace {

using namespace std::chrono_literals;

constexpr const char* kUniqueLock = "/tmp/iox-unique-roudi.lock";
constexpr const char* kReadyLine = "RouDi is ready for clients";
constexpr auto kShutdownWait = 5s;

std::string roudi_binary() {
  const char* override_path = std::getenv("IPCMARK_IOX_ROUDI");
  return override_path != nullptr && override_path[0] != '\0' ? override_path : "iox-roudi";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last non-empty line, without iceoryx's colour codes.
std::string last_line(const std::string& text) {
  std::string line, last;
  std::istringstream lines(text);
  while (std::getline(lines, line))
    if (!line.empty()) last = line;
  std::string clean;
  for (std::size_t i = 0; i < last.size(); ++i) {
    if (last[i] == '\x1b') {
      while (i < last.size() && last[i] != 'm') ++i;
      continue;
    }
    clean += last[i];
  }
  return clean.empty() ? "(no output)" : clean;
}

void wait_until_gone(pid_t pid, Clock::duration limit) {
  const PeerProcess roudi(pid);
  const auto until = Clock::now() + limit;
  while (!roudi.gone() && Clock::now() < until) std::this_thread::sleep_for(2ms);
}

}  // namespace

bool roudi_is_running() {
  const int fd = ::open(kUniqueLock, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // RouDi creates it: none has run since boot (or it was cleaned)
  const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops our lock at once if we got it, so a RouDi starting now is not refused
  return locked;
}

pid_t find_roudi_pid() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string comm = read_file(entry.path().string() + "/comm");
    const auto pid = static_cast<pid_t>(std::stol(name));
    if (comm == "iox-roudi\n" && !process_is_gone(pid)) return pid;  // a zombie has exited
  }
  return 0;
}

pid_t start_roudi(const std::string& config_path, const std::string& log_path, Deadline deadline) {
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log < 0) throw_system_error("iceoryx: cannot create " + log_path);
  int pid_pipe[2];
  if (::pipe2(pid_pipe, O_CLOEXEC) != 0) {
    ::close(log);
    throw_system_error("iceoryx: pipe");
  }
  const std::string binary = roudi_binary();
  const pid_t middle = ::fork();
  if (middle < 0) throw_system_error("iceoryx: fork");
  if (middle == 0) {
    // Only async-signal-safe calls from here: the parent may have threads.
    ::setsid();
    const pid_t roudi = ::fork();
    if (roudi == 0) {
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::close_range(3, ~0U, 0);  // inherit no descriptor: no lease lock, no pipe, nothing of ours
      ::execlp(binary.c_str(), binary.c_str(), "-c", config_path.c_str(), "-l", "info", static_cast<char*>(nullptr));
      const char* why = "ipcmark: cannot run iox-roudi (install Debian's package iceoryx, or set IPCMARK_IOX_ROUDI)\n";
      (void)!::write(2, why, std::strlen(why));
      ::_exit(127);
    }
    (void)!::write(pid_pipe[1], &roudi, sizeof roudi);
    ::_exit(roudi < 0 ? 1 : 0);
  }
  ::close(log);
  ::close(pid_pipe[1]);
  pid_t roudi = -1;
  const ssize_t got = ::read(pid_pipe[0], &roudi, sizeof roudi);
  ::close(pid_pipe[0]);
  int status = 0;
  while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  if (got != sizeof roudi || roudi <= 0) throw Error(Errc::System, "iceoryx: cannot fork iox-roudi");

  const PeerProcess daemon(roudi);
  for (;;) {
    const std::string output = read_file(log_path);
    if (output.find(kReadyLine) != std::string::npos) return roudi;
    if (daemon.gone())
      throw Error(Errc::System, "iceoryx: " + binary + " exited at start: " + last_line(output));
    if (Clock::now() >= deadline) {
      stop_roudi(roudi);
      throw Error(Errc::System, "iceoryx: " + binary + " was not ready for clients in time: " + last_line(output));
    }
    std::this_thread::sleep_for(2ms);
  }
}

void stop_roudi(pid_t pid) {
  if (pid <= 0) return;
  if (::kill(pid, SIGTERM) == 0) wait_until_gone(pid, kShutdownWait);
  if (!process_is_gone(pid)) {
    ::kill(pid, SIGKILL);
    wait_until_gone(pid, kShutdownWait);
  }
  if (!roudi_is_running()) remove_roudi_leftovers();
}

std::vector<std::string> remove_roudi_leftovers() {
  std::vector<std::string> paths{"/dev/shm/iceoryx_mgmt", "/tmp/roudi", "/tmp/roudi.lock", kUniqueLock};
  if (const group* g = ::getgrgid(::getgid()); g != nullptr)
    paths.push_back(std::string("/dev/shm/") + g->gr_name);  // the payload segment, named after our group
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
    const std::string name = entry.path().filename().string();
    int pid = 0;
    char rest[16] = "";
    // Our runtimes' sockets: ipcmark-iox-<pid> and its .lock, once that process has gone.
    if (std::sscanf(name.c_str(), "ipcmark-iox-%d%15s", &pid, rest) >= 1 && pid > 0 && process_is_gone(pid))
      paths.push_back(entry.path().string());
  }
  std::vector<std::string> removed;
  for (const std::string& path : paths)
    if (std::filesystem::remove(path, ec)) removed.push_back(path);
  return removed;
}

}  // namespace ipcmark::iceoryx
