// A peer that dies and whose pid the kernel then gives to a new process: the shm channel must
// still see that its peer is gone. Forced deterministically in a pid namespace of the test's own
// (pid_namespace.hpp): the server is pid 2 there (or 3, after a sanitizer's thread), exits without closing the channel (as a crash
// would), is reaped, and the next fork is made to be pid 2 again.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/pid_namespace.hpp"
#include "transports/shm/shm.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;

// Runs in the namespace; returns "<code>: <message>" of the client's receive, or why it could not.
std::string client_of_a_server_whose_pid_is_reused(const std::string& channel) {
  const Transport& shm = shm_transport();
  int ready[2], die[2];
  if (::pipe(ready) != 0 || ::pipe(die) != 0) return "setup: pipe";
  const pid_t server = ::fork();
  if (server < 0) return "setup: fork";
  if (server == 0) {
    try {
      auto connection = shm.channel.serve(ChannelConfig{channel, 64, WaitKind::Block});
      const char go = 1;
      if (::write(ready[1], &go, 1) != 1) ::_exit(3);
      connection->accept(Clock::now() + 10s);
      char now = 0;
      if (::read(die[0], &now, 1) != 1) ::_exit(4);
      ::_exit(0);  // no destructors: the channel is not marked closed, as after a crash
    } catch (...) {
      ::_exit(2);
    }
  }
  char go = 0;
  if (::read(ready[0], &go, 1) != 1) return "setup: the server did not start";
  std::string outcome;
  pid_t reused = -1;
  try {
    auto client = shm.channel.connect(ChannelConfig{channel, 64, WaitKind::Block});
    client->accept(Clock::now() + 10s);
    const char now = 1;
    if (::write(die[1], &now, 1) != 1) return "setup: write";
    if (::waitpid(server, nullptr, 0) != server) return "setup: waitpid";
    if (!testing::next_pid_will_be(server)) return "setup: cannot write ns_last_pid";
    reused = ::fork();
    if (reused == 0) {
      ::pause();
      ::_exit(0);
    }
    if (reused != server) {
      outcome = "setup: pid " + std::to_string(server) + " was not reused (got " + std::to_string(reused) + ")";
    } else {
      std::vector<std::byte> buffer(64);
      client->receive(buffer, Clock::now() + 3s);
      outcome = "received a message";
    }
  } catch (const Error& e) {
    // The server's number in the namespace is usually 2, but a sanitizer's runtime thread can take
    // it first (TSan's took 2): name it SERVER, so the check does not depend on which it was.
    std::string what = e.what();
    const std::string number = " " + std::to_string(server) + " ";
    if (const auto at = what.find(number); at != std::string::npos) what.replace(at, number.size(), " SERVER ");
    outcome = std::string(e.code() == Errc::PeerGone ? "PeerGone" : e.code() == Errc::Timeout ? "Timeout" : "other") +
              ": " + what;
  }
  if (reused > 0) {
    ::kill(reused, SIGKILL);
    ::waitpid(reused, nullptr, 0);
  }
  shm.channel.remove(channel);
  return outcome;
}

TEST(PidReuse, ShmClientSeesItsServerGoneEvenAfterItsPidIsGivenToANewProcess) {
  const std::string channel = "ipcmark-" + std::to_string(::getpid()) + "-pid-reuse";
  std::string why;
  const auto outcome =
      testing::in_new_pid_namespace([&] { return client_of_a_server_whose_pid_is_reused(channel); }, why);
  shm_transport().channel.remove(channel);  // in case the namespace died before its own clean-up
  if (!outcome) GTEST_SKIP() << why;
  ASSERT_EQ(outcome->rfind("setup:", 0), std::string::npos) << *outcome;
  EXPECT_EQ(*outcome, "PeerGone: peer process SERVER is gone");
}

}  // namespace
}  // namespace ipcmark
