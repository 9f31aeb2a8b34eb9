// The zmq, zmq-tcp and mq transports in one process: server and client in two threads, or a
// fork()ed child where a peer must die. Every test uses its own channel name and leaves nothing
// in the private runtime dir or in the message-queue namespace.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/errors.hpp"
#include "transports/mq/mq.hpp"
#include "transports/names.hpp"
#include "transports/zmq/zmq.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;

constexpr auto kPatience = 20s;  // deadlines that must never be reached in a passing test

std::string unique_name() { return testing::unique_name(); }

using testing::error_from;

Deadline in(Clock::duration d) { return Clock::now() + d; }

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
  std::vector<std::byte> v(size);
  for (std::size_t i = 0; i < size; ++i) v[i] = std::byte(static_cast<unsigned char>(i * 7 + seed * 13 + size));
  return v;
}

bool mq_exists(const std::string& name) {
  const mqd_t q = ::mq_open(name.c_str(), O_RDONLY);
  if (q == mqd_t(-1)) return false;
  ::mq_close(q);
  return true;
}

// Which transport, and where its names live.
struct Case {
  const Transport& (*transport)();
  std::string label;
  std::vector<std::string> suffixes;  // channel + suffix: files in the private dir, or "/"-queues
  bool is_mq;
};

std::string name_of(const Case& c, const std::string& channel, const std::string& suffix) {
  return c.is_mq ? "/" + channel + suffix : private_runtime_dir() + "/" + channel + suffix;
}

bool name_exists(const Case& c, const std::string& channel, const std::string& suffix) {
  const std::string name = name_of(c, channel, suffix);
  return c.is_mq ? mq_exists(name) : std::filesystem::exists(std::filesystem::symlink_status(name));
}

class ZmqMqTransport : public ::testing::TestWithParam<Case> {
 protected:
  const Transport& transport() const { return GetParam().transport(); }
  std::size_t tested_max() const { return std::min<std::size_t>(transport().max_message, 1 << 20); }
  ChannelConfig config(std::size_t max_message = 0) const {
    return ChannelConfig{channel_, max_message ? max_message : tested_max(), WaitKind::Block};
  }
  std::vector<std::string> leftovers() const {
    std::vector<std::string> left;
    for (const std::string& suffix : GetParam().suffixes)
      if (name_exists(GetParam(), channel_, suffix)) left.push_back(name_of(GetParam(), channel_, suffix));
    return left;
  }
  void TearDown() override {
    EXPECT_EQ(leftovers(), std::vector<std::string>{}) << "the test left names behind";
    transport().channel.remove(channel_);
  }

  // Serves and connects in two threads; returns {server, client}, both accepted.
  std::pair<std::unique_ptr<Connection>, std::unique_ptr<Connection>> open_pair(std::size_t max_message = 0) {
    auto server = transport().channel.serve(config(max_message));
    std::unique_ptr<Connection> client;
    std::exception_ptr client_error;
    std::thread t([&] {
      try {
        client = transport().channel.connect(config(max_message));
        client->accept(in(kPatience));
      } catch (...) {
        client_error = std::current_exception();
      }
    });
    server->accept(in(kPatience));
    t.join();
    if (client_error) std::rethrow_exception(client_error);
    return {std::move(server), std::move(client)};
  }

  const std::string channel_ = unique_name();
};

TEST_P(ZmqMqTransport, ConnectingToAMissingChannelFailsWithDoesNotExistAtOnce) {
  const Error e = error_from([&] { transport().channel.connect(config()); });
  EXPECT_EQ(e.code(), Errc::DoesNotExist);
  EXPECT_EQ(std::string(e.what()), std::string(transport().name) + " channel '" + channel_ +
                                       "' does not exist (is the server running?)");
}

TEST_P(ZmqMqTransport, ServingAChannelTwiceFailsWithAlreadyExistsNamingTheName) {
  auto first = transport().channel.serve(config());
  const Error e = error_from([&] { transport().channel.serve(config()); });
  EXPECT_EQ(e.code(), Errc::AlreadyExists);
  EXPECT_EQ(std::string(e.what()), std::string(transport().name) + " channel '" + channel_ + "' already exists (" +
                                       name_of(GetParam(), channel_, GetParam().suffixes[0]) +
                                       "); another server is running, or a crashed one left it: pass --replace "
                                       "or run `ipcmark clean --channel " + channel_ + "`");
  first.reset();
  EXPECT_EQ(leftovers(), std::vector<std::string>{}) << "the failed second serve must not remove the first's names";
}

