#include "harness/conform/bounded_clause.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <set>
#include <string_view>

#include "harness/conform/names_left.hpp"
#include "transports/fanout.hpp"

namespace ipcmark::conform {
namespace {

// The child's report: one verdict character, then the reason.
constexpr std::string_view kCodes = "PFS";  // Verdict::Pass, Fail, Skip, in order

void report_and_exit(int fd, const ClauseResult& r) {
  std::string text(1, kCodes[static_cast<int>(r.verdict)]);
  text += r.reason;
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0 && errno != EINTR) break;
    if (n > 0) p += n, left -= static_cast<std::size_t>(n);
  }
  ::_exit(0);  // no atexit, no destructors of state the child inherited
}

// A clause that crashed or was killed left its channels' names (no destructor ran): remove them as
// `ipcmark clean --channel` would. Its channels are "ipcmark-contract-<pid>-<n>" (unique_channel).
void remove_names_left_by(const Transport& transport, pid_t pid) {
  const std::string prefix = kClauseChannelPrefix + std::to_string(pid) + "-";
  std::set<std::string> channels;
  for (const std::string& path : names_with_prefix(prefix)) {
    const std::string name = path.substr(path.rfind('/') + 1);
    channels.insert(name.substr(0, name.find_first_not_of("0123456789", prefix.size())));
  }
  for (const std::string& channel : channels) {
    try {
      transport.channel.remove(channel);
      remove_fanout(transport, channel);
    } catch (const Error&) {  // a name that is not a channel's: nothing of ours to remove
    }
  }
}

std::string describe(int status) {
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

ClauseResult run_clause_bounded(const Clause& clause, const Transport& transport, WaitKind wait,
                                 std::chrono::seconds limit) {
  // The clause's own peers become ours when the clause's process dies, so that we reap them all
  // below and none outlives us (a reader killed with the group may take a moment to die).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw_system_error("pipe");
  const pid_t pid = ::fork();
  if (pid < 0) throw_system_error("fork");
  if (pid == 0) {
    ::close(out[0]);
    ::setpgid(0, 0);  // its own group: the clause's peers die with it
    report_and_exit(out[1], run_clause(clause, transport, wait));
  }
  ::setpgid(pid, pid);  // also here, so a kill right after fork reaches the group
  ::close(out[1]);

  std::string text;
  bool timed_out = false;
  const Deadline deadline = Clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[1024];
    const ssize_t n = ::read(out[0], chunk, sizeof chunk);
    if (n > 0) text.append(chunk, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR) break;  // EOF: the child is done (or dead)
  }
  ::close(out[0]);
  ::kill(-pid, SIGKILL);  // whatever is left of the group: a hung clause, its forked peers
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (::waitpid(-pid, nullptr, 0) > 0 || errno == EINTR) {  // the rest of the group, until ECHILD
  }
  if (timed_out || text.empty()) remove_names_left_by(transport, pid);
  if (timed_out) return {Verdict::Fail, "timed out after " + std::to_string(limit.count()) + " s (killed)"};
  if (text.empty()) return {Verdict::Fail, "the clause's process died without a result: " + describe(status)};
  const std::size_t code = kCodes.find(text[0]);
  if (code == std::string_view::npos) return {Verdict::Fail, "unreadable result from the clause's process"};
  return {static_cast<Verdict>(code), text.substr(1)};
}

}  // namespace ipcmark::conform
