// The iceoryx transport's daemon, RouDi, as ipcmark starts, shares and stops it
// (transports/iceoryx/roudi_lease.hpp): two processes leasing at once, a RouDi the user started,
// RouDi killed mid-stream, and what a run leaves behind. These tests run one at a time with every
// other iceoryx test (RESOURCE_LOCK machine_wide, tests/CMakeLists.txt): they check that no RouDi
// runs afterwards, which another test's RouDi would falsify.
#include <gtest/gtest.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/channels.hpp"
#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"
#include "transports/common/process.hpp"
#include "transports/iceoryx/roudi_lease.hpp"
#include "transports/iceoryx/roudi_process.hpp"
#include "transports/names.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using namespace testing;

// Every name a RouDi or ipcmark's lease can leave, that exists now.
std::vector<std::string> roudi_names() {
  std::vector<std::string> found;
  std::vector<std::string> paths{"/dev/shm/iceoryx_mgmt", "/tmp/roudi", "/tmp/roudi.lock",
                                 "/tmp/iox-unique-roudi.lock"};
  if (const group* g = ::getgrgid(::getgid()); g != nullptr) paths.push_back(std::string("/dev/shm/") + g->gr_name);
  for (const std::string& name : entries_with_prefix("/tmp", "ipcmark-iox-")) paths.push_back("/tmp/" + name);
  for (const std::string& name : entries_with_prefix(private_runtime_dir(), "iceoryx-roudi."))
    paths.push_back(private_runtime_dir() + "/" + name);
  for (const std::string& path : paths)
    if (exists(path)) found.push_back(path);
  return found;
}

// Sends one int through a pipe from a child process to the test.
struct IntPipe {
  IntPipe() {
    if (::pipe(fds) != 0) std::abort();
  }
  ~IntPipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void put(int value) const { (void)!::write(fds[1], &value, sizeof value); }
  int get() const {
    int value = -1;
    return ::read(fds[0], &value, sizeof value) == sizeof value ? value : -1;
  }
  int fds[2];
};

class IceoryxRoudi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (iceoryx::roudi_is_running()) GTEST_SKIP() << "a RouDi is already running on this machine";
  }
  void TearDown() override { (void)iceoryx::clean_roudi(); }
};

TEST_F(IceoryxRoudi, TwoProcessesLeasingAtOnceShareOneRoudiThatTheLastOneStops) {
  IntPipe pids;
  auto leaser = [&] {
    const auto lease = iceoryx::RoudiLease::acquire(64, Clock::now() + 20s);
    pids.put(lease->roudi_pid());
    std::this_thread::sleep_for(300ms);  // both hold it at once
    return lease->describe().find("started by ipcmark") != std::string::npos ? 0 : 10;
  };
  ClientProcess first(leaser), second(leaser);
  first.start();
  second.start();
  const int a = pids.get(), b = pids.get();
  EXPECT_GT(a, 0);
  EXPECT_EQ(a, b) << "two RouDis";
  EXPECT_EQ(first.wait(), 0);
  EXPECT_EQ(second.wait(), 0);
  EXPECT_TRUE(process_is_gone(a)) << "RouDi " << a << " still runs after its last user left";
  EXPECT_FALSE(iceoryx::roudi_is_running());
  EXPECT_EQ(roudi_names(), std::vector<std::string>{});
}