TEST_P(ZmqMqTransport, MessagesOfOneByteMidSizeAndMaxRoundTripWholeInOrderBothWays) {
  const std::size_t max = tested_max();
  const std::vector<std::size_t> sizes{1, max / 3 + 1, max, 1, max, max / 3 + 1, 2, max - 1};
  auto [server, client] = open_pair();

  // The server echoes every message back; the client checks both what it got and that the
  // server saw the same bytes (the echo is of what arrived).
  std::exception_ptr server_error;
  std::thread echo([&, &srv = server] {
    try {
      std::vector<std::byte> buffer(max);
      for (unsigned seq = 0; seq < sizes.size(); ++seq) {
        const std::size_t n = srv->receive(buffer, in(kPatience));
        ASSERT_EQ(n, sizes[seq]) << "message " << seq;
        ASSERT_EQ(std::vector<std::byte>(buffer.begin(), buffer.begin() + n), pattern(n, seq)) << "message " << seq;
        srv->send(std::span(buffer).first(n), in(kPatience));
      }
    } catch (...) {
      server_error = std::current_exception();
    }
  });
  std::vector<std::byte> buffer(max);
  for (unsigned seq = 0; seq < sizes.size(); ++seq) {
    const auto message = pattern(sizes[seq], seq);
    client->send(message, in(kPatience));
    const std::size_t n = client->receive(buffer, in(kPatience));
    ASSERT_EQ(n, sizes[seq]) << "echo " << seq;
    ASSERT_EQ(std::vector<std::byte>(buffer.begin(), buffer.begin() + n), message) << "echo " << seq;
  }
  echo.join();
  if (server_error) std::rethrow_exception(server_error);
}

TEST_P(ZmqMqTransport, AStreamOfManyMessagesArrivesInOrderExactlyOnceUnderBackPressure) {
  constexpr unsigned kCount = 2000;
  auto [server, client] = open_pair(4096);
  std::thread producer([&, &srv = server] {
    for (unsigned seq = 0; seq < kCount; ++seq) srv->send(pattern(1 + seq % 4096, seq), in(kPatience));
  });
  std::vector<std::byte> buffer(4096);
  for (unsigned seq = 0; seq < kCount; ++seq) {
    const std::size_t n = client->receive(buffer, in(kPatience));
    ASSERT_EQ(n, 1 + seq % 4096u);
    ASSERT_EQ(std::vector<std::byte>(buffer.begin(), buffer.begin() + n), pattern(n, seq)) << "message " << seq;
  }
  producer.join();
  EXPECT_EQ(error_from([&] { client->receive(buffer, in(30ms)); }).code(), Errc::Timeout) << "nothing extra";
}

TEST_P(ZmqMqTransport, AMessageOfZeroBytesOrOverMaxMessageIsRefusedWithMessageTooLarge) {
  auto [server, client] = open_pair(1000);
  const std::vector<std::byte> big(1001);
  EXPECT_EQ(error_from([&] { client->send(big, in(kPatience)); }).code(), Errc::MessageTooLarge);
  EXPECT_EQ(error_from([&] { server->send(big, in(kPatience)); }).code(), Errc::MessageTooLarge);
  EXPECT_EQ(error_from([&] { client->send({}, in(kPatience)); }).code(), Errc::MessageTooLarge);
  // Nothing was sent: the next message is the first one the server sees.
  client->send(pattern(1000, 1), in(kPatience));
  std::vector<std::byte> buffer(1000);
  ASSERT_EQ(server->receive(buffer, in(kPatience)), 1000u);
  EXPECT_EQ(buffer, pattern(1000, 1));
}

