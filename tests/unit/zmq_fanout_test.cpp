// The zmq and zmq-tcp native fanout (XPUB writer, SUB readers) with real reader processes:
// fork()ed children that _exit() with a status the parent checks, never returning into gtest.
// Children are forked before the writer exists (they wait on a pipe), so none inherits its
// sockets. Messages carry their sequence number in the first 8 bytes and a pattern derived
// from it in the rest, so a reader checks order, completeness and every byte.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/errors.hpp"
#include "transports/fanout.hpp"
#include "transports/names.hpp"
#include "transports/zmq/zmq.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;

constexpr auto kPatience = 30s;  // deadlines that must never be reached in a passing test

std::string unique_name() { return testing::unique_name("ipcmark-fantest-"); }

Deadline in(Clock::duration d) { return Clock::now() + d; }

using testing::error_from;

std::byte pattern_byte(std::uint64_t seq, std::size_t i) { return std::byte(static_cast<unsigned char>(seq * 31 + i * 7)); }

void fill(std::vector<std::byte>& message, std::uint64_t seq) {
  std::memcpy(message.data(), &seq, sizeof seq);
  for (std::size_t i = sizeof seq; i < message.size(); ++i) message[i] = pattern_byte(seq, i);
}

std::uint64_t sequence_of(std::span<const std::byte> message) {
  std::uint64_t seq = 0;
  std::memcpy(&seq, message.data(), sizeof seq);
  return seq;
}

bool intact(std::span<const std::byte> message, std::uint64_t seq) {
  for (std::size_t i = sizeof seq; i < message.size(); ++i)
    if (message[i] != pattern_byte(seq, i)) return false;
  return true;
}

struct Case {
  const Transport& (*transport)();
  std::string label;
  std::string fan_suffix;  // the fanout's name file in the private runtime dir
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

// In a fork()ed child: die with the parent, so a failing test leaves no process behind.
void die_with_parent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(99);
}

// Reader child exit codes.
enum : int { kReaderOk = 0, kReaderDisorder = 1, kReaderBadSize = 2, kReaderBadBytes = 3, kReaderError = 4 };

// A reader process: waits for "go" on a pipe, connects, receives `messages` messages of `size`
// bytes and checks them; after `stall_after` messages (if non-zero) it says so on `stalled` and
// stops reading until it is killed.
struct ReaderSpec {
  std::size_t size = 64;
  std::uint64_t messages = 0;
  std::uint64_t stall_after = 0;
};

class ReaderProcess {
 public:
  ReaderProcess(const Transport& transport, const std::string& channel, int index, ReaderSpec spec) {
    int go[2], stalled[2];
    if (::pipe(go) != 0 || ::pipe(stalled) != 0) throw_system_error("pipe");
    std::fflush(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw_system_error("fork");
    if (pid_ == 0) {
      die_with_parent(parent);
      ::close(go[1]);
      ::close(stalled[0]);
      ::_exit(run(transport, channel, index, spec, go[0], stalled[1]));
    }
    ::close(go[0]);
    ::close(stalled[1]);
    go_ = go[1];
    stalled_ = stalled[0];
  }
  ReaderProcess(const ReaderProcess&) = delete;
  ~ReaderProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(go_);
    ::close(stalled_);
  }

  void go() { ASSERT_EQ(::write(go_, "g", 1), 1); }
  void wait_stalled() {
    char c = 0;
    ASSERT_EQ(::read(stalled_, &c, 1), 1);
  }
  void kill() { ::kill(pid_, SIGKILL); }
  // The child's exit status as a wait() status; kills it after `patience`.
  int wait(Clock::duration patience = kPatience) {
    const auto deadline = in(patience);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(2ms);
    }
    pid_ = -1;
    return status;
  }

 private:
  static int run(const Transport& transport, const std::string& channel, int index, ReaderSpec spec, int go,
                 int stalled) {
    try {
      char c = 0;
      if (::read(go, &c, 1) != 1) return kReaderError;
      auto reader = connect_fanout(transport, ChannelConfig{channel, spec.size, WaitKind::Block}, index);
      reader->accept(in(kPatience));
      std::vector<std::byte> buffer(spec.size);
      for (std::uint64_t seq = 0; seq < spec.messages; ++seq) {
        if (spec.stall_after != 0 && seq == spec.stall_after) {
          if (::write(stalled, "s", 1) != 1) return kReaderError;
          for (;;) ::pause();
        }
        const std::size_t n = reader->receive(buffer, in(kPatience));
        if (n != spec.size) return kReaderBadSize;
        if (sequence_of(buffer) != seq) return kReaderDisorder;
        if (!intact(buffer, seq)) return kReaderBadBytes;
      }
      return kReaderOk;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "reader %d: %s\n", index, e.what());
      return kReaderError;
    } catch (...) {
      return kReaderError;
    }
  }

  pid_t pid_ = -1;
  int go_ = -1;
  int stalled_ = -1;
};

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