TEST_F(IceoryxRoudi, ARoudiTheUserStartedIsUsedAndLeftRunning) {
  const std::string config = temp_path("user-roudi.toml");
  std::ofstream(config) << "[general]\nversion = 1\n[[segment]]\n[[segment.mempool]]\nsize = 1024\ncount = 2000\n";
  const pid_t user_roudi = ::fork();
  if (user_roudi == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execlp("iox-roudi", "iox-roudi", "-c", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto until = Clock::now() + 10s;
  while (!iceoryx::roudi_is_running() && Clock::now() < until) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(200ms);  // its socket is there a moment after its lock
  ASSERT_TRUE(iceoryx::roudi_is_running());

  const std::string out = temp_path("user-roudi.json");
  const CommandResult r = ipcmark({"run", "--transports", "iceoryx", "--pattern", "pingpong", "--sizes", "64",
                                   "--messages", "200", "--warmup", "10", "--repetitions", "1", "--no-floor",
                                   "--out", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto document = nlohmann::json::parse(slurp(out), nullptr, false);
  std::remove(out.c_str());
  ASSERT_FALSE(document.is_discarded());
  EXPECT_NE(document["context"]["brokers"]["iceoryx"].get<std::string>().find("already running"), std::string::npos)
      << document["context"]["brokers"];

  EXPECT_EQ(::kill(user_roudi, 0), 0) << "ipcmark stopped the user's RouDi";
  int status = 0;
  EXPECT_EQ(::waitpid(user_roudi, &status, WNOHANG), 0) << "the user's RouDi exited";
  ::kill(user_roudi, SIGTERM);
  ::waitpid(user_roudi, &status, 0);
  std::remove(config.c_str());
  EXPECT_EQ(roudi_names(), std::vector<std::string>{});  // it cleans up after itself
}

// Both sides of a stream see PeerGone when RouDi is killed under them, and the last of them to
// leave removes what the killed RouDi left.
TEST_F(IceoryxRoudi, RoudiKilledMidStreamIsPeerGoneOnBothSidesAndLeavesNothing) {
  const Transport& iceoryx = *find_transport("iceoryx");
  const std::string channel = unique_channel();
  const ChannelConfig config{channel, 64, WaitKind::Block};
  // 0 once `io` throws PeerGone, 20 + the code of another error.
  auto until_peer_gone = [](const std::function<void()>& io) {
    try {
      for (;;) io();
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return e.code() == Errc::PeerGone ? 0 : 20 + static_cast<int>(e.code());
    }
  };
  // Each side closes its channel, then std::exit rather than a return: the process's RouDi lease
  // is released by static destructors, which ClientProcess's _exit would skip.
  ClientProcess server([&] {
    int code = 0;
    {
      auto s = iceoryx.channel.serve(config);
      s->accept(Clock::now() + 30s);
      std::vector<std::byte> m(64);
      code = until_peer_gone([&] { s->send(m, Clock::now() + 30s); });
    }
    std::exit(code);
    return code;
  });
  ClientProcess client([&] {
    int code = 0;
    {
      auto c = iceoryx.channel.connect(config);
      c->accept(Clock::now() + 30s);
      std::vector<std::byte> m(64);
      code = until_peer_gone([&] { c->receive(m, Clock::now() + 30s); });
    }
    std::exit(code);
    return code;
  });
  server.start();
  ASSERT_TRUE(wait_for_path(private_runtime_dir() + "/" + channel + ".iox"));
  client.start();
  const std::string pid_file = private_runtime_dir() + "/iceoryx-roudi.pid";
  ASSERT_TRUE(wait_for_path(pid_file));
  std::this_thread::sleep_for(1s);  // mid-stream
  pid_t roudi = 0;
  std::ifstream(pid_file) >> roudi;
  ASSERT_GT(roudi, 0);
  ASSERT_EQ(::kill(roudi, SIGKILL), 0);
  const Deadline deadline = Clock::now() + 15s;
  EXPECT_EQ(server.wait(deadline), 0) << "the server did not end with PeerGone (exit 20+Errc: another error)";
  EXPECT_EQ(client.wait(deadline), 0) << "the client did not end with PeerGone";
  EXPECT_EQ(roudi_names(), std::vector<std::string>{});
  EXPECT_EQ(leftovers(channel), std::vector<std::string>{});
}

TEST_F(IceoryxRoudi, ARunLeavesNoDaemonSharedMemoryOrSocket) {
  const std::string out = temp_path("iceoryx-run.json");
  const CommandResult r = ipcmark({"run", "--transports", "iceoryx", "--pattern", "pingpong,stream,oneshot,fanout",
                                   "--sizes", "64,65536", "--copy", "copy,zero", "--messages", "500", "--warmup", "10",
                                   "--repetitions", "1", "--no-floor", "--out", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto document = nlohmann::json::parse(slurp(out), nullptr, false);
  std::remove(out.c_str());
  ASSERT_FALSE(document.is_discarded());
  for (const auto& row : document["benchmarks"]) {
    EXPECT_EQ(row.value("lost", 0), 0) << row["name"];
    EXPECT_EQ(row.value("reordered", 0), 0) << row["name"];
    EXPECT_EQ(row.value("corrupted", 0), 0) << row["name"];
  }
  EXPECT_NE(document["context"]["brokers"]["iceoryx"].get<std::string>().find("started by ipcmark"), std::string::npos);
  EXPECT_EQ(iceoryx::find_roudi_pid(), 0) << "a RouDi still runs";
  EXPECT_EQ(roudi_names(), std::vector<std::string>{});
  EXPECT_EQ(processes_with({"ipcmark", "peer", "iceoryx"}), std::vector<int>{});
}

}  // namespace
}  // namespace ipcmark