TEST_P(ZmqMqTransport, AChannelBiggerThanTheTransportMaxIsRefusedAtServe) {
  const Error e = error_from([&] { transport().channel.serve(config(transport().max_message + 1)); });
  EXPECT_EQ(e.code(), Errc::MessageTooLarge);
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

TEST_P(ZmqMqTransport, ReceivingWhenNothingIsSentTimesOutAtTheDeadline) {
  auto [server, client] = open_pair();
  std::vector<std::byte> buffer(tested_max());
  EXPECT_EQ(error_from([&] { server->receive(buffer, in(30ms)); }).code(), Errc::Timeout);
  EXPECT_EQ(error_from([&] { client->receive(buffer, in(30ms)); }).code(), Errc::Timeout);
}

TEST_P(ZmqMqTransport, AcceptWithNoClientTimesOutAtTheDeadline) {
  auto server = transport().channel.serve(config());
  EXPECT_EQ(error_from([&] { server->accept(in(30ms)); }).code(), Errc::Timeout);
}

TEST_P(ZmqMqTransport, AClientProcessThatDiesMidStreamMakesTheServerFailWithPeerGone) {
  // Forked before the server exists: a child of a process with ZeroMQ's threads running could
  // inherit a lock one of them held (an ASan build's allocator hung here once in CI).
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child owns nothing of the parent's: a fresh connection, then death without goodbye
    // (_exit skips destructors, so an mq client sends no bye either).
    ::close(go[1]);
    char c;
    if (::read(go[0], &c, 1) != 1) ::_exit(2);
    try {
      auto client = transport().channel.connect(config(64));
      client->accept(in(kPatience));
      for (unsigned seq = 0; seq < 3; ++seq) client->send(pattern(64, seq), in(kPatience));
      std::vector<std::byte> buffer(64);
      client->receive(buffer, in(kPatience));  // the server's go-ahead: die only after it read all 3
      ::_exit(0);
    } catch (...) {
      ::_exit(1);
    }
  }
  ::close(go[0]);
  auto server = transport().channel.serve(config(64));
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  ::close(go[1]);
  server->accept(in(kPatience));
  std::vector<std::byte> buffer(64);
  for (unsigned seq = 0; seq < 3; ++seq) {
    ASSERT_EQ(server->receive(buffer, in(kPatience)), 64u);
    EXPECT_EQ(buffer, pattern(64, seq));
  }
  server->send(pattern(1, 0), in(kPatience));
  // Not reaped yet: the child is a zombie for a while, and that must count as gone too.
  const Error e = error_from([&] { server->receive(buffer, in(kPatience)); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_P(ZmqMqTransport, AServerProcessThatDiesMakesTheWaitingClientFailWithPeerGone) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    try {
      auto server = transport().channel.serve(config(64));
      const char go = 1;
      if (::write(ready[1], &go, 1) != 1) ::_exit(2);
      server->accept(in(kPatience));
      server->send(pattern(64, 0), in(kPatience));
      std::vector<std::byte> buffer(64);
      server->receive(buffer, in(kPatience));  // the client's go-ahead: it has the message
      ::_exit(0);  // dies without its destructor: the names stay, as after a crash
    } catch (...) {
      ::_exit(1);
    }
  }
  ::close(ready[1]);
  char go = 0;
  ASSERT_EQ(::read(ready[0], &go, 1), 1);
  ::close(ready[0]);
  auto client = transport().channel.connect(config(64));
  client->accept(in(kPatience));
  std::vector<std::byte> buffer(64);
  ASSERT_EQ(client->receive(buffer, in(kPatience)), 64u);
  EXPECT_EQ(buffer, pattern(64, 0));
  client->send(pattern(1, 0), in(kPatience));
  const Error e = error_from([&] { client->receive(buffer, in(kPatience)); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  client.reset();
  EXPECT_FALSE(leftovers().empty()) << "a crashed server leaves its names";
  transport().channel.remove(channel_);
  EXPECT_EQ(leftovers(), std::vector<std::string>{}) << "remove() cleans up after a crash";
}

TEST_P(ZmqMqTransport, DestroyingTheServerRemovesItsNames) {
  auto [server, client] = open_pair();
  EXPECT_TRUE(name_exists(GetParam(), channel_, GetParam().suffixes[0]));
  server.reset();
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
  client.reset();
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

TEST_P(ZmqMqTransport, RemoveIsQuietWhenThereIsNothingToRemove) {
  transport().channel.remove(channel_);
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

std::atomic<bool> g_stop{false};
bool stop_requested() { return g_stop.load(); }

TEST_P(ZmqMqTransport, PublishThenFetchRoundTripsTheMessageToEveryReader) {
  const std::string text = "The world is going down.";
  g_stop = false;
  auto publication = transport().seed.publish(channel_, 64, std::as_bytes(std::span(text)), false);
  std::thread serving([&] { publication->serve_readers(&stop_requested); });
  EXPECT_EQ(transport().seed.fetch(channel_, in(kPatience)), text);
  EXPECT_EQ(transport().seed.fetch(channel_, in(kPatience)), text);
  EXPECT_EQ(error_from([&] { transport().seed.publish(channel_, 64, std::as_bytes(std::span(text)), false); }).code(),
            Errc::AlreadyExists);
  g_stop = true;
  serving.join();
  publication.reset();
  EXPECT_EQ(error_from([&] { transport().seed.fetch(channel_, in(kPatience)); }).code(), Errc::DoesNotExist);
}

TEST_P(ZmqMqTransport, PublishWithReplaceTakesOverALeftoverName) {
  const std::string text = "The world is going down.";
  auto stale = transport().seed.publish(channel_, 64, std::as_bytes(std::span(text)), false);
  auto replacement = transport().seed.publish(channel_, 64, std::as_bytes(std::span(text)), true);
  g_stop = false;
  std::thread serving([&] { replacement->serve_readers(&stop_requested); });
  EXPECT_EQ(transport().seed.fetch(channel_, in(kPatience)), text);
  g_stop = true;
  serving.join();
  stale.reset();
  replacement.reset();
}

TEST_P(ZmqMqTransport, FetchingFromAMissingChannelFailsWithDoesNotExistAtOnce) {
  const Error e = error_from([&] { transport().seed.fetch(channel_, in(kPatience)); });
  EXPECT_EQ(e.code(), Errc::DoesNotExist);
  EXPECT_EQ(std::string(e.what()), std::string(transport().name) + " channel '" + channel_ +
                                       "' does not exist (is the server running?)");
}

INSTANTIATE_TEST_SUITE_P(
    Transports, ZmqMqTransport,
    ::testing::Values(Case{&zmq_transport, "Zmq", {".zmq", ".zmq-news"}, false},
                      Case{&zmq_tcp_transport, "ZmqTcp", {".zmqtcp", ".zmqtcp-news"}, false},
                      Case{&mq_transport, "Mq", {".s2c", ".c2s", ".news"}, true}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.label; });

// ---- transport-specific -----------------------------------------------------------------------

TEST(MqTransport, MaxMessageIsTheKernelLimitFromProc) {
  std::ifstream in("/proc/sys/fs/mqueue/msgsize_max");
  std::size_t limit = 0;
  ASSERT_TRUE(in >> limit);
  EXPECT_EQ(mq_transport().max_message, limit);
  const std::string channel = unique_name();
  const Error e = error_from([&] { mq_transport().channel.serve(ChannelConfig{channel, limit + 1, WaitKind::Block}); });
  EXPECT_EQ(e.code(), Errc::MessageTooLarge);
  EXPECT_EQ(std::string(e.what()),
            "mq messages are limited to " + std::to_string(limit) + " bytes (/proc/sys/fs/mqueue/msgsize_max)");
}

TEST(MqTransport, AClientThatClosesMidStreamMakesTheServerFailWithPeerGoneAfterTheLastMessage) {
  const std::string channel = unique_name();
  const ChannelConfig config{channel, 16, WaitKind::Block};
  auto server = mq_transport().channel.serve(config);
  std::thread client_thread([&] {
    auto client = mq_transport().channel.connect(config);
    client->accept(in(kPatience));
    client->send(pattern(16, 1), in(kPatience));
    client->send(pattern(1, 2), in(kPatience));
  });  // the client's destructor says goodbye behind its messages
  server->accept(in(kPatience));
  client_thread.join();
  std::vector<std::byte> buffer(16);
  ASSERT_EQ(server->receive(buffer, in(kPatience)), 16u);
  EXPECT_EQ(buffer, pattern(16, 1));
  ASSERT_EQ(server->receive(buffer, in(kPatience)), 1u);
  EXPECT_EQ(buffer[0], pattern(1, 2)[0]);
  EXPECT_EQ(error_from([&] { server->receive(buffer, in(kPatience)); }).code(), Errc::PeerGone);
  server.reset();
  EXPECT_FALSE(mq_exists("/" + channel + ".s2c"));
  EXPECT_FALSE(mq_exists("/" + channel + ".c2s"));
}

TEST(MqTransport, OneByteChannelsStillHandshakeAndCarryOneByteMessages) {
  const std::string channel = unique_name();
  const ChannelConfig config{channel, 1, WaitKind::Block};
  auto server = mq_transport().channel.serve(config);
  std::unique_ptr<Connection> client;
  std::thread t([&] {
    client = mq_transport().channel.connect(config);
    client->accept(in(kPatience));
  });
  server->accept(in(kPatience));
  t.join();
  const std::byte one{0x5A};
  client->send(std::span(&one, 1), in(kPatience));
  std::byte got{};
  ASSERT_EQ(server->receive(std::span(&got, 1), in(kPatience)), 1u);
  EXPECT_EQ(got, one);
}

TEST(ZmqTcpTransport, APortFileWithoutAPortIsCorrupt) {
  const std::string channel = unique_name();
  const std::string path = private_runtime_dir() + "/" + channel + ".zmqtcp";
  for (const char* content : {"0\n", "65536\n", "http\n", "12x\n"}) {
    std::ofstream(path) << content;
    const Error e =
        error_from([&] { zmq_tcp_transport().channel.connect(ChannelConfig{channel, 64, WaitKind::Block}); });
    EXPECT_EQ(e.code(), Errc::Corrupt) << content;
  }
  zmq_tcp_transport().channel.remove(channel);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ZmqTransport, TooLongAChannelNameForAUnixSocketPathIsRefused) {
  const std::string channel = unique_name() + std::string(150, 'x');
  const Error e = error_from([&] { zmq_transport().channel.serve(ChannelConfig{channel, 64, WaitKind::Block}); });
  EXPECT_EQ(e.code(), Errc::InvalidArgument) << e.what();
}

}  // namespace
}  // namespace ipcmark
