#include "transports/shm/wait.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "harness/machine/affinity.hpp"

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

// A BlockWait on one word, and a publisher thread that sets it after `delay`, waking the waiter
// the way a ring's writer does (wake_if_sleeping) or not at all (a writer that was told its
// reader never sleeps). Returns the waiter's plan as the wait left it.
struct AnticipatedWait {
  std::uint32_t data = 0, futex_word = 0, sleeping = 0;

  Anticipation run(Clock::time_point wake_at, std::chrono::milliseconds delay, bool publisher_wakes,
                   unsigned block_spin_polls = kBlockSpinPolls) {
    Anticipation plan{wake_at};
    Peer peer;
    peer.anticipation = &plan;
    peer.block_spin_polls = block_spin_polls;
    const SleepSlot slot{&futex_word, &sleeping};
    std::thread publisher([&] {
      std::this_thread::sleep_for(delay);
      std::atomic_ref(data).store(1, std::memory_order_release);
      if (publisher_wakes) wake_if_sleeping(slot);
    });
    BlockWait::until([&] { return std::atomic_ref(data).load(std::memory_order_acquire) != 0; },
                     WaitSpec{Clock::now() + std::chrono::seconds(10), peer, "data"}, slot);
    EXPECT_EQ(std::atomic_ref(data).load(), 1u) << "returned without the data";
    publisher.join();
    EXPECT_EQ(sleeping, 0u) << "the sleeping flag stayed set";
    return plan;
  }
};

using Outcome = Anticipation::Outcome;

TEST(ShmWait, WithoutAPlanASleepingWaitStillSaysWhenTheDataCame) {
  AnticipatedWait w;
  const Clock::time_point before = Clock::now();
  const Anticipation plan = w.run(Clock::time_point{}, std::chrono::milliseconds(30), /*publisher_wakes=*/true);
  EXPECT_EQ(plan.outcome, Outcome::Unplanned);
  EXPECT_GE(plan.arrived_at, before + std::chrono::milliseconds(30));
  EXPECT_EQ(plan.timer_late, std::chrono::nanoseconds::zero());
}

TEST(ShmWait, DataBeforeTheAnticipatedWakeWakesTheWaiterAndSaysItWokeTooLate) {
  AnticipatedWait w;
  // Beyond kMaxSleep: the sleeps that end at kMaxSleep on the way do not count as the wake.
  const Clock::time_point wake_at = Clock::now() + std::chrono::seconds(5);
  const Anticipation plan = w.run(wake_at, 3 * kMaxSleep, /*publisher_wakes=*/true);
  EXPECT_EQ(plan.outcome, Outcome::Preempted);
  EXPECT_LT(plan.arrived_at, wake_at) << "it slept through the publisher's wake-up";
  EXPECT_EQ(plan.timer_late, std::chrono::nanoseconds::zero());
}

TEST(ShmWait, DataAlreadyThereWhenTheTimerWakesTheWaiterIsLate) {
  Anticipation plan;
  Clock::time_point wake_at;
  // The case needs the waiter asleep before the data comes. On a loaded machine (a sanitizer
  // build beside other jobs) its thread can start after wake_at, and then it rightly makes no
  // plan (Unplanned, never slept): that run tests nothing, so it is tried again, a few times.
  for (int attempt = 0; attempt < 5; ++attempt) {
    AnticipatedWait w;
    // Within kMaxSleep, so that the first sleep ends at the anticipated time.
    wake_at = Clock::now() + std::chrono::milliseconds(9);
    // The publisher sets the data at 1 ms and wakes nobody: only the timer can.
    plan = w.run(wake_at, std::chrono::milliseconds(1), /*publisher_wakes=*/false);
    if (plan.outcome != Outcome::Unplanned || plan.arrived_at != Clock::time_point{}) break;
  }
  EXPECT_EQ(plan.outcome, Outcome::Late);
  EXPECT_GE(plan.arrived_at, wake_at);
  EXPECT_GT(plan.timer_late, std::chrono::nanoseconds::zero());
}

TEST(ShmWait, NothingWhileItPollsAfterTheAnticipatedWakeMeansItSleepsAgainUntilWoken) {
  AnticipatedWait w;
  const Clock::time_point wake_at = Clock::now() + std::chrono::milliseconds(5);
  // Data long after the anticipated wake and its polling (kAnticipationPolls: tens of µs).
  const Anticipation plan = w.run(wake_at, std::chrono::milliseconds(200), /*publisher_wakes=*/true);
  EXPECT_EQ(plan.outcome, Outcome::Missed);
  EXPECT_GE(plan.arrived_at, wake_at + std::chrono::milliseconds(150));
  EXPECT_GT(plan.timer_late, std::chrono::nanoseconds::zero());
}

TEST(ShmWait, AnAnticipatedWakeAlreadyPastPollsAndWaitsAsUsual) {
  AnticipatedWait w;
  const Anticipation plan =
      w.run(Clock::now() - std::chrono::milliseconds(1), std::chrono::milliseconds(30), /*publisher_wakes=*/true);
  EXPECT_EQ(plan.outcome, Outcome::Unplanned);
  EXPECT_NE(plan.arrived_at, Clock::time_point{});
}

TEST(ShmWait, AWaiterThatSharesItsOnlyCpuWithThePeerDoesNotAnticipate) {
  AnticipatedWait w;
  // Polling after an anticipated wake would keep the writer off that CPU: the plan is ignored,
  // and the waiter sleeps until the publisher wakes it.
  const Clock::time_point wake_at = Clock::now() + std::chrono::milliseconds(2);
  const Anticipation plan = w.run(wake_at, std::chrono::milliseconds(30), /*publisher_wakes=*/true,
                                  /*block_spin_polls=*/0);
  EXPECT_EQ(plan.outcome, Outcome::Unplanned);
  EXPECT_EQ(plan.timer_late, std::chrono::nanoseconds::zero());
  EXPECT_GE(plan.arrived_at, wake_at + std::chrono::milliseconds(20));
}

}  // namespace
}  // namespace ipcmark::shm
