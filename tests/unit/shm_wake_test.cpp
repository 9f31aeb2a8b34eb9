// The wake-up matrix: every --wait of the shm ring carries messages whole and in order between two
// threads and two processes, ends a wait by its deadline, and notices a dead peer (spin, which
// never sleeps, is covered by shm_ring_test and shm_region_test).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/errors.hpp"
#include "transports/fanout.hpp"
#include "transports/shm/doorbell.hpp"
#include "transports/shm/shm.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using testing::error_from;
using testing::pattern_byte;
using testing::unique_name;

constexpr std::size_t kMax = 1000;

ChannelConfig config(const std::string& name, WaitKind wait) { return ChannelConfig{name, kMax, wait}; }

std::size_t size_of(std::size_t i) { return 1 + (i * 97) % kMax; }

void fill(std::vector<std::byte>& out, std::size_t i) {
  for (std::size_t k = 0; k < size_of(i); ++k) out[k] = pattern_byte(i, k);
}

// Whether `in` holds message i, whole.
bool is_message(std::span<const std::byte> in, std::size_t i) {
  if (in.size() != size_of(i)) return false;
  for (std::size_t k = 0; k < in.size(); ++k)
    if (in[k] != pattern_byte(i, k)) return false;
  return true;
}

// Sends `round_trips` numbered messages and checks each echo.
void ping(Connection& client, int round_trips) {
  std::vector<std::byte> out(kMax), in(kMax);
  for (int i = 0; i < round_trips; ++i) {
    fill(out, i);
    client.send(std::span(out).first(size_of(i)), Clock::now() + 10s);
    const std::size_t n = client.receive(in, Clock::now() + 10s);
    ASSERT_TRUE(is_message(std::span(in).first(n), i)) << "round trip " << i;
  }
}

void echo(Connection& server, int round_trips) {
  std::vector<std::byte> buffer(kMax);
  for (int i = 0; i < round_trips; ++i) {
    const std::size_t n = server.receive(buffer, Clock::now() + 10s);
    server.send(std::span(buffer).first(n), Clock::now() + 10s);
  }
}

bool exists(const std::string& path) {
  std::error_code ignored;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ignored));
}

// A server and a client of `wait` in this process, both accepted.
struct Connected {
  std::unique_ptr<Connection> server, client;
  Connected(const std::string& name, WaitKind wait)
      : server(shm_transport().channel.serve(config(name, wait))),
        client(shm_transport().channel.connect(config(name, wait))) {
    server->accept(Clock::now() + 5s);
    client->accept(Clock::now() + 5s);
  }
};

class Wake : public ::testing::TestWithParam<WaitKind> {};

TEST_P(Wake, TwoThreadsPingpongAndStreamMessagesWholeAndInOrder) {
  const std::string name = unique_name();
  auto [server, client] = Connected(name, GetParam());
  std::thread echoing([&] { echo(*server, 2000); });
  ping(*client, 2000);
  echoing.join();
  // A stream of three rings' worth: the writer waits for room, the reader for data.
  constexpr int kStream = 3 * 1024;
  std::thread reading([&] {
    std::vector<std::byte> in(kMax);
    for (int i = 0; i < kStream; ++i) {
      if (i % 512 == 0) std::this_thread::sleep_for(2ms);  // a slow reader now and then: the writer sleeps
      const std::size_t n = server->receive(in, Clock::now() + 10s);
      ASSERT_TRUE(is_message(std::span(in).first(n), i)) << "message " << i;
    }
  });
  std::vector<std::byte> out(kMax);
  for (int i = 0; i < kStream; ++i) {
    fill(out, i);
    client->send(std::span(out).first(size_of(i)), Clock::now() + 10s);
  }
  reading.join();
  client.reset();
  server.reset();
  EXPECT_FALSE(exists("/dev/shm/" + name));
  EXPECT_FALSE(exists(shm::bell_socket_path(name)));
}

TEST_P(Wake, TwoProcessesPingpongMessagesWholeAndInOrder) {
  const std::string name = unique_name();
  auto server = shm_transport().channel.serve(config(name, GetParam()));
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int status = 1;
    try {
      auto client = shm_transport().channel.connect(config(name, GetParam()));
      client->accept(Clock::now() + 5s);
      std::vector<std::byte> out(kMax), in(kMax);
      status = 0;
      for (int i = 0; i < 2000 && status == 0; ++i) {
        fill(out, i);
        client->send(std::span(out).first(size_of(i)), Clock::now() + 10s);
        const std::size_t n = client->receive(in, Clock::now() + 10s);
        if (!is_message(std::span(in).first(n), i)) status = 2;
      }
    } catch (const std::exception&) {
      status = 3;
    }
    ::_exit(status);
  }
  server->accept(Clock::now() + 10s);
  echo(*server, 2000);
  int status = -1;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_P(Wake, AWaitEndsByItsDeadlineWithTimeout) {
  auto [server, client] = Connected(unique_name(), GetParam());
  std::vector<std::byte> in(kMax);
  const Clock::time_point start = Clock::now();
  EXPECT_EQ(error_from([&] { client->receive(in, start + 30ms); }).code(), Errc::Timeout);
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_LT(Clock::now() - start, 1s);
}

