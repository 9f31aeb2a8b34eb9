// The seed scenario as two real processes: `ipcmark serve` in one, `ipcmark read` in another.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include "harness/run/spawn.hpp"
#include "tests/support/processes.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

using ::testing::HasSubstr;
using testing::ipcmark;

const std::string kSeedText = "The world is going down.";

std::string channel_name(const std::string& what) {
  return "ipcmark-it-" + std::to_string(::getpid()) + "-" + what;
}

ChildProcess start_server(const std::string& transport, const std::string& channel, int hold_s = 60) {
  return ChildProcess::spawn({IPCMARK_BINARY, "serve", "--transport", transport, "--channel", channel, "--size", "10000",
                              "--message", kSeedText, "--hold", std::to_string(hold_s)});
}

ExitStatus stop(ChildProcess& server) {
  ::kill(server.pid(), SIGTERM);
  return server.wait_or_kill(Clock::now() + std::chrono::seconds(10));
}

TEST(Seed, ShmReadPrintsTheServersMessageAndTheRegionHasTheSeedLayout) {
  const std::string channel = channel_name("shm");
  ChildProcess server = start_server("shm", channel);
  ASSERT_TRUE(testing::wait_for_path("/dev/shm/" + channel));

  for (int reader = 0; reader < 3; ++reader) {  // any number of reads while it holds
    const auto r = ipcmark({"read", "--transport", "shm", "--channel", channel});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, kSeedText + "\n");
  }
  // The raw bytes at offset 0, zero-padded to the region size: any program can read it.
  const std::string region = testing::slurp("/dev/shm/" + channel);
  ASSERT_EQ(region.size(), 10000u);
  EXPECT_EQ(region.substr(0, kSeedText.size()), kSeedText);
  EXPECT_EQ(region.find_first_not_of('\0', kSeedText.size()), std::string::npos);

  EXPECT_TRUE(stop(server).ok());
  EXPECT_FALSE(testing::exists("/dev/shm/" + channel)) << "serve must remove the name when it stops";
}

TEST(Seed, ServerRemovesTheNameWhenItsHoldEnds) {
  const std::string channel = channel_name("hold");
  ChildProcess server = start_server("shm", channel, /*hold_s=*/1);
  ASSERT_TRUE(testing::wait_for_path("/dev/shm/" + channel));
  EXPECT_TRUE(server.wait_or_kill(Clock::now() + std::chrono::seconds(10)).ok());
  EXPECT_FALSE(testing::exists("/dev/shm/" + channel));
}

TEST(Seed, PipeReadPrintsTheServersMessage) {
  const std::string channel = channel_name("pipe");
  ChildProcess server = start_server("pipe", channel);
  ASSERT_TRUE(testing::wait_for_path("/tmp/ipcmark-" + std::to_string(::getuid()) + "/" + channel + ".fifo") ||
              std::getenv("XDG_RUNTIME_DIR") != nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int reader = 0; reader < 2; ++reader) {
    const auto r = ipcmark({"read", "--transport", "pipe", "--channel", channel}, 30);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, kSeedText + "\n");
  }
  EXPECT_TRUE(stop(server).ok());
}

TEST(Seed, ReadingAMissingChannelFailsAtOnceWithOneLineNamingIt) {
  for (const char* transport : {"shm", "pipe"}) {
    const auto r = ipcmark({"read", "--transport", transport, "--channel", "no-such-channel-here"}, 10);
    EXPECT_NE(r.exit_code, 0) << transport;
    EXPECT_NE(r.exit_code, 124) << transport << ": timed out instead of failing at once";
    EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("'no-such-channel-here'"));
    EXPECT_THAT(r.err, HasSubstr("does not exist (is the server running?)"));
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(Seed, BroadcastReachesEveryReaderOnEveryTransportAndLeavesNoName) {
  for (const Transport* transport : all_transports()) {
    const std::string name(transport->name);
    const std::string channel = channel_name("news-" + name);
    // Its stderr into the stdout we read: readers start once it says it waits for them (before,
    // the channel, or a reader's part of it, may not exist yet, which `read` reports at once).
    const std::string serve = std::string("exec '") + IPCMARK_BINARY + "' serve --transport " + name +
                              " --channel " + channel + " --message '" + kSeedText + "' --readers 3 --hold 30 2>&1";
    ChildProcess server = ChildProcess::spawn({"/bin/sh", "-c", serve});
    const auto waiting = server.read_line(Clock::now() + std::chrono::seconds(30));
    EXPECT_THAT(waiting.value_or("(nothing)"), HasSubstr("waits up to 30 s for 3 reader(s)")) << name;
    std::vector<ChildProcess> readers;
    for (int i = 0; i < 3; ++i) {
      readers.push_back(ChildProcess::spawn({IPCMARK_BINARY, "read", "--transport", name, "--channel", channel,
                                             "--reader", std::to_string(i), "--timeout", "30"}));
    }
    for (ChildProcess& reader : readers) {
      std::string out;
      while (reader.pump_stdout()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      while (auto line = reader.take_line()) out += *line + "\n";
      EXPECT_TRUE(reader.wait_or_kill(Clock::now() + std::chrono::seconds(30)).ok()) << name;
      EXPECT_EQ(out, kSeedText + "\n") << name;
    }
    EXPECT_TRUE(server.wait_or_kill(Clock::now() + std::chrono::seconds(30)).ok()) << name;
    EXPECT_THAT(testing::names_with_prefix(channel), ::testing::IsEmpty()) << name;
  }
}

TEST(Seed, ServingAnExistingNameFailsUnlessReplace) {
  const std::string channel = channel_name("twice");
  ChildProcess first = start_server("shm", channel);
  ASSERT_TRUE(testing::wait_for_path("/dev/shm/" + channel));

  const auto second = ipcmark({"serve", "--channel", channel, "--message", "x", "--hold", "0"}, 10);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_EQ(testing::count_lines(second.err), 1) << second.err;
  EXPECT_THAT(second.err, HasSubstr("'" + channel + "' already exists"));

  const auto replaced = ipcmark({"serve", "--channel", channel, "--message", "replaced", "--hold", "0", "--replace"}, 10);
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  stop(first);
  EXPECT_FALSE(testing::exists("/dev/shm/" + channel));
}

}  // namespace
}  // namespace ipcmark