class ZmqFanout : public ::testing::TestWithParam<Case> {
 protected:
  const Transport& transport() const { return GetParam().transport(); }
  std::string name_file() const { return private_runtime_dir() + "/" + channel_ + GetParam().fan_suffix; }
  bool name_exists() const { return std::filesystem::exists(std::filesystem::symlink_status(name_file())); }
  ChannelConfig config(std::size_t max_message = 64) const { return ChannelConfig{channel_, max_message, WaitKind::Block}; }
  ~ZmqFanout() override { remove_fanout(transport(), channel_); }

  // Every one of `readers` reader processes gets `messages` messages of `size` bytes, in order.
  void stream_to_all(int readers, std::size_t size, std::uint64_t messages) {
    std::vector<std::unique_ptr<ReaderProcess>> children;
    for (int i = 0; i < readers; ++i)
      children.push_back(std::make_unique<ReaderProcess>(transport(), channel_, i, ReaderSpec{size, messages, 0}));
    {
      auto writer = serve_fanout(transport(), FanoutConfig{config(size), readers, false});
      for (auto& child : children) child->go();
      writer->accept(in(kPatience));
      std::vector<std::byte> message(size);
      for (std::uint64_t seq = 0; seq < messages; ++seq) {
        fill(message, seq);
        writer->send(message, in(kPatience));
      }
      EXPECT_EQ(writer->readers_lost(), 0);
      for (int i = 0; i < readers; ++i) {
        const int status = children[i]->wait();
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader " << i << ": " << describe(status);
      }
    }
    EXPECT_FALSE(name_exists()) << name_file();
  }

  std::string channel_ = unique_name();
};

