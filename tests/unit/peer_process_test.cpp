// PeerProcess (transports/common/process.hpp): liveness held by a pidfd, so that a pid the kernel
// has given to another process does not bring a dead peer back to life.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "tests/support/pid_namespace.hpp"
#include "transports/common/process.hpp"

namespace ipcmark {
namespace {

// A child that lives until told to exit (or until this process dies).
class Child {
 public:
  Child() {
    if (::pipe(exit_) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::close(exit_[1]);
      char c;
      [[maybe_unused]] const ssize_t n = ::read(exit_[0], &c, 1);  // returns when the write end closes
      ::_exit(0);
    }
    ::close(exit_[0]);
  }
  ~Child() {
    tell_to_exit();
    reap();
  }
  pid_t pid() const { return pid_; }
  void tell_to_exit() {
    if (exit_[1] >= 0) ::close(std::exchange(exit_[1], -1));
  }
  // Waits until it has exited without reaping it: a zombie from then on.
  void wait_until_zombie() const {
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
  }
  void reap() {
    if (pid_ > 0) ::waitpid(std::exchange(pid_, -1), nullptr, 0);
  }

 private:
  pid_t pid_ = -1;
  int exit_[2] = {-1, -1};
};

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(PeerProcess, GoneWithinSeesAnExitThatHappensDuringTheWait) {
  Child child;
  const PeerProcess peer(child.pid());
  EXPECT_FALSE(peer.gone_within(std::chrono::milliseconds(20)));  // alive the whole time
  std::thread exiting([&] { child.tell_to_exit(); });  // exits while we wait
  EXPECT_TRUE(peer.gone_within(std::chrono::seconds(30)));
  exiting.join();
  EXPECT_FALSE(PeerProcess().gone_within(std::chrono::milliseconds(5)));  // no peer: never gone
}

TEST(PeerProcess, NoPeerAndOurselvesAreNeverGone) {
  EXPECT_FALSE(PeerProcess().gone());
  EXPECT_FALSE(PeerProcess(0).gone());
  EXPECT_FALSE(PeerProcess(-5).gone());
  EXPECT_FALSE(PeerProcess(::getpid()).gone());
}

TEST(PeerProcess, ALiveChildIsThereThenGoneAsAZombieAndOnceReaped) {
  Child child;
  const PeerProcess peer(child.pid());
  EXPECT_TRUE(peer.has_pidfd()) << "this kernel has pidfd_open (5.3+)";
  EXPECT_EQ(peer.pid(), child.pid());
  EXPECT_FALSE(peer.gone()) << "alive";
  child.tell_to_exit();
  child.wait_until_zombie();
  EXPECT_TRUE(peer.gone()) << "a zombie has exited";
  EXPECT_TRUE(PeerProcess(child.pid()).gone()) << "opened while a zombie";
  const pid_t pid = child.pid();
  child.reap();
  EXPECT_TRUE(peer.gone()) << "reaped";
  EXPECT_TRUE(PeerProcess(pid).gone()) << "opened after the reaping: ESRCH";
}

TEST(PeerProcess, MovingHandsOverTheProcessAndNoDescriptorIsLeaked) {
  Child child;
  const std::size_t before = open_descriptors();
  {
    PeerProcess first(child.pid());
    EXPECT_EQ(open_descriptors(), before + 1);
    PeerProcess second = std::move(first);
    EXPECT_EQ(second.pid(), child.pid());
    EXPECT_EQ(first.pid(), 0);  // NOLINT(bugprone-use-after-move): moved-from is "no peer"
    EXPECT_FALSE(first.gone());
    PeerProcess third(child.pid());
    third = std::move(second);  // closes third's own descriptor
    EXPECT_EQ(open_descriptors(), before + 1);
    EXPECT_FALSE(third.gone());
  }
  EXPECT_EQ(open_descriptors(), before);
}

// The honest test: in a pid namespace of our own, a child exits and is reaped, and the next fork
// is made to get its pid. The PeerProcess opened for the first must still say "gone"; the pid-based
// check, asked about the number, sees the new process.
std::string pid_reuse_report() {
  Child first;
  const pid_t pid = first.pid();
  const PeerProcess peer(pid);
  std::string report = std::string("alive:") + (peer.gone() ? "gone" : "there");
  first.tell_to_exit();
  first.reap();
  report += std::string(" exited:") + (peer.gone() ? "gone" : "there");
  if (!testing::next_pid_will_be(pid)) return report + " setup: cannot write ns_last_pid";
  Child second;
  if (second.pid() != pid) return report + " setup: pid not reused (" + std::to_string(second.pid()) + ")";
  report += std::string(" reused:") + (peer.gone() ? "gone" : "there");
  report += std::string(" by-pid:") + (process_is_gone(pid) ? "gone" : "there");
  report += std::string(" new-handle:") + (PeerProcess(pid).gone() ? "gone" : "there");
  return report;
}

TEST(PeerProcess, AHandleOpenedForAPidStaysGoneAfterThePidIsReused) {
  std::string why;
  const auto report = testing::in_new_pid_namespace(pid_reuse_report, why);
  if (!report) GTEST_SKIP() << why;
  EXPECT_EQ(*report, "alive:there exited:gone reused:gone by-pid:there new-handle:there");
}

}  // namespace
}  // namespace ipcmark
