// A hostile peer that shrinks the channel's object (ftruncate) in the middle of a stream. Every
// page past the new end is gone from both mappings, and touching one is a SIGBUS: the side in this
// process must end with Errc::Corrupt naming the truncation, never die of it.
//
// The peer is a forked process with its own fd for the object; it truncates to 0 bytes after
// its first kBeforeAttack messages, then waits to be killed (so PeerGone cannot be the answer).
// This process is the victim, reading (the peer serves) or writing (the peer reads).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "transports/shm/shm.hpp"

namespace ipcmark::shm {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMessage = 1000;
constexpr int kBeforeAttack = 300;  // ~300 KB of a 1 MiB ring: the stream is well under way

struct Case {
  const char* name;
  bool victim_reads;
  WaitKind wait;
};

const Case kCases[] = {
    {"VictimReadsSpin", true, WaitKind::Spin},
    {"VictimReadsBlock", true, WaitKind::Block},
    {"VictimWritesSpin", false, WaitKind::Spin},
    {"VictimWritesBlock", false, WaitKind::Block},
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

void truncate_to_nothing(const std::string& channel) {
  const int fd = ::shm_open(("/" + channel).c_str(), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0 || ::ftruncate(fd, 0) != 0) ::_exit(5);
  ::close(fd);
}

// The server: serves, then streams to the victim or reads from it, then truncates and waits.
[[noreturn]] void hostile_server(const std::string& channel, const Case& c, int ready_fd) {
  try {
    auto server = shm_transport().channel.serve(ChannelConfig{channel, kMessage, c.wait});
    const char go = 1;
    if (::write(ready_fd, &go, 1) != 1) ::_exit(3);
    server->accept(Clock::now() + 20s);
    std::vector<std::byte> message(kMessage, std::byte{0x5a});
    for (int i = 0; i < kBeforeAttack; ++i) {
      if (c.victim_reads)
        server->send(message, Clock::now() + 20s);
      else
        server->receive(message, Clock::now() + 20s);
    }
    truncate_to_nothing(channel);
    ::pause();
  } catch (...) {
    ::_exit(2);
  }
  ::_exit(0);
}

class HostileShmTruncation : public ::testing::TestWithParam<Case> {};

TEST_P(HostileShmTruncation, TheVictimGetsCorruptNamingTheTruncationNeverSigbus) {
  const Case& c = GetParam();
  const std::string channel = "ipcmark-" + std::to_string(::getpid()) + "-truncated-" + c.name;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Dies with us: a victim killed by the SIGBUS this test is about must not leave it behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(ready[0]);
    hostile_server(channel, c, ready[1]);
  }
  ::close(ready[1]);
  struct Cleanup {
    pid_t pid;
    std::string channel;
    ~Cleanup() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      shm_transport().channel.remove(channel);
    }
  } cleanup{child, channel};
  char go = 0;
  const bool served = ::read(ready[0], &go, 1) == 1;
  ::close(ready[0]);
  ASSERT_TRUE(served) << "the hostile server failed before serving";

  std::string error;
  Errc code = Errc::System;
  long messages = 0;
  try {
    auto client = shm_transport().channel.connect(ChannelConfig{channel, kMessage, c.wait});
    client->accept(Clock::now() + 10s);
    std::vector<std::byte> buffer(kMessage, std::byte{0x33});
    for (;; ++messages) {
      if (c.victim_reads) {
        client->receive(buffer, Clock::now() + 10s);
      } else {
        client->send(buffer, Clock::now() + 10s);
      }
    }
  } catch (const Error& e) {
    error = e.what();
    code = e.code();
  }
  EXPECT_EQ(code, Errc::Corrupt) << error;
  EXPECT_EQ(error.rfind("shared memory channel '" + channel + "' was truncated by another process", 0), 0u) << error;
  if (c.victim_reads) {
    EXPECT_LE(messages, kBeforeAttack) << "no message may be made up of the zeros left behind";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileShmTruncation, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// The broadcast ring's region (fanout.cpp): a writer that truncates it under its reader.
TEST(HostileShmTruncation, AFanoutReaderGetsCorruptNamingTheTruncation) {
  const std::string channel = "ipcmark-" + std::to_string(::getpid()) + "-truncated-fanout";
  const ChannelConfig config{channel, kMessage, WaitKind::Block};
  // The writer does not wait for its reader (the ring holds all it sends): it truncates once
  // told that the reader is reading.
  int ready[2], reading[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(reading), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close(ready[0]);
    ::close(reading[1]);
    try {
      auto writer = shm_transport().fanout->serve(FanoutConfig{config, 1, false});
      const char go = 1;
      if (::write(ready[1], &go, 1) != 1) ::_exit(3);
      writer->accept(Clock::now() + 20s);
      const std::vector<std::byte> message(kMessage, std::byte{0x5a});
      for (int i = 0; i < kBeforeAttack; ++i) writer->send(message, Clock::now() + 20s);
      char started = 0;
      if (::read(reading[0], &started, 1) != 1) ::_exit(4);
      truncate_to_nothing(channel + ".fan");
      ::pause();
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(reading[0]);
  struct Cleanup {
    pid_t pid;
    std::string channel;
    int reading;
    ~Cleanup() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::close(reading);
      shm_transport().fanout->remove(channel);
    }
  } cleanup{child, channel, reading[1]};
  char go = 0;
  const bool served = ::read(ready[0], &go, 1) == 1;
  ::close(ready[0]);
  ASSERT_TRUE(served) << "the hostile writer failed before serving";

  std::string error;
  Errc code = Errc::System;
  long messages = 0;
  try {
    auto reader = shm_transport().fanout->connect(config, 0);
    reader->accept(Clock::now() + 10s);
    std::vector<std::byte> buffer(kMessage);
    for (;; ++messages) {
      reader->receive(buffer, Clock::now() + 10s);
      const char started = 1;
      if (messages == 10 && ::write(reading[1], &started, 1) != 1) break;
    }
  } catch (const Error& e) {
    error = e.what();
    code = e.code();
  }
  EXPECT_EQ(code, Errc::Corrupt) << error;
  EXPECT_EQ(error.rfind("shared memory channel '" + channel + ".fan' was truncated by another process", 0), 0u)
      << error;
  EXPECT_LE(messages, kBeforeAttack);
}

}  // namespace
}  // namespace ipcmark::shm