// A peer process that exits without closing (no destructors: as if killed) while we sleep.
TEST_P(Wake, APeerThatDiesWhileWeSleepGivesPeerGoneLongBeforeTheDeadline) {
  const std::string name = unique_name();
  auto server = shm_transport().channel.serve(config(name, GetParam()));
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto client = shm_transport().channel.connect(config(name, GetParam()));
      client->accept(Clock::now() + 5s);
      std::this_thread::sleep_for(100ms);
      ::_exit(0);  // the Connection is never destroyed: nothing says "closed"
    } catch (const std::exception&) {
      ::_exit(3);
    }
  }
  server->accept(Clock::now() + 10s);
  std::vector<std::byte> in(kMax);
  const Clock::time_point start = Clock::now();
  const Error e = error_from([&] { server->receive(in, start + 20s); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  EXPECT_LT(Clock::now() - start, 3s);
  int status = -1;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

INSTANTIATE_TEST_SUITE_P(EveryWait, Wake,
                         ::testing::Values(WaitKind::Block, WaitKind::Futex, WaitKind::Eventfd,
                                           WaitKind::Sem, WaitKind::Uds),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(WakeMix, DoorbellWaitsNeedTheSameWaitOnBothSidesAndFutexMixesWithBlock) {
  for (const auto& [served, joining] : {std::pair{WaitKind::Uds, WaitKind::Block},
                                        std::pair{WaitKind::Futex, WaitKind::Eventfd},
                                        std::pair{WaitKind::Sem, WaitKind::Uds}}) {
    const std::string name = unique_name();
    auto server = shm_transport().channel.serve(config(name, served));
    const Error e = error_from([&] { shm_transport().channel.connect(config(name, joining)); });
    EXPECT_EQ(e.code(), Errc::InvalidArgument) << e.what();
    EXPECT_TRUE(testing::contains(e, "need the same wait on both sides")) << e.what();
  }
  const std::string name = unique_name();
  auto server = shm_transport().channel.serve(config(name, WaitKind::Futex));
  auto client = shm_transport().channel.connect(config(name, WaitKind::Block));
  server->accept(Clock::now() + 5s);
  client->accept(Clock::now() + 5s);
  std::thread echoing([&] { echo(*server, 200); });
  ping(*client, 200);
  echoing.join();
}

TEST(WakeSocket, RemoveAndAClosedServerLeaveNoSocketFile) {
  for (const WaitKind wait : {WaitKind::Eventfd, WaitKind::Uds}) {
    const std::string name = unique_name();
    shm_transport().channel.serve(config(name, wait)).reset();  // never accepted
    EXPECT_FALSE(exists(shm::bell_socket_path(name)));
    // A server that dies before a client comes leaves its names: remove() takes them.
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        auto server = shm_transport().channel.serve(config(name, wait));
        ::_exit(0);  // as if killed: no destructor runs
      } catch (const std::exception&) {
        ::_exit(3);
      }
    }
    int status = -1;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_TRUE(exists(shm::bell_socket_path(name)));
    const Error gone = error_from([&] { shm_transport().channel.connect(config(name, wait)); });
    EXPECT_EQ(gone.code(), Errc::PeerGone) << gone.what();
    shm_transport().channel.remove(name);
    EXPECT_FALSE(exists(shm::bell_socket_path(name)));
    EXPECT_FALSE(exists("/dev/shm/" + name));
  }
}

// The semaphore lives in memory the peer writes: what it does to it must end in Corrupt or by
// the deadline, never in an abort inside glibc or a wait past the deadline.
TEST(WakeSemaphore, AHostileSemaphoreEndsTheWaitWithCorruptOrByItsDeadline) {
  const std::string name = unique_name();
  auto [server, client] = Connected(name, WaitKind::Sem);
  const int fd = ::open(("/dev/shm/" + name).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  void* mapped = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  ASSERT_NE(mapped, MAP_FAILED);
  // The client reads the first ring; its semaphore is the one after that ring's header.
  std::byte* sem = static_cast<std::byte*>(mapped) + shm::kSemOffset;
  std::vector<std::byte> in(kMax);

  const std::uint64_t huge = 0x7fffffff;  // a value of 2^31-1: every wait "succeeds" at once
  std::memcpy(sem, &huge, sizeof huge);
  Clock::time_point start = Clock::now();
  EXPECT_EQ(error_from([&] { client->receive(in, start + 30ms); }).code(), Errc::Timeout);
  EXPECT_LT(Clock::now() - start, 1s);

  const int hostile_private = 0x55;  // would make glibc's futex call one the kernel refuses
  std::memcpy(sem + 8, &hostile_private, sizeof hostile_private);
  start = Clock::now();
  const Error e = error_from([&] { client->receive(in, start + 5s); });
  EXPECT_EQ(e.code(), Errc::Corrupt) << e.what();
  EXPECT_LT(Clock::now() - start, 1s);
  ::munmap(mapped, 4096);
}

TEST(WakeFanout, TheShmFanoutRefusesTheWaitsItDoesNotTake) {
  const std::string name = unique_name();
  const Error e = error_from([&] {
    serve_fanout(shm_transport(), FanoutConfig{ChannelConfig{name, 64, WaitKind::Eventfd}, 1, false});
  });
  EXPECT_EQ(e.code(), Errc::InvalidArgument);
  EXPECT_TRUE(testing::contains(e, "the shm fanout waits with spin or block, not eventfd")) << e.what();
  EXPECT_EQ(error_from([&] { connect_fanout(shm_transport(), ChannelConfig{name, 64, WaitKind::Uds}, 0); }).code(),
            Errc::InvalidArgument);
}

}  // namespace
}  // namespace ipcmark
