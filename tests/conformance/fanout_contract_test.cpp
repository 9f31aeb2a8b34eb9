// The fanout contract (FanoutWriter in transports/transport.hpp) over every transport in
// the registry, native (shm, zmq) or generic (one channel per reader): readers are fork()ed
// processes, forked before the writer exists so that they inherit no transport state.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/processes.hpp"
#include "transports/fanout.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using namespace testing;  // tests/support: ClientProcess, leftovers, unique_channel, pattern_byte, ...

class FanoutContract : public ::testing::TestWithParam<const Transport*> {
 protected:
  // As in `ipcmark`: a reader that vanished is EPIPE on a pipe, not a killed test.
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }
  const Transport& transport() const { return *GetParam(); }
  ChannelConfig config(std::size_t max_message) const { return {channel_, max_message, WaitKind::Block}; }
  FanoutConfig fanout(std::size_t max_message, int readers) const { return {config(max_message), readers, false}; }
  void TearDown() override { remove_fanout(transport(), channel_); }

  // Message m of a stream: its size cycles through `sizes`, every byte depends on m.
  static std::size_t size_of(std::size_t m, const std::vector<std::size_t>& sizes) { return sizes[m % sizes.size()]; }

  // A reader process: receives `count` messages and checks each byte; with `die_after`,
  // kills itself (SIGKILL, nothing closed) after that many.
  ClientProcess reader(int index, std::size_t count, std::vector<std::size_t> sizes, std::size_t die_after = SIZE_MAX) {
    return ClientProcess([=, this] {
      const std::size_t max = *std::max_element(sizes.begin(), sizes.end());
      auto c = connect_fanout(transport(), config(max), index);
      const Deadline deadline = Clock::now() + 60s;
      c->accept(deadline);
      std::vector<std::byte> buffer(max);
      for (std::size_t m = 0; m < count; ++m) {
        if (m == die_after) ::kill(::getpid(), SIGKILL);
        const std::size_t n = c->receive(buffer, deadline);
        if (n != size_of(m, sizes)) return 10;
        for (std::size_t i = 0; i < n; ++i)
          if (buffer[i] != pattern_byte(m, i)) return 11;
      }
      return 0;
    });
  }

  static void send_all(FanoutWriter& writer, std::size_t count, const std::vector<std::size_t>& sizes, Deadline deadline) {
    std::vector<std::byte> message(*std::max_element(sizes.begin(), sizes.end()));
    for (std::size_t m = 0; m < count; ++m) {
      const std::size_t n = size_of(m, sizes);
      for (std::size_t i = 0; i < n; ++i) message[i] = pattern_byte(m, i);
      writer.send(std::span(message).first(n), deadline);
    }
  }

  std::string channel_ = unique_channel();
};

TEST_P(FanoutContract, EveryReaderGetsEveryMessageWholeAndInOrder) {
  const std::vector<std::size_t> sizes{1, 100, std::min<std::size_t>(4096, transport().max_message)};
  constexpr std::size_t kMessages = 3000;
  std::vector<ClientProcess> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(reader(i, kMessages, sizes));
  auto writer = serve_fanout(transport(), fanout(sizes.back(), 3));
  for (ClientProcess& r : readers) r.start();
  const Deadline deadline = Clock::now() + 60s;
  writer->accept(deadline);
  send_all(*writer, kMessages, sizes, deadline);
  for (ClientProcess& r : readers) EXPECT_EQ(r.wait(), 0);  // the writer stays until they are done
  EXPECT_EQ(writer->readers_lost(), 0);
}

TEST_P(FanoutContract, AReaderKilledMidStreamStopsNeitherTheOthersNorTheWriter) {
  // 1 KiB × 8000: more than any transport buffers for one reader (shm's 1 MiB ring, socket
  // buffers, mq's queue, zmq's high-water mark), so the writer must get past the dead one.
  const std::vector<std::size_t> sizes{1024};
  constexpr std::size_t kMessages = 8000;
  std::vector<ClientProcess> readers;
  readers.push_back(reader(0, kMessages, sizes));
  readers.push_back(reader(1, kMessages, sizes, /*die_after=*/100));
  readers.push_back(reader(2, kMessages, sizes));
  auto writer = serve_fanout(transport(), fanout(1024, 3));
  for (ClientProcess& r : readers) r.start();
  const Deadline deadline = Clock::now() + 60s;
  writer->accept(deadline);
  ASSERT_NO_THROW(send_all(*writer, kMessages, sizes, deadline));
  EXPECT_EQ(readers[0].wait(), 0);
  EXPECT_EQ(readers[1].wait(), -SIGKILL);
  EXPECT_EQ(readers[2].wait(), 0);
  EXPECT_EQ(writer->readers_lost(), 1);
}

TEST_P(FanoutContract, ServingTwiceIsAlreadyExistsAndAMissingChannelIsDoesNotExist) {
  try {
    connect_fanout(transport(), config(64), 0);
    FAIL() << "a reader joined a channel that does not exist";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::DoesNotExist) << e.what();
  }
  auto first = serve_fanout(transport(), fanout(64, 2));
  try {
    serve_fanout(transport(), fanout(64, 2));
    FAIL() << "served the same fanout channel twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::AlreadyExists) << e.what();
  }
}

TEST_P(FanoutContract, ReaderCountsOutsideOneToSixteenAreInvalid) {
  for (int readers : {0, -1, kMaxReaders + 1}) {
    try {
      serve_fanout(transport(), fanout(64, readers));
      FAIL() << readers << " readers accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::InvalidArgument) << e.what();
    }
  }
  EXPECT_EQ(leftovers(channel_), std::vector<std::string>{});
}

TEST_P(FanoutContract, TheWriterOnlySendsAndAReaderOnlyReceives) {
  ClientProcess one([&] {
    auto c = connect_fanout(transport(), config(64), 0);
    c->accept(Clock::now() + 30s);
    std::vector<std::byte> m(64);
    try {
      c->send(m, Clock::now() + 1s);
      return 20;
    } catch (const Error& e) {
      return e.code() == Errc::InvalidArgument ? 0 : 21;
    }
  });
  auto writer = serve_fanout(transport(), fanout(64, 1));
  one.start();
  writer->accept(Clock::now() + 30s);
  std::vector<std::byte> buffer(64);
  try {
    writer->receive(buffer, Clock::now() + 1s);
    FAIL() << "a fanout writer received";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::InvalidArgument) << e.what();
  }
  EXPECT_EQ(one.wait(), 0);
}

TEST_P(FanoutContract, NamesAreGoneAfterTheWriterAndAfterRemoveFanout) {
  IPCMARK_REQUIRE_NAME_LISTING(transport().name);
  // A writer that crashes (no destructor runs) leaves its names for remove_fanout.
  ClientProcess crashed([&] {
    auto writer = serve_fanout(transport(), fanout(64, 4));
    ::_exit(0);
    return 1;
  });
  {
    auto writer = serve_fanout(transport(), fanout(64, 4));
    EXPECT_NE(leftovers(channel_), std::vector<std::string>{});
  }
  EXPECT_EQ(leftovers(channel_), std::vector<std::string>{});
  crashed.start();
  ASSERT_EQ(crashed.wait(), 0);
  remove_fanout(transport(), channel_);
  EXPECT_EQ(leftovers(channel_), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(AllTransports, FanoutContract, ::testing::ValuesIn(all_transports()), transport_test_name);

}  // namespace
}  // namespace ipcmark
