// The Asio socket transports (unix, unix-dgram, tcp) in-process: the server in one thread,
// the client in another, every byte checked. No timing assertions.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/channels.hpp"
#include "transports/common/fd.hpp"
#include "transports/names.hpp"
#include "transports/tcp/tcp.hpp"
#include "transports/unix/unix.hpp"
#include "transports/unix_dgram/unix_dgram.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;

std::string unique_channel() { return testing::unique_name(); }

Deadline soon() { return Clock::now() + 20s; }

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::byte pattern(std::uint64_t seq, std::size_t i) {
  return std::byte(static_cast<unsigned char>(seq * 131 + i * 7 + (i >> 8) + 1));
}

void fill(std::span<std::byte> bytes, std::uint64_t seq) {
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = pattern(seq, i);
}

// Where the transport keeps the channel's name.
std::string name_file(const Transport& t, const std::string& channel) {
  const std::string suffix = t.name == "unix" ? ".sock" : t.name == "tcp" ? ".tcp" : ".seqpacket";
  return private_runtime_dir() + "/" + channel + suffix;
}

Errc code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no ipcmark::Error was thrown";
  return Errc::System;
}

std::atomic<bool> g_stop{false};
bool stop_requested() { return g_stop.load(); }

class AsioTransportTest : public ::testing::TestWithParam<const Transport*> {
 protected:
  const Transport& t() const { return *GetParam(); }
  ChannelConfig config() const { return ChannelConfig{channel_, t().max_message, WaitKind::Block}; }
  void TearDown() override {
    t().channel.remove(channel_);
    EXPECT_FALSE(exists(name_file(t(), channel_))) << "left " << name_file(t(), channel_) << " behind";
  }

  // A connected pair: both sides accepted.
  std::pair<std::unique_ptr<Connection>, std::unique_ptr<Connection>> open_pair() {
    auto server = t().channel.serve(config());
    auto client = t().channel.connect(config());
    server->accept(soon());
    client->accept(soon());
    return {std::move(server), std::move(client)};
  }

  // The sizes of message `seq`: mostly 1 and 4096, every `every`-th max_message.
  std::size_t size_of(std::uint64_t seq, std::uint64_t every) const {
    if (seq % every == every - 1) return t().max_message;
    return seq % 2 == 0 ? 1 : 4096;
  }

  // Sends `count` messages from `sender` (in its own thread) and checks each at `receiver`.
  void exchange(Connection& sender, Connection& receiver, std::uint64_t count) {
    const std::uint64_t every = std::clamp<std::uint64_t>(count * t().max_message / (64 << 20), 2, 500);
    std::exception_ptr failure;
    std::thread writer([&] {
      try {
        std::vector<std::byte> message(t().max_message);
        for (std::uint64_t seq = 0; seq < count; ++seq) {
          const auto bytes = std::span(message).first(size_of(seq, every));
          fill(bytes, seq);
          sender.send(bytes, soon());
        }
      } catch (...) {
        failure = std::current_exception();
      }
    });
    std::vector<std::byte> buffer(t().max_message);
    std::uint64_t max_seen = 0;
    for (std::uint64_t seq = 0; seq < count && !failure; ++seq) {
      std::size_t n = 0;
      try {
        n = receiver.receive(buffer, soon());
      } catch (...) {
        writer.join();
        throw;
      }
      ASSERT_EQ(n, size_of(seq, every)) << "message " << seq;
      if (n == t().max_message) ++max_seen;
      for (std::size_t i = 0; i < n; ++i)
        if (buffer[i] != pattern(seq, i)) {
          writer.join();
          FAIL() << "message " << seq << " differs at byte " << i;
        }
    }
    writer.join();
    if (failure) std::rethrow_exception(failure);
    EXPECT_GE(max_seen, 2u);
  }

  std::string channel_ = unique_channel();
};

TEST_P(AsioTransportTest, ConnectingToAMissingChannelFailsWithDoesNotExist) {
  EXPECT_EQ(code_of([&] { t().channel.connect(config()); }), Errc::DoesNotExist);
  EXPECT_EQ(code_of([&] { t().seed.fetch(channel_, soon()); }), Errc::DoesNotExist);
}