TEST_P(ZmqFanout, OneReaderGetsEverySmallMessageInOrder) { stream_to_all(1, 64, 20'000); }
TEST_P(ZmqFanout, OneReaderGetsEveryLargeMessageInOrder) { stream_to_all(1, 4096, 20'000); }
TEST_P(ZmqFanout, FourReadersGetEverySmallMessageInOrder) { stream_to_all(4, 64, 20'000); }
TEST_P(ZmqFanout, FourReadersGetEveryLargeMessageInOrder) { stream_to_all(4, 4096, 20'000); }

// One reader stops reading (its pipe fills, so the closed-loop writer waits on it) and is
// SIGKILLed; the writer carries on, counts it lost, and the others still get everything.
TEST_P(ZmqFanout, ReaderKilledMidStreamStopsNeitherWriterNorOthers) {
  constexpr std::uint64_t kMessages = 20'000;
  constexpr int kReaders = 3, kVictim = 1;
  std::vector<std::unique_ptr<ReaderProcess>> children;
  for (int i = 0; i < kReaders; ++i)
    children.push_back(std::make_unique<ReaderProcess>(
        transport(), channel_, i, ReaderSpec{64, kMessages, i == kVictim ? std::uint64_t{1000} : 0}));
  auto writer = serve_fanout(transport(), FanoutConfig{config(64), kReaders, false});
  for (auto& child : children) child->go();
  writer->accept(in(kPatience));
  std::thread killer([&] {
    children[kVictim]->wait_stalled();
    std::this_thread::sleep_for(200ms);  // long enough for the writer to block on the victim's full pipe
    children[kVictim]->kill();
  });
  struct Joiner {  // on a failure below: end the victim (its pipe then wakes the killer) and join
    ReaderProcess& victim;
    std::thread& thread;
    ~Joiner() {
      if (!thread.joinable()) return;
      victim.kill();
      thread.join();
    }
  } joiner{*children[kVictim], killer};
  std::vector<std::byte> message(64);
  for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
    if (seq == kMessages / 2) {
      killer.join();  // mid-stream: the victim is dead before the second half
      EXPECT_TRUE(WIFSIGNALED(children[kVictim]->wait()));
      std::this_thread::sleep_for(100ms);  // let libzmq's I/O thread see the connection end
    }
    fill(message, seq);
    writer->send(message, in(kPatience));
  }
  EXPECT_EQ(writer->readers_lost(), 1);
  for (int i = 0; i < kReaders; ++i) {
    if (i == kVictim) continue;
    const int status = children[i]->wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader " << i << ": " << describe(status);
  }
}

// A closed-loop writer waits for a reader that does not read, up to its deadline; an open-loop
// one drops instead, and the reader sees the gaps.
TEST_P(ZmqFanout, ClosedLoopWaitsForTheSlowestReaderOpenLoopDrops) {
  for (const bool lossy : {false, true}) {
    SCOPED_TRACE(lossy ? "open loop" : "closed loop");
    {
      auto writer = serve_fanout(transport(), FanoutConfig{config(), 1, lossy});
      auto reader = connect_fanout(transport(), config(), 0);
      writer->accept(in(kPatience));
      reader->accept(in(kPatience));
      std::vector<std::byte> message(64);
      std::uint64_t sent = 0;
      bool timed_out = false;
      for (; sent < 200'000; ++sent) {
        fill(message, sent);
        try {
          writer->send(message, in(200ms));
        } catch (const Error& e) {
          ASSERT_EQ(e.code(), Errc::Timeout) << e.what();
          timed_out = true;
          break;
        }
      }
      EXPECT_EQ(timed_out, !lossy) << sent << " sent";
      std::vector<std::byte> buffer(64);
      std::uint64_t received = 0, last = 0;
      for (;;) {
        try {
          ASSERT_EQ(reader->receive(buffer, in(300ms)), 64u);
        } catch (const Error& e) {
          ASSERT_EQ(e.code(), Errc::Timeout) << e.what();
          break;
        }
        const std::uint64_t seq = sequence_of(buffer);
        ASSERT_TRUE(received == 0 || seq > last) << seq << " after " << last;
        ASSERT_TRUE(intact(buffer, seq));
        last = seq;
        ++received;
      }
      if (lossy) {
        EXPECT_LT(received, sent);  // dropped at the high-water mark, not hidden
      } else {
        EXPECT_EQ(received, sent);  // everything the writer accepted, in order
        EXPECT_EQ(last + 1, sent);
      }
    }
    EXPECT_FALSE(name_exists());
  }
}

TEST_P(ZmqFanout, AcceptTimesOutNamingHowManyReadersJoined) {
  auto writer = serve_fanout(transport(), FanoutConfig{config(), 2, false});
  auto reader = connect_fanout(transport(), config(), 0);
  const Error e = error_from([&] { writer->accept(in(300ms)); });
  EXPECT_EQ(e.code(), Errc::Timeout);
  EXPECT_NE(std::string(e.what()).find("1 joined"), std::string::npos) << e.what();
}

// The writer's process exits: a reader gets what was sent, then PeerGone (not a Timeout).
TEST_P(ZmqFanout, ReaderSeesPeerGoneOnceTheWriterExits) {
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    die_with_parent(parent);
    ::close(ready[0]);
    ::close(go[1]);  // so that the parent's end closing is EOF here
    int code = 0;
    try {
      auto writer = serve_fanout(transport(), FanoutConfig{config(), 1, false});
      char c = 'r';
      if (::write(ready[1], &c, 1) != 1) ::_exit(5);
      writer->accept(in(kPatience));
      std::vector<std::byte> message(64);
      for (std::uint64_t seq = 0; seq < 10; ++seq) {
        fill(message, seq);
        writer->send(message, in(kPatience));
      }
      if (::read(go[0], &c, 1) != 1) code = 6;  // the reader has connected; now leave
    } catch (...) {
      code = 7;
    }
    ::_exit(code);
  }
  ::close(ready[1]);
  ::close(go[0]);
  struct Reaper {  // on any way out of this test: no child left behind
    pid_t pid;
    std::vector<int> fds;
    ~Reaper() {
      for (int fd : fds) ::close(fd);
      if (pid <= 0) return;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reaper{child, {ready[0], go[1]}};
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  {
    auto reader = connect_fanout(transport(), config(), 0);
    reader->accept(in(kPatience));
    ASSERT_EQ(::write(go[1], "g", 1), 1);
    std::vector<std::byte> buffer(64);
    for (std::uint64_t seq = 0; seq < 10; ++seq) {
      ASSERT_EQ(reader->receive(buffer, in(kPatience)), 64u);
      EXPECT_EQ(sequence_of(buffer), seq);
    }
    EXPECT_EQ(error_from([&] { reader->receive(buffer, in(kPatience)); }).code(), Errc::PeerGone);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  reaper.pid = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

TEST_P(ZmqFanout, ServingTwiceFailsWithAlreadyExists) {
  auto writer = serve_fanout(transport(), FanoutConfig{config(), 1, false});
  EXPECT_EQ(error_from([&] { (void)serve_fanout(transport(), FanoutConfig{config(), 1, false}); }).code(),
            Errc::AlreadyExists);
  EXPECT_TRUE(name_exists());  // the failed second serve left the first one's name alone
}

TEST_P(ZmqFanout, FanoutAndPointToPointNamesAreDistinct) {
  auto writer = serve_fanout(transport(), FanoutConfig{config(), 1, false});
  auto server = transport().channel.serve(config());
  EXPECT_TRUE(name_exists());
}

TEST_P(ZmqFanout, ConnectingToNoWriterFailsWithDoesNotExistAtOnce) {
  const auto before = Clock::now();
  EXPECT_EQ(error_from([&] { (void)connect_fanout(transport(), config(), 0); }).code(), Errc::DoesNotExist);
  EXPECT_LT(Clock::now() - before, 5s);
}

TEST_P(ZmqFanout, ReaderOnlyReceivesWriterOnlySends) {
  auto writer = serve_fanout(transport(), FanoutConfig{config(), 1, false});
  auto reader = connect_fanout(transport(), config(), 0);
  std::vector<std::byte> buffer(64);
  EXPECT_EQ(error_from([&] { reader->send(buffer, in(1s)); }).code(), Errc::InvalidArgument);
  EXPECT_EQ(error_from([&] { (void)writer->receive(buffer, in(1s)); }).code(), Errc::InvalidArgument);
  EXPECT_EQ(error_from([&] { writer->send(std::span(buffer).first(0), in(1s)); }).code(), Errc::MessageTooLarge);
  buffer.resize(65);
  EXPECT_EQ(error_from([&] { writer->send(buffer, in(1s)); }).code(), Errc::MessageTooLarge);
}

TEST_P(ZmqFanout, WriterRemovesItsNameWhenDestroyed) {
  {
    auto writer = serve_fanout(transport(), FanoutConfig{config(), 1, false});
    EXPECT_TRUE(name_exists());
  }
  EXPECT_FALSE(name_exists());
}

// A writer that crashed leaves its name; remove_fanout clears it and the channel serves again.
TEST_P(ZmqFanout, RemoveFanoutClearsACrashedWritersName) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto writer = serve_fanout(transport(), FanoutConfig{config(), 1, false});  // then crashes
      ::kill(::getpid(), SIGKILL);
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << describe(status);
  EXPECT_TRUE(name_exists());
  EXPECT_EQ(error_from([&] { (void)serve_fanout(transport(), FanoutConfig{config(), 1, false}); }).code(),
            Errc::AlreadyExists);
  remove_fanout(transport(), channel_);
  EXPECT_FALSE(name_exists());
  auto writer = serve_fanout(transport(), FanoutConfig{config(), 1, false});
  EXPECT_TRUE(name_exists());
}

INSTANTIATE_TEST_SUITE_P(Transports, ZmqFanout,
                         ::testing::Values(Case{&zmq_transport, "Zmq", ".zmq-fan"},
                                           Case{&zmq_tcp_transport, "ZmqTcp", ".zmqtcp-fan"}),
                         [](const auto& info) { return info.param.label; });

}  // namespace
}  // namespace ipcmark
