#include "transports/shm/wait.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/affinity.hpp"

namespace ipcmark::shm {
namespace {

// A child that only waits to be killed; it inherits our affinity.
struct IdleChild {
  pid_t pid = ::fork();
  IdleChild() {
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  ~IdleChild() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

TEST(ShmWait, BlockingWaitSkipsPollingOnlyWhenBothProcessesShareTheirOneCpu) {
  const std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs";
  pin_to_cpu(cpus[0]);  // each test runs in its own process (ctest): pinning stays here
  IdleChild child;
  ASSERT_GT(child.pid, 0);
  EXPECT_TRUE(shares_only_cpu_with(child.pid));

  cpu_set_t other;
  CPU_ZERO(&other);
  CPU_SET(cpus[1], &other);
  ASSERT_EQ(::sched_setaffinity(child.pid, sizeof other, &other), 0);
  EXPECT_FALSE(shares_only_cpu_with(child.pid));  // one CPU each, but not the same

  CPU_SET(cpus[0], &other);
  ASSERT_EQ(::sched_setaffinity(child.pid, sizeof other, &other), 0);
  EXPECT_FALSE(shares_only_cpu_with(child.pid));  // the peer may run elsewhere

  EXPECT_FALSE(shares_only_cpu_with(0));
  EXPECT_FALSE(shares_only_cpu_with(-1));
}

TEST(ShmWait, PeerDefaultsToPollingBeforeSleeping) { EXPECT_EQ(Peer{}.block_spin_polls, kBlockSpinPolls); }

}  // namespace
}  // namespace ipcmark::shm