TEST_P(AsioTransportTest, ServingAChannelTwiceFailsWithAlreadyExists) {
  auto server = t().channel.serve(config());
  try {
    t().channel.serve(config());
    FAIL() << "the second serve() succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::AlreadyExists);
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
  // The failed attempt must not have removed the first server's name.
  EXPECT_TRUE(exists(name_file(t(), channel_)));
  auto client = t().channel.connect(config());
  server->accept(soon());
}

TEST_P(AsioTransportTest, AStaleChannelWithNoServerListeningIsDoesNotExist) {
  // A crashed server leaves its name but nobody listens behind it.
  UniqueFd leftover;
  if (t().name == "tcp") {
    leftover = UniqueFd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ASSERT_EQ(::bind(leftover.get(), reinterpret_cast<sockaddr*>(&address), length), 0);  // bound, not listening
    ASSERT_EQ(::getsockname(leftover.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
    std::ofstream(name_file(t(), channel_)) << ntohs(address.sin_port) << "\n";
  } else {
    leftover = UniqueFd(::socket(AF_UNIX, t().name == "unix" ? SOCK_STREAM : SOCK_SEQPACKET, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, name_file(t(), channel_).c_str());
    ASSERT_EQ(::bind(leftover.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  }
  EXPECT_EQ(code_of([&] { t().channel.connect(config()); }), Errc::DoesNotExist);
  EXPECT_EQ(code_of([&] { t().channel.serve(config()); }), Errc::AlreadyExists);
  t().channel.remove(channel_);
  EXPECT_FALSE(exists(name_file(t(), channel_)));
  t().channel.remove(channel_);  // nothing left: still no error
}

TEST_P(AsioTransportTest, MessagesFromServerToClientArriveWholeAndInOrder) {
  auto [server, client] = open_pair();
  exchange(*server, *client, 3000);
}

TEST_P(AsioTransportTest, MessagesFromClientToServerArriveWholeAndInOrder) {
  auto [server, client] = open_pair();
  exchange(*client, *server, 3000);
}

TEST_P(AsioTransportTest, AMessageAboveMaxMessageOrEmptyIsRefusedBeforeAnythingIsSent) {
  auto [server, client] = open_pair();
  std::vector<std::byte> big(t().max_message + 1, std::byte{7});
  EXPECT_EQ(code_of([&] { client->send(big, soon()); }), Errc::MessageTooLarge);
  EXPECT_EQ(code_of([&] { server->send(big, soon()); }), Errc::MessageTooLarge);
  EXPECT_EQ(code_of([&] { client->send({}, soon()); }), Errc::MessageTooLarge);
  // Nothing went out: the next message is the first one the peer sees.
  const std::byte one{42};
  client->send(std::span(&one, 1), soon());
  std::vector<std::byte> buffer(t().max_message);
  ASSERT_EQ(server->receive(buffer, soon()), 1u);
  EXPECT_EQ(buffer[0], one);
}

TEST_P(AsioTransportTest, AChannelAboveTheTransportLimitIsRefusedWithMessageTooLarge) {
  ChannelConfig too_big = config();
  too_big.max_message = t().max_message + 1;
  EXPECT_EQ(code_of([&] { t().channel.serve(too_big); }), Errc::MessageTooLarge);
  EXPECT_FALSE(exists(name_file(t(), channel_)));
}

TEST_P(AsioTransportTest, ReceivingAfterTheServerClosesMidStreamDeliversTheRestThenPeerGone) {
  auto [server, client] = open_pair();
  std::vector<std::byte> message(4096);
  for (std::uint64_t seq = 0; seq < 10; ++seq) {
    fill(message, seq);
    server->send(message, soon());
  }
  server.reset();
  std::vector<std::byte> buffer(t().max_message);
  for (std::uint64_t seq = 0; seq < 10; ++seq) {
    ASSERT_EQ(client->receive(buffer, soon()), message.size());
    for (std::size_t i = 0; i < message.size(); ++i) ASSERT_EQ(buffer[i], pattern(seq, i));
  }
  EXPECT_EQ(code_of([&] { client->receive(buffer, soon()); }), Errc::PeerGone);
}

TEST_P(AsioTransportTest, SendingAfterTheClientClosesIsPeerGone) {
  auto [server, client] = open_pair();
  client.reset();
  std::vector<std::byte> message(4096, std::byte{1});
  // TCP may take the first write before the peer's reset comes back; it never takes many.
  Errc code = Errc::System;
  for (int i = 0; i < 1000 && code == Errc::System; ++i) {
    try {
      server->send(message, soon());
    } catch (const Error& e) {
      code = e.code();
    }
  }
  EXPECT_EQ(code, Errc::PeerGone);
  std::vector<std::byte> buffer(t().max_message);
  EXPECT_EQ(code_of([&] { server->receive(buffer, soon()); }), Errc::PeerGone);
}

TEST_P(AsioTransportTest, WaitsEndWithTimeoutAtTheirDeadline) {
  auto server = t().channel.serve(config());
  EXPECT_EQ(code_of([&] { server->accept(Clock::now() + 20ms); }), Errc::Timeout);
  auto client = t().channel.connect(config());
  server->accept(soon());
  client->accept(soon());
  std::vector<std::byte> buffer(t().max_message);
  EXPECT_EQ(code_of([&] { client->receive(buffer, Clock::now() + 20ms); }), Errc::Timeout);
}

TEST_P(AsioTransportTest, DestroyingTheServerRemovesTheChannelFile) {
  {
    auto [server, client] = open_pair();
    EXPECT_TRUE(exists(name_file(t(), channel_)));
  }
  EXPECT_FALSE(exists(name_file(t(), channel_)));
  {
    auto server = t().channel.serve(config());  // never accepted
    EXPECT_TRUE(exists(name_file(t(), channel_)));
  }
  EXPECT_FALSE(exists(name_file(t(), channel_)));
}

TEST_P(AsioTransportTest, PublishAndFetchRoundTripTheMessage) {
  const std::string text = "The world is going down.";
  const auto bytes = std::as_bytes(std::span(text));
  {
    auto publication = t().seed.publish(channel_, 64, bytes, false);
    EXPECT_EQ(code_of([&] { t().seed.publish(channel_, 64, bytes, false); }), Errc::AlreadyExists);
    g_stop = false;
    std::thread server([&] { publication->serve_readers(&stop_requested); });
    std::string first, second;
    try {
      first = t().seed.fetch(channel_, soon());
      second = t().seed.fetch(channel_, soon());
    } catch (...) {
      g_stop = true;
      server.join();
      throw;
    }
    g_stop = true;
    server.join();
    EXPECT_EQ(first, text);
    EXPECT_EQ(second, text);
    // replace takes over the name of a publication that is still alive (or crashed).
    auto replacement = t().seed.publish(channel_, 64, bytes, true);
  }
  EXPECT_FALSE(exists(name_file(t(), channel_)));
}

INSTANTIATE_TEST_SUITE_P(AsioTransports, AsioTransportTest,
                         ::testing::Values(&unix_transport(), &unix_dgram_transport(), &tcp_transport()),
                         [](const ::testing::TestParamInfo<const Transport*>& info) {
                           std::string name(info.param->name);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(AsioTcpTransport, APortFileWithoutAValidPortIsCorrupt) {
  const std::string channel = unique_channel();
  const std::string path = private_runtime_dir() + "/" + channel + ".tcp";
  for (const char* content : {"", "0\n", "65536\n", "80x\n", "-1\n"}) {
    std::ofstream(path) << content;
    EXPECT_EQ(code_of([&] { tcp_transport().channel.connect(ChannelConfig{channel, 64, WaitKind::Block}); }),
              Errc::Corrupt)
        << "port file '" << content << "'";
  }
  tcp_transport().channel.remove(channel);
  EXPECT_FALSE(exists(path));
}

TEST(AsioUnixDgramTransport, APacketLargerThanTheReceiveBufferIsCorruptNotTruncated) {
  const std::string channel = unique_channel();
  const ChannelConfig config{channel, 4096, WaitKind::Block};
  auto server = unix_dgram_transport().channel.serve(config);
  auto client = unix_dgram_transport().channel.connect(config);
  server->accept(soon());
  std::vector<std::byte> message(4096, std::byte{3});
  client->send(message, soon());
  std::vector<std::byte> small(100);
  EXPECT_EQ(code_of([&] { server->receive(small, soon()); }), Errc::Corrupt);
}

}  // namespace
}  // namespace ipcmark
