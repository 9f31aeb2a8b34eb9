#include "transports/iceoryx/roudi_lease.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <thread>

#include "transports/common/process.hpp"
#include "transports/iceoryx/roudi_config.hpp"
#include "transports/iceoryx/roudi_process.hpp"
#include "transports/names.hpp"

namespace ipcmark::iceoryx {
namespace {

using namespace std::chrono_literals;

std::string file(const char* name) { return private_runtime_dir() + "/" + name; }
std::string lock_path() { return file("iceoryx-roudi.lock"); }  // users: shared while they use RouDi
std::string start_lock_path() { return file("iceoryx-roudi.start"); }  // one starter at a time
std::string pid_path() { return file("iceoryx-roudi.pid"); }  // "<pid>\n<mempools>\n": ipcmark started it
std::string config_path() { return file("iceoryx-roudi.toml"); }
std::string log_path() { return file("iceoryx-roudi.log"); }

struct StartedRoudi {
  pid_t pid = 0;
  std::string mempools;
};

// The pid in the pid file, alive or not (0: no file).
pid_t pid_in_file() {
  std::ifstream in(pid_path());
  pid_t pid = 0;
  return in >> pid ? pid : 0;
}

// The RouDi ipcmark started, if the pid file names a live iox-roudi.
StartedRoudi read_pid_file() {
  std::ifstream in(pid_path());
  StartedRoudi r;
  if (!(in >> r.pid) || r.pid <= 0) return {};
  in.ignore();
  std::getline(in, r.mempools);
  std::ifstream comm("/proc/" + std::to_string(r.pid) + "/comm");
  std::string name;
  if (!std::getline(comm, name) || name != "iox-roudi" || process_is_gone(r.pid)) return {};
  return r;
}

void remove_our_files() {
  for (const std::string& path : {pid_path(), config_path(), log_path()}) ::unlink(path.c_str());
}

// Open-file-description locks (F_OFD_SETLK) rather than flock(): like flock they belong to the open
// file, so the kernel drops a crashed holder's, but turning exclusive into shared is atomic, so a
// process that has just started RouDi holds it without a moment in which a last user could stop it.
bool try_lock(int fd, short type) {
  struct flock range {};
  range.l_type = type;
  range.l_whence = SEEK_SET;
  return ::fcntl(fd, F_OFD_SETLK, &range) == 0;
}

// Opens the lock file `path` and takes `type` on it, waiting until `deadline`. Retries when the
// file it locked was unlinked meanwhile by a last user (it would be a lock nobody else sees).
int lock(const std::string& path, short type, Deadline deadline) {
  for (;;) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw_system_error("iceoryx: cannot open " + path);
    while (!try_lock(fd, type)) {
      if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
        ::close(fd);
        throw_system_error("iceoryx: cannot lock " + path);
      }
      if (Clock::now() >= deadline) {
        ::close(fd);
        throw Error(Errc::Timeout, "iceoryx: timed out waiting for the RouDi lease lock " + path);
      }
      std::this_thread::sleep_for(1ms);
    }
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev)
      return fd;
    ::close(fd);
  }
}

// Stops the RouDi we started if the caller holds the lock exclusively; removes our files.
std::vector<std::string> turn_off_the_lights() {
  std::vector<std::string> done;
  if (const StartedRoudi ours = read_pid_file(); ours.pid > 0) {
    stop_roudi(ours.pid);
    done.push_back("stopped iox-roudi pid " + std::to_string(ours.pid) + " (started by ipcmark, no user left)");
  } else if (!roudi_is_running()) {
    for (const std::string& path : remove_roudi_leftovers()) done.push_back("removed " + path);
  }
  remove_our_files();
  ::unlink(start_lock_path().c_str());
  ::unlink(lock_path().c_str());
  return done;
}

}  // namespace

RoudiLease::RoudiLease(int fd, pid_t roudi_pid, std::string description)
    : fd_(fd), owner_(::getpid()), roudi_pid_(roudi_pid), description_(std::move(description)) {}

std::unique_ptr<RoudiLease> RoudiLease::acquire(std::size_t max_message, Deadline deadline) {
  // Every user holds the users' lock shared for as long as it uses RouDi, so a last user (the one
  // that can turn it exclusive) knows it is the last. Starting happens under a second, exclusive
  // lock taken while already a user: a second starter waits there, then finds RouDi running and
  // joins it. (Giving up the shared lock to wait for an exclusive one would wait out every other
  // user, and RouDi with them.)
  int fd = lock(lock_path(), F_RDLCK, deadline);
  if (!roudi_is_running()) {
    int start = -1;
    try {
      start = lock(start_lock_path(), F_WRLCK, deadline);
      if (!roudi_is_running()) {
        // Our pid file names a dead RouDi while others still use it: it died under its users
        // (killed?), who are failing now; say so rather than start another under them.
        if (const pid_t dead = pid_in_file(); dead > 0) {
          if (!try_lock(fd, F_WRLCK))
            throw Error(Errc::PeerGone, "iceoryx: RouDi (pid " + std::to_string(dead) +
                                            "), which ipcmark started, has exited while ipcmark processes still use it");
          if (!try_lock(fd, F_RDLCK)) throw_system_error("iceoryx: cannot lock " + lock_path());
        }
        remove_roudi_leftovers();  // of a RouDi that died without shutting down
        remove_our_files();
        const std::vector<Mempool> pools = plan_mempools(max_message);
        std::ofstream(config_path()) << roudi_toml(pools);
        const pid_t pid = start_roudi(config_path(), log_path(), deadline);
        std::ofstream(pid_path()) << pid << '\n' << describe_mempools(pools) << '\n';
      }
    } catch (...) {
      if (try_lock(fd, F_WRLCK)) {  // no other user: nothing is left running, no file behind
        remove_our_files();
        ::unlink(start_lock_path().c_str());
        ::unlink(lock_path().c_str());
      }
      if (start >= 0) ::close(start);
      ::close(fd);
      throw;
    }
    ::close(start);
  }
  if (const StartedRoudi ours = read_pid_file(); ours.pid > 0)
    return std::unique_ptr<RoudiLease>(new RoudiLease(
        fd, ours.pid, "iox-roudi pid " + std::to_string(ours.pid) + " started by ipcmark (" + ours.mempools + ")"));
  const pid_t pid = find_roudi_pid();
  return std::unique_ptr<RoudiLease>(new RoudiLease(
      fd, pid,
      "iox-roudi " + (pid > 0 ? "pid " + std::to_string(pid) + " " : std::string()) +
          "was already running (not started by ipcmark): used as it is, with its own mempools"));
}

RoudiLease::~RoudiLease() {
  if (::getpid() == owner_ && try_lock(fd_, F_WRLCK)) (void)turn_off_the_lights();
  ::close(fd_);
}

std::vector<std::string> clean_roudi() {
  const int fd = ::open(lock_path().c_str(), O_RDWR | O_CLOEXEC);
  std::vector<std::string> done;
  if (fd < 0) {
    if (!roudi_is_running())
      for (const std::string& path : remove_roudi_leftovers()) done.push_back("removed " + path);
    return done;
  }
  if (try_lock(fd, F_WRLCK))
    done = turn_off_the_lights();
  else
    done.push_back("left iox-roudi running: ipcmark processes still use it");
  ::close(fd);
  return done;
}

}  // namespace ipcmark::iceoryx
